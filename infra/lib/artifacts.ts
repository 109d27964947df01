// The Lambda code comes from scripts/build-lambdas.sh (cargo lambda build --release),
// never from a build at synth time: a release build takes minutes, a synth seconds.
// Each function's asset is a folder holding that `bootstrap` plus a copy of config.ini,
// so the file the synth validated is the file the Lambda reads (/var/task/config.ini);
// Lambda's 4 KB environment limit rules out passing the file itself as a variable.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export type Architecture = 'arm64' | 'x86_64';

/**
 * The binaries of the workspace that run on Lambda (each is also its cargo package).
 * The reconcile function exists only with [OktaApi], but its binary is always built and
 * staged: one artifact set serves every config.ini, so a change of config needs no rebuild.
 */
export const BINARIES = {
  ingest: 'okta-connect-ingest',
  worker: 'okta-connect-worker',
  reconcile: 'okta-connect-reconcile',
} as const;
export type FunctionName = keyof typeof BINARIES;

/** Where scripts/build-lambdas.sh writes by default. */
export const DEFAULT_LAMBDA_DIR = path.resolve(__dirname, '..', 'build', 'lambda');

/** Where each Lambda finds config.ini (the asset is unpacked in /var/task). */
export const CONFIG_PATH_IN_LAMBDA = '/var/task/config.ini';

/** Reads the architecture the binaries were built for (manifest.json of the build script). */
export function readManifest(lambdaDir: string): { architecture: Architecture } {
  const file = path.join(lambdaDir, 'manifest.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `no Lambda artifacts in ${lambdaDir} (manifest.json is missing): run scripts/build-lambdas.sh first, ` +
        'or point OKTA_CONNECT_LAMBDA_DIR at its output',
    );
  }
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { architecture?: string };
  if (manifest.architecture !== 'arm64' && manifest.architecture !== 'x86_64') {
    throw new Error(`${file}: architecture must be "arm64" or "x86_64", not ${JSON.stringify(manifest.architecture)}`);
  }
  for (const bin of Object.values(BINARIES)) {
    if (!fs.existsSync(path.join(lambdaDir, bin, 'bootstrap'))) {
      throw new Error(`${lambdaDir}/${bin}/bootstrap is missing: run scripts/build-lambdas.sh`);
    }
  }
  return { architecture: manifest.architecture };
}

/**
 * Makes one asset folder per function: `bootstrap` + `config.ini`. The folders live in
 * a fresh temporary directory (CDK copies them into cdk.out at once) removed at exit.
 */
export function stageAssets(lambdaDir: string, configFile: string): Record<FunctionName, string> {
  const root = removedAtExit(fs.mkdtempSync(path.join(os.tmpdir(), 'okta-connect-assets-')));
  const staged = {} as Record<FunctionName, string>;
  for (const [fn, bin] of Object.entries(BINARIES) as [FunctionName, string][]) {
    const dir = path.join(root, bin);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(lambdaDir, bin, 'bootstrap'), path.join(dir, 'bootstrap'));
    fs.chmodSync(path.join(dir, 'bootstrap'), 0o755);
    fs.copyFileSync(configFile, path.join(dir, 'config.ini'));
    staged[fn] = dir;
  }
  return staged;
}

const temporary = new Set<string>();

/** Registers a temporary directory for removal when the process exits; returns it. */
export function removedAtExit(dir: string): string {
  if (temporary.size === 0) {
    process.once('exit', () => temporary.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  }
  temporary.add(dir);
  return dir;
}
