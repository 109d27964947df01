#!/usr/bin/env node
// `cdk synth` / `cdk deploy` entry point. Inputs (context first, then environment):
//   config      / OKTA_CONNECT_CONFIG       config.ini (default: the repository's)
//   configJson  / OKTA_CONNECT_CONFIG_JSON  a ready `check-config --json` output for it
//               / OKTA_CONNECT_BIN          the okta-connect binary (default: cargo run)
//   lambdaDir   / OKTA_CONNECT_LAMBDA_DIR   scripts/build-lambdas.sh output
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key);
try {
  buildApp({
    app,
    configFile: context('config') ?? process.env.OKTA_CONNECT_CONFIG,
    configJson: context('configJson') ?? process.env.OKTA_CONNECT_CONFIG_JSON,
    bin: process.env.OKTA_CONNECT_BIN,
    lambdaDir: context('lambdaDir') ?? process.env.OKTA_CONNECT_LAMBDA_DIR,
  });
} catch (e) {
  // The checker's report is the message; a stack trace would only bury it.
  console.error((e as Error).message);
  process.exit(1);
}
