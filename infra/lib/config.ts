// config.ini reaches the CDK app only through `okta-connect check-config --json`: the
// Rust side owns every validation rule, so the stack can never accept a file the
// Lambdas would refuse (or the other way round). Nothing here re-checks the values.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The JSON `check-config --json` prints (serde of the Rust `Config`). */
export interface OktaConnectConfig {
  instance_id: string;
  /** Region of the Connect instance; null = the AWS SDK's region chain. */
  region: string | null;
  send_email: boolean;
  pacing: { requests_per_second: number; burst: number };
  events: Record<string, string>;
  mappings: AccessMapping[];
  removal: RevocationPolicy;
  /** While an Okta user is suspended (default NO_PERMISSION: the same Connect user is parked). */
  suspension: RevocationPolicy;
  username_source: string;
  ledger_retention_days: number;
  ingest: { secret_header: string; max_body_bytes: number };
  deploy: DeploySettings;
  /** [OktaApi]: Okta's management API, or null when events alone are used. */
  okta_api: OktaApiSettings | null;
  reconcile: ReconcileSettings;
  subscribe_event_types: string[];
}

/** [Reconcile]. The schedule is used only by a stack with [OktaApi] (reconcile reads Okta's API). */
export interface ReconcileSettings {
  max_revocations: number;
  /** An EventBridge Scheduler expression, `rate(...)` or `cron(...)`, in UTC (checked by Rust). */
  schedule: string;
  /** false: the reconcile Lambda is deployed but only runs when invoked by hand. */
  schedule_enabled: boolean;
}

/** What revoking a Connect user means; `security_profile_id` null = not configured (the stack creates one). */
export type RevocationPolicy =
  | { policy: 'DELETE' | 'IGNORE' }
  | { policy: 'NO_PERMISSION'; security_profile_id: string | null };

export interface OktaApiSettings {
  org_url: string;
  auth: { method: 'private_key_jwt'; client_id: string; key_id: string | null } | { method: 'api_token' };
  /** Where the private key or API token is read from. */
  credentials: { from: 'env' | 'file' | 'secret'; name: string };
  timeout_seconds: number;
  max_concurrent_requests: number;
}

export interface AccessMapping {
  name: string;
  /** `id` is the Okta id when config.ini gives one (else resolved at run time). */
  sources: { kind: 'group' | 'app'; name: string; id: string | null }[];
  routing_profile_id: string;
  security_profile_ids: string[];
  hierarchy_group_id: string | null;
  priority: number;
}

export interface DeploySettings {
  stack_name: string;
  batch_size: number;
  max_concurrency: number;
  alarm_email: string | null;
  log_retention_days: number;
  saml: { metadata_file: string; provider_name: string } | null;
}

/** A validated config.ini, with where it came from (every Lambda bundles that file). */
export interface LoadedConfig {
  /** Absolute path of config.ini. */
  file: string;
  config: OktaConnectConfig;
  /**
   * The `OKTA_CONNECT__SECTION__KEY` overrides that were set while checking. The
   * Lambdas get the same variables, so they run with exactly the configuration the
   * synth validated.
   */
  overrides: Record<string, string>;
}

export interface LoadOptions {
  /** config.ini to check. */
  file: string;
  /**
   * The okta-connect binary. Default: `scripts/okta-connect` in the repository root,
   * which builds it (incrementally, the same build as the tests) when needed.
   */
  bin?: string;
  /** A JSON file already produced by `check-config --json` for `file` (skips the binary). */
  json?: string;
  /** Environment the check sees (its OKTA_CONNECT__* overrides). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The repository root (infra/ lives directly under it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

const OVERRIDE = /^OKTA_CONNECT__[A-Z0-9_]+__[A-Z0-9_]+$/;

/** The OKTA_CONNECT__* variables of an environment. */
export function configOverrides(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (OVERRIDE.test(key) && value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Validates config.ini with the Rust checker and returns its meaning. Throws an Error
 * whose message is the checker's own report (every problem with its key and line).
 */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const file = path.resolve(options.file);
  const env = options.env ?? process.env;
  if (!fs.existsSync(file)) {
    throw new Error(`config file not found: ${file}`);
  }
  const text = options.json ? fs.readFileSync(options.json, 'utf8') : runCheckConfig(file, env, options.bin);
  let config: OktaConnectConfig;
  try {
    config = JSON.parse(text) as OktaConnectConfig;
  } catch (e) {
    throw new Error(`okta-connect check-config --json printed something that is not JSON: ${(e as Error).message}`);
  }
  return { file, config, overrides: configOverrides(env) };
}

function runCheckConfig(file: string, env: NodeJS.ProcessEnv, bin?: string): string {
  const [command, args] = bin
    ? [bin, ['check-config', file, '--json']]
    : [path.join(REPO_ROOT, 'scripts', 'okta-connect'), ['check-config', file, '--json']];
  const run = spawnSync(command, args, { cwd: REPO_ROOT, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.error) {
    throw new Error(
      `cannot run ${command} (${run.error.message}); build it with \`cargo build -p okta-connect\` ` +
        'and set OKTA_CONNECT_BIN, or put cargo and bash on PATH',
    );
  }
  if (run.status !== 0) {
    const report = run.stderr.trim() || run.stdout.trim() || `exit status ${run.status}`;
    throw new Error(`okta-connect check-config rejected ${file}:\n${report}`);
  }
  return run.stdout;
}

/** Absolute path of the SAML metadata file (config.ini's folder is the base), if enabled. */
export function samlMetadataPath(loaded: LoadedConfig): string | undefined {
  const saml = loaded.config.deploy.saml;
  if (!saml) return undefined;
  const file = path.resolve(path.dirname(loaded.file), saml.metadata_file);
  if (!fs.existsSync(file)) {
    throw new Error(
      `[Deploy] SAML_METADATA_FILE: ${file} does not exist (download Okta's IdP metadata there; ` +
        "the path is relative to config.ini's folder)",
    );
  }
  return file;
}
