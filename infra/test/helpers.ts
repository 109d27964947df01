// Shared by the tests: real config checks (the okta-connect binary), placeholder Lambda
// artifacts (no cargo-lambda build, no bundling) and small template readers.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BuildOptions, Built, buildApp } from '../lib/app';
import { Architecture, BINARIES, removedAtExit } from '../lib/artifacts';
import { REPO_ROOT } from '../lib/config';

export const INFRA = path.resolve(__dirname, '..');
export const REPO_CONFIG = path.join(REPO_ROOT, 'config.ini');
export const FIXTURES = path.join(__dirname, 'fixtures');

let bin: string | undefined;

/**
 * The okta-connect binary: OKTA_CONNECT_BIN, else built once with cargo (incremental:
 * seconds when scripts/test.sh's cargo steps ran before).
 */
export function oktaConnectBin(): string {
  if (bin) return bin;
  if (process.env.OKTA_CONNECT_BIN) return (bin = process.env.OKTA_CONNECT_BIN);
  const build = spawnSync('cargo', ['build', '-q', '--locked', '-p', 'okta-connect', '--message-format', 'json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (build.status !== 0) throw new Error(`cargo build -p okta-connect failed:\n${build.stderr}`);
  for (const line of build.stdout.split('\n')) {
    const msg = line.startsWith('{') ? JSON.parse(line) : undefined;
    if (msg?.reason === 'compiler-artifact' && msg.target?.name === 'okta-connect' && msg.executable) {
      return (bin = msg.executable as string);
    }
  }
  throw new Error('cargo build -p okta-connect printed no okta-connect executable');
}

/** Runs `okta-connect check-config FILE --json` and returns the JSON's path (a test fixture). */
export function checkConfigJson(file: string, env: NodeJS.ProcessEnv = {}): string {
  const run = spawnSync(oktaConnectBin(), ['check-config', file, '--json'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
  if (run.status !== 0) throw new Error(`check-config failed:\n${run.stderr}`);
  const out = path.join(tempDir('check-config-'), 'config.json');
  fs.writeFileSync(out, run.stdout);
  return out;
}

export function tempDir(prefix: string): string {
  return removedAtExit(fs.mkdtempSync(path.join(os.tmpdir(), `okta-connect-test-${prefix}`)));
}

/** What scripts/build-lambdas.sh leaves behind, with one-line shell scripts as binaries. */
export function placeholderLambdaDir(architecture: Architecture = 'arm64'): string {
  const dir = tempDir('lambda-');
  for (const name of Object.values(BINARIES)) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'bootstrap'), `#!/bin/sh\necho placeholder ${name}\n`, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ architecture }));
  return dir;
}

/** A config.ini in a fresh folder: the repository's, edited by `edit`. */
export function writeConfig(edit: (text: string) => string = (t) => t, extraFiles: Record<string, string> = {}): string {
  const dir = tempDir('config-');
  const file = path.join(dir, 'config.ini');
  fs.writeFileSync(file, edit(fs.readFileSync(REPO_CONFIG, 'utf8')));
  for (const [name, source] of Object.entries(extraFiles)) fs.copyFileSync(source, path.join(dir, name));
  return file;
}

/** The app for a config, checked by the real binary, with placeholder artifacts. */
export function build(options: BuildOptions = {}): Built & { template: Template } {
  const built = buildApp({
    app: new App(),
    configFile: REPO_CONFIG,
    bin: oktaConnectBin(),
    lambdaDir: placeholderLambdaDir(),
    env: {},
    ...options,
  });
  return { ...built, template: Template.fromStack(built.stack) };
}

/**
 * A template value with intrinsics written out: Fn::Join joined, Ref as ${Id},
 * Fn::GetAtt as ${Id.Attr}, so ARNs compare as plain strings.
 */
export function flat(value: unknown): any {
  if (Array.isArray(value)) return value.map(flat);
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as unknown[]).map(flat).join(v['Fn::Join'][0]);
    if ('Ref' in v) return `\${${v.Ref}}`;
    if ('Fn::GetAtt' in v) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flat(x)]));
  }
  return value;
}

export interface Statement {
  actions: string[];
  resources: string[];
}

/** Every Allow statement of the inline policies attached to a role, flattened and sorted. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(roleLogicalId)) continue;
    for (const s of policy.Properties.PolicyDocument.Statement) {
      if (s.Effect !== 'Allow') throw new Error(`unexpected ${s.Effect} statement`);
      out.push({
        actions: [s.Action].flat().sort(),
        resources: [flat(s.Resource)].flat().sort(),
      });
    }
  }
  return out.sort((a, b) => a.actions[0].localeCompare(b.actions[0]));
}

/** The single resource of a type, as [logicalId, resource]. */
export function only(template: Template, type: string, props?: Record<string, unknown>): [string, any] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}
