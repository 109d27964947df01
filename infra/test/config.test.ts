// config.ini → synth: the Rust checker is the only judge, and the Lambdas get the same file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { BINARIES, CONFIG_PATH_IN_LAMBDA, readManifest, stageAssets } from '../lib/artifacts';
import { configOverrides, loadConfig, samlMetadataPath } from '../lib/config';
import { FIXTURES, REPO_CONFIG, build, checkConfigJson, oktaConnectBin, placeholderLambdaDir, tempDir, writeConfig } from './helpers';

describe('config.ini reaches the synth through okta-connect check-config', () => {
  let fixtureJson: string;
  before(() => {
    // The fixture is made by the real binary, so these tests follow the Rust contract.
    fixtureJson = checkConfigJson(REPO_CONFIG);
  });

  it('reads what check-config --json prints', () => {
    const loaded = loadConfig({ file: REPO_CONFIG, bin: oktaConnectBin(), env: {} });
    assert.deepEqual(loaded.config, JSON.parse(fs.readFileSync(fixtureJson, 'utf8')));
    assert.equal(loaded.file, REPO_CONFIG);
    assert.equal(loaded.config.instance_id, 'abcdefgh-0122-4131-adc2-a0ebe5a2b2a7');
    assert.equal(loaded.config.deploy.stack_name, 'OktaConnect');
  });

  it('accepts a pre-generated JSON instead of running the binary', () => {
    const loaded = loadConfig({ file: REPO_CONFIG, json: fixtureJson, bin: '/nonexistent/okta-connect', env: {} });
    assert.equal(loaded.config.deploy.batch_size, 10);
  });

  it('fails with the checker report, naming the key and its line', () => {
    const file = writeConfig((t) => t.replace(/^BATCH_SIZE = 10 /m, 'BATCH_SIZE = 11 '));
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith('BATCH_SIZE = 11')) + 1;
    assert.throws(
      () => loadConfig({ file, bin: oktaConnectBin(), env: {} }),
      (e: Error) => {
        assert.match(e.message, /check-config rejected/);
        assert.match(e.message, new RegExp(`\\[Deploy\\] BATCH_SIZE \\(line ${line}\\)`));
        assert.match(e.message, /"11" is not an allowed number/);
        return true;
      },
    );
  });

  it('reports every problem at once, including those set by environment variables', () => {
    const file = writeConfig((t) => t.replace(/^INSTANCE_ID = .*$/m, 'INSTANCE_ID ='));
    assert.throws(
      () => loadConfig({ file, bin: oktaConnectBin(), env: { OKTA_CONNECT__DEPLOY__MAX_CONCURRENCY: '1' } }),
      (e: Error) => {
        assert.match(e.message, /\[Connect\] INSTANCE_ID/);
        assert.match(e.message, /MAX_CONCURRENCY \(environment variable OKTA_CONNECT__DEPLOY__MAX_CONCURRENCY\)/);
        return true;
      },
    );
  });

  it('explains a missing file or binary', () => {
    assert.throws(() => loadConfig({ file: '/nonexistent/config.ini', env: {} }), /config file not found/);
    assert.throws(
      () => loadConfig({ file: REPO_CONFIG, bin: '/nonexistent/okta-connect', env: {} }),
      /cannot run \/nonexistent\/okta-connect.*OKTA_CONNECT_BIN/,
    );
  });

  it('keeps the OKTA_CONNECT__ overrides the check saw, for the Lambdas', () => {
    const env = { OKTA_CONNECT__DEPLOY__BATCH_SIZE: '5', OKTA_CONNECT_BIN: 'x', PATH: '/bin', OKTA_CONNECT__X: 'no' };
    assert.deepEqual(configOverrides(env), { OKTA_CONNECT__DEPLOY__BATCH_SIZE: '5' });
    const loaded = loadConfig({ file: REPO_CONFIG, bin: oktaConnectBin(), env });
    assert.equal(loaded.config.deploy.batch_size, 5);
    assert.deepEqual(loaded.overrides, { OKTA_CONNECT__DEPLOY__BATCH_SIZE: '5' });
  });

  it('resolves the SAML metadata file against config.ini’s folder', () => {
    const file = writeConfig(undefined, { 'okta-metadata.xml': path.join(FIXTURES, 'okta-idp-metadata.xml') });
    const env = {
      OKTA_CONNECT__DEPLOY__SAML_FEDERATION: 'true',
      OKTA_CONNECT__DEPLOY__SAML_METADATA_FILE: 'okta-metadata.xml',
    };
    const loaded = loadConfig({ file, bin: oktaConnectBin(), env });
    assert.equal(samlMetadataPath(loaded), path.join(path.dirname(file), 'okta-metadata.xml'));
    assert.equal(samlMetadataPath(loadConfig({ file, bin: oktaConnectBin(), env: {} })), undefined);
  });
});

