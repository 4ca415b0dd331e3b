/**
 * Builds the CDK app: one Saturn stack configured from context (see docs/deploy.md),
 * checked by cdk-nag's AwsSolutions pack. Nothing here looks anything up unless the
 * account is known and no VPC was given, so `npx cdk synth` runs offline.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import packageJson from "../package.json" with { type: "json" };
import { SaturnStack } from "./saturn-stack.ts";
import { readStackConfig } from "./stack-config.ts";

export function buildApp(app: App = new App()): { readonly app: App; readonly stack: SaturnStack } {
  const config = readStackConfig((key) => app.node.tryGetContext(key), {
    region: process.env.CDK_DEFAULT_REGION,
    agentVersion: packageJson.version,
  });
  const stack = new SaturnStack(app, config.stackName, {
    stackName: config.stackName,
    description: "Saturn: plans, runs and tears down GPU training jobs (control plane)",
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: config.region },
    config,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
