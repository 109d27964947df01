// Builds the CDK app from config.ini; bin/app.ts (cdk synth/deploy) and the tests share it.
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DEFAULT_LAMBDA_DIR, readManifest, stageAssets } from './artifacts';
import { LoadedConfig, REPO_ROOT, loadConfig } from './config';
import { OktaConnectStack } from './stack';

export interface BuildOptions {
  /** The app to add the stack to (default: a new App). */
  app?: App;
  /** config.ini (default: the repository's). */
  configFile?: string;
  /** Output of `check-config --json` for configFile, instead of running the checker. */
  configJson?: string;
  /** The okta-connect binary (default: cargo run). */
  bin?: string;
  /** scripts/build-lambdas.sh output (default: infra/build/lambda). */
  lambdaDir?: string;
  /** Environment: OKTA_CONNECT__* overrides, CDK_DEFAULT_ACCOUNT/REGION (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Run the cdk-nag packs at synthesis (default: true). */
  nag?: boolean;
}

export interface Built {
  app: App;
  stack: OktaConnectStack;
  loaded: LoadedConfig;
}

export function buildApp(options: BuildOptions = {}): Built {
  const env = options.env ?? process.env;
  const app = options.app ?? new App();
  const loaded = loadConfig({
    file: options.configFile ?? path.join(REPO_ROOT, 'config.ini'),
    json: options.configJson,
    bin: options.bin,
    env,
  });
  const lambdaDir = path.resolve(options.lambdaDir ?? DEFAULT_LAMBDA_DIR);
  const { architecture } = readManifest(lambdaDir);
  const { config } = loaded;

  const stack = new OktaConnectStack(app, config.deploy.stack_name, {
    description: `Okta → Amazon Connect user provisioning for instance ${config.instance_id}`,
    // The worker uses config.ini's REGION for every AWS client (Connect, DynamoDB, SQS),
    // so the stack must live there; without REGION, the CLI's Region decides.
    env: { account: env.CDK_DEFAULT_ACCOUNT, region: config.region ?? env.CDK_DEFAULT_REGION },
    loaded,
    assets: stageAssets(lambdaDir, loaded.file),
    architecture,
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app, { verbose: true }),
      new ServerlessChecks(app, { verbose: true }),
    );
  }
  return { app, stack, loaded };
}