describe('Lambda artifacts', () => {
  it('reads the architecture scripts/build-lambdas.sh recorded', () => {
    assert.deepEqual(readManifest(placeholderLambdaDir('arm64')), { architecture: 'arm64' });
    assert.deepEqual(readManifest(placeholderLambdaDir('x86_64')), { architecture: 'x86_64' });
  });

  it('refuses a missing build, a bad manifest or a missing binary', () => {
    assert.throws(() => readManifest(tempDir('empty-')), /run scripts\/build-lambdas\.sh first/);
    const bad = placeholderLambdaDir();
    fs.writeFileSync(path.join(bad, 'manifest.json'), '{"architecture":"riscv"}');
    assert.throws(() => readManifest(bad), /must be "arm64" or "x86_64"/);
    const partial = placeholderLambdaDir();
    fs.rmSync(path.join(partial, BINARIES.worker, 'bootstrap'));
    assert.throws(() => readManifest(partial), /okta-connect-worker\/bootstrap is missing/);
  });

  it('stages bootstrap (executable) and config.ini into each function asset', () => {
    const lambdaDir = placeholderLambdaDir();
    const staged = stageAssets(lambdaDir, REPO_CONFIG);
    for (const [fn, bin] of Object.entries(BINARIES) as [keyof typeof BINARIES, string][]) {
      assert.deepEqual(fs.readdirSync(staged[fn]).sort(), ['bootstrap', 'config.ini']);
      assert.equal(fs.statSync(path.join(staged[fn], 'bootstrap')).mode & 0o111, 0o111);
      assert.deepEqual(
        fs.readFileSync(path.join(staged[fn], 'bootstrap')),
        fs.readFileSync(path.join(lambdaDir, bin, 'bootstrap')),
      );
      assert.equal(fs.readFileSync(path.join(staged[fn], 'config.ini'), 'utf8'), fs.readFileSync(REPO_CONFIG, 'utf8'));
    }
    assert.equal(CONFIG_PATH_IN_LAMBDA, '/var/task/config.ini');
  });

  it('bundles the checked config.ini into the ingest and worker assets (no reconcile without [OktaApi])', () => {
    const file = writeConfig((t) => t.replace(/^BATCH_SIZE = 10 /m, 'BATCH_SIZE = 7 '));
    const { app } = build({ configFile: file, nag: false });
    const outdir = app.synth().directory;
    const assets = fs.readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    assert.equal(assets.length, 2);
    for (const asset of assets) {
      assert.equal(fs.readFileSync(path.join(outdir, asset, 'config.ini'), 'utf8'), fs.readFileSync(file, 'utf8'));
      const bootstrap = path.join(outdir, asset, 'bootstrap');
      assert.ok(fs.statSync(bootstrap).mode & 0o100, 'bootstrap stays executable');
      assert.match(spawnSync(bootstrap, { encoding: 'utf8' }).stdout, /placeholder okta-connect-(ingest|worker)/);
    }
  });

  it('with [OktaApi], bundles it into the reconcile Lambda asset as well', () => {
    const env = { OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com' };
    const { app } = build({ env, nag: false });
    const outdir = app.synth().directory;
    const assets = fs.readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    const binaries = assets.map((a) => spawnSync(path.join(outdir, a, 'bootstrap'), { encoding: 'utf8' }).stdout.trim()).sort();
    assert.deepEqual(binaries, Object.values(BINARIES).map((b) => `placeholder ${b}`).sort());
    for (const asset of assets) {
      assert.equal(fs.readFileSync(path.join(outdir, asset, 'config.ini'), 'utf8'), fs.readFileSync(REPO_CONFIG, 'utf8'));
    }
  });
});
