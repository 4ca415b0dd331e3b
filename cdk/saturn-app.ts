/**
 * Builds the CDK app: one Saturn stack configured from context (see docs/deploy.md), one
 * regional stack per other region of `regions` (deployed after it: it names the home
 * stack's worker profile), all checked by cdk-nag's AwsSolutions pack. Nothing here looks anything up unless the
 * account is known and no VPC was given, so `npx cdk synth` runs offline.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import packageJson from "../package.json" with { type: "json" };
import { regionalStackName } from "./deployment-names.ts";
import { RegionalStack } from "./regional-stack.ts";
import { SaturnStack } from "./saturn-stack.ts";
import { readStackConfig } from "./stack-config.ts";

export function buildApp(app: App = new App()): {
  readonly app: App;
  readonly stack: SaturnStack;
  readonly regionalStacks: readonly RegionalStack[];
} {
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
  const regionalStacks = config.regions.slice(1).map((region) => {
    const name = regionalStackName(config.stackName, region);
    const regional = new RegionalStack(app, name, {
      stackName: name,
      description: `Saturn: worker launch templates and network in ${region} (home: ${config.region})`,
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
      config,
      region,
    });
    regional.addStackDependency(stack);
    return regional;
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack, regionalStacks };
}
