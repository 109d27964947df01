// `cdk synth` as an admin runs it: offline, no AWS credentials, the CLI pinned in package.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { BINARIES, DEFAULT_LAMBDA_DIR, readManifest } from '../lib/artifacts';
import { INFRA, REPO_CONFIG, oktaConnectBin, placeholderLambdaDir, tempDir, writeConfig } from './helpers';

const CDK = path.join(INFRA, 'node_modules', '.bin', 'cdk');

/** Runs the cdk CLI with no credentials and no network (a dead proxy). */
function cdk(args: string[], env: Record<string, string> = {}) {
  return spawnSync(CDK, args, {
    cwd: INFRA,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: tempDir('home-'), // no ~/.aws, no CLI caches
      AWS_EC2_METADATA_DISABLED: 'true',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      OKTA_CONNECT_BIN: oktaConnectBin(),
      OKTA_CONNECT_LAMBDA_DIR: placeholderLambdaDir(),
      ...env,
    },
  });
}

describe('cdk synth', () => {
  it('works offline without credentials and runs cdk-nag', () => {
    const out = tempDir('cdk-out-');
    const run = cdk(['synth', '--quiet', '--no-notices', '--output', out]);
    assert.equal(run.status, 0, run.stderr);
    const template = JSON.parse(fs.readFileSync(path.join(out, 'OktaConnect.template.json'), 'utf8'));
    const types = Object.values(template.Resources).map((r: any) => r.Type);
    for (const type of ['AWS::ApiGatewayV2::Api', 'AWS::Lambda::EventSourceMapping', 'AWS::DynamoDB::Table']) {
      assert.ok(types.includes(type), type);
    }
  });

  it('fails on an invalid config.ini with the checker’s key and line', () => {
    const file = writeConfig((t) => t.replace(/^BATCH_SIZE = 10 /m, 'BATCH_SIZE = 11 '));
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith('BATCH_SIZE = 11')) + 1;
    const run = cdk(['synth', '--quiet', '--no-notices', '--output', tempDir('cdk-out-'), '-c', `config=${file}`]);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, new RegExp(`\\[Deploy\\] BATCH_SIZE \\(line ${line}\\): "11" is not an allowed number`));
    assert.doesNotMatch(run.stderr, /at Object\.|node:internal/, 'the report, not a stack trace');
  });
});

// scripts/test.sh runs scripts/build-lambdas.sh first; elsewhere this is skipped.
const real = fs.existsSync(path.join(DEFAULT_LAMBDA_DIR, 'manifest.json'));
it('bundles the cargo-lambda binaries of scripts/build-lambdas.sh', { skip: !real && 'no infra/build/lambda (run scripts/build-lambdas.sh)' }, () => {
  const { architecture } = readManifest(DEFAULT_LAMBDA_DIR);
  const app = new App();
  const { stack } = buildApp({ app, configFile: REPO_CONFIG, bin: oktaConnectBin(), env: {}, nag: false });
  const outdir = app.synth().directory;
  const template = JSON.parse(fs.readFileSync(path.join(outdir, `${stack.stackName}.template.json`), 'utf8'));
  // ELF e_machine: 0xB7 aarch64, 0x3E x86-64.
  const machine = architecture === 'arm64' ? 0xb7 : 0x3e;
  for (const fn of Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::Lambda::Function') as any[]) {
    assert.deepEqual(fn.Properties.Architectures, [architecture]);
    // The S3 key is the asset's hash; cdk.out keeps the folder as asset.<hash>.
    const asset = path.join(outdir, `asset.${path.basename(fn.Properties.Code.S3Key, '.zip')}`);
    const bootstrap = fs.readFileSync(path.join(asset, 'bootstrap'));
    assert.deepEqual([...bootstrap.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'an ELF executable');
    assert.equal(bootstrap.readUInt16LE(18), machine);
    assert.ok(Object.values(BINARIES).some((b) => bootstrap.equals(fs.readFileSync(path.join(DEFAULT_LAMBDA_DIR, b, 'bootstrap')))));
    assert.equal(fs.readFileSync(path.join(asset, 'config.ini'), 'utf8'), fs.readFileSync(REPO_CONFIG, 'utf8'));
  }
});
