import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmiImageStack, DEFAULT_WORKER_AMI_PARAMETER } from "../../cdk/ami-image-stack.ts";
import { DEFAULT_AMI_SSM_PARAMETER } from "../../lambdas/config/stack-contract.ts";

interface Synthesized {
  readonly stack: Stack;
  readonly template: Template;
}

/** Both variants in one app, synthesized once: synthesis (with CDK's template validation) is the slow part. */
function synthBoth(bundlePath: string): { plain: Synthesized; baked: Synthesized } {
  const app = new App();
  const env = { account: "123456789012", region: "us-east-1" };
  const plainStack = new AmiImageStack(app, "SaturnWorkerImage", {
    env,
    bundle: { kind: "s3", bucketName: "saturn-bucket", key: "agent/0.1.0/saturn-agent.tgz" },
  });
  const bakedStack = new AmiImageStack(app, "SaturnWorkerImageBaked", {
    env,
    bundle: { kind: "asset", path: bundlePath },
    buildOnDeploy: true,
    schedule: "cron(0 3 ? * SUN *)",
  });
  const assembly = app.synth();
  const template = (stack: Stack) => Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  return {
    plain: { stack: plainStack, template: template(plainStack) },
    baked: { stack: bakedStack, template: template(bakedStack) },
  };
}

function nagFindings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(stack, { verbose: true }).validateScope(stack);
  return report.violations.map(
    (violation) =>
      `${violation.ruleName} on ${violation.violatingResources.map((resource) => resource.resourceLogicalId).join(", ")}`,
  );
}

describe("AmiImageStack", () => {
  let dir: string;
  let plain: Synthesized;
  let baked: Synthesized;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "saturn-ami-"));
    const bundle = join(dir, "saturn-agent.tgz");
    await writeFile(bundle, "stands in for the bundle: synth only hashes and stages it");
    ({ plain, baked } = synthBoth(bundle));
    // Synthesis runs CDK's CloudFormation schema validation: seconds alone, up to a minute on a loaded 2-core machine.
  }, 180_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds on the DLAMI's public SSM parameter with the worker component and its bundle", () => {
    plain.template.hasResourceProperties("AWS::ImageBuilder::ImageRecipe", {
      ParentImage: `ssm:${DEFAULT_AMI_SSM_PARAMETER}`,
      Components: [
        {
          ComponentArn: Match.anyValue(),
          Parameters: [{ Name: "BundleUri", Value: ["s3://saturn-bucket/agent/0.1.0/saturn-agent.tgz"] }],
        },
      ],
      BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
    });
    const [component] = Object.values(plain.template.findResources("AWS::ImageBuilder::Component"));
    const data = String(component?.Properties.Data);
    expect(data).toMatch(/- name: build/);
    expect(data).toMatch(/install-worker\.sh/);
    expect(data).toMatch(/nvidia-smi/);
    expect(data).toMatch(/torch\.cuda\.is_available\(\)/);
    expect(data).toMatch(/saturn-agent\.mjs --self-check/);
    expect(component?.Properties.Version).toMatch(/^1\.0\.\d+$/);
  });

  it("builds on a GPU instance with IMDSv2 required and terminates it on failure", () => {
    plain.template.hasResourceProperties("AWS::ImageBuilder::InfrastructureConfiguration", {
      InstanceTypes: ["g6.xlarge"],
      TerminateInstanceOnFailure: true,
      InstanceMetadataOptions: { HttpTokens: "required" },
      ResourceTags: { "saturn:role": "image-build" },
    });
  });

  it("publishes each image id to the SSM parameter the control plane reads and outputs its name", () => {
    plain.template.hasResourceProperties("AWS::ImageBuilder::DistributionConfiguration", {
      Distributions: [
        Match.objectLike({
          SsmParameterConfigurations: [{ ParameterName: DEFAULT_WORKER_AMI_PARAMETER, DataType: "aws:ec2:image" }],
        }),
      ],
    });
    plain.template.hasOutput("WorkerAmiSsmParameter", { Value: DEFAULT_WORKER_AMI_PARAMETER });
    plain.template.resourceCountIs("AWS::ImageBuilder::ImagePipeline", 1);
    plain.template.resourceCountIs("AWS::ImageBuilder::Image", 0);
  });

  it("builds an image during the deploy from a bundle asset when asked, and outputs its id", () => {
    baked.template.resourceCountIs("AWS::ImageBuilder::Image", 1);
    baked.template.hasOutput("WorkerAmiId", { Value: { "Fn::GetAtt": [Match.anyValue(), "ImageId"] } });
    baked.template.hasResourceProperties("AWS::ImageBuilder::ImagePipeline", {
      Schedule: { ScheduleExpression: "cron(0 3 ? * SUN *)" },
    });
  });

  it("passes cdk-nag's AwsSolutions checks with every accepted finding acknowledged", () => {
    expect(nagFindings(plain.stack)).toEqual([]);
    expect(nagFindings(baked.stack)).toEqual([]);
  });
});
