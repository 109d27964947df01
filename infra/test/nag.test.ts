// cdk-nag (AwsSolutions + Serverless): zero unacknowledged findings, every acknowledgement
// explained and still needed.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Acknowledgment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { BuildOptions } from '../lib/app';
import { FIXTURES, build, writeConfig } from './helpers';

interface Finding {
  rule: string;
  path: string;
  severity: string;
}

function findings(scope: IConstruct): Finding[] {
  const out: Finding[] = [];
  for (const pack of [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)]) {
    for (const v of pack.validateScope(scope).violations) {
      for (const r of v.violatingResources) out.push({ rule: v.ruleName, path: r.constructPath ?? '', severity: String(v.severity) });
    }
  }
  return out;
}

function acknowledgements(scope: IConstruct): { id: string; path: string; reason: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          path: c.node.path,
          reason,
        })),
      ),
  );
}

/** Builds with acknowledge() recording instead of acknowledging, to see the raw findings. */
function buildUnacknowledged(options: BuildOptions) {
  const recorded: { id: string; path: string }[] = [];
  const original = Validations.prototype.acknowledge;
  Validations.prototype.acknowledge = function (this: Validations, ...rules: Acknowledgment[]) {
    const scope = (this as unknown as { scope: IConstruct }).scope;
    for (const r of rules) recorded.push({ id: r.id, path: scope.node.path });
  };
  try {
    return { built: build({ ...options, nag: false }), recorded };
  } finally {
    Validations.prototype.acknowledge = original;
  }
}

const variants: [string, BuildOptions][] = [
  ['repository config.ini', {}],
  [
    'alarm email and SAML federation',
    {
      configFile: writeConfig(
        (t) =>
          t
            .replace(/^SAML_FEDERATION = false/m, 'SAML_FEDERATION = true')
            .replace(/^# SAML_METADATA_FILE = .*$/m, 'SAML_METADATA_FILE = okta-metadata.xml')
            .replace(/^# ALARM_EMAIL = .*$/m, 'ALARM_EMAIL = ops@example.com'),
        { 'okta-metadata.xml': path.join(FIXTURES, 'okta-idp-metadata.xml') },
      ),
    },
  ],
  [
    'no hierarchy groups, no Region, a stack-made no-permission profile',
    {
      env: {
        OKTA_CONNECT__MAPPING_SUPERVISORS__HIERARCHY_GROUP_ID: '',
        OKTA_CONNECT__CONNECT__REGION: '',
        OKTA_CONNECT__SYNC__NO_PERMISSION_SECURITY_PROFILE_ID: '',
      },
    },
  ],
  [
    '[OktaApi]: the Okta credential secret, the reconcile Lambda and its schedule, with alarm email',
    {
      env: {
        OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com',
        OKTA_CONNECT__OKTAAPI__CLIENT_ID: '0oa1serviceapp0000001',
        OKTA_CONNECT__DEPLOY__ALARM_EMAIL: 'ops@example.com',
      },
    },
  ],
  [
    '[OktaApi] with CREDENTIALS = secret:NAME, schedule disabled',
    {
      env: {
        OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com',
        OKTA_CONNECT__OKTAAPI__CREDENTIALS: 'secret:okta/token',
        OKTA_CONNECT__RECONCILE__SCHEDULE_ENABLED: 'false',
      },
    },
  ],
];

for (const [name, options] of variants) {
  describe(`cdk-nag on: ${name}`, () => {
    it('AwsSolutions and Serverless find nothing unacknowledged (errors or warnings)', () => {
      const { app } = build({ ...options, nag: false });
      assert.deepEqual(findings(app), []);
    });

    it('synthesizes with both packs registered as validation plugins', () => {
      const { app } = build(options);
      assert.doesNotThrow(() => app.synth());
    });

    it('every acknowledgement states its reason and matches a real finding at its scope', () => {
      const { app } = build({ ...options, nag: false });
      const acks = acknowledgements(app);
      assert.ok(acks.length > 0);
      for (const a of acks) assert.ok(a.reason.length >= 60, `${a.id} at ${a.path}: reason too thin`);

      const { built, recorded } = buildUnacknowledged(options);
      const raw = findings(built.app);
      const covers = (a: { id: string; path: string }, f: Finding) =>
        f.rule === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`));
      for (const f of raw) assert.ok(recorded.some((a) => covers(a, f)), `unacknowledged: ${f.rule} at ${f.path}`);
      for (const a of recorded) assert.ok(raw.some((f) => covers(a, f)), `stale acknowledgement: ${a.id} at ${a.path}`);
    });
  });
}

it('without its acknowledgements the stack fails synthesis', () => {
  const { app } = buildUnacknowledged({}).built;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  // The report goes to the console too: keep the test output readable.
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    assert.throws(() => app.synth({ force: true }), /Validation failed/);
  } finally {
    process.stderr.write = write;
  }
});
