/**
 * A deployment with `regions`: the home stack plus one regional stack (cdk/regional-stack.ts).
 * Template assertions for the regional stack (IMDSv2, encrypted EBS, user data pointing
 * home, the security group open only to itself, the tags the control plane finds it by,
 * the event forwarding), for what the home stack fixes or allows for it (names, IAM in
 * both regions), and the cdk-nag check over both. One synthesis, without bundling.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../cdk/saturn-app.ts";
import { REGIONAL_TAGS } from "../../lambdas/adapters/ec2-fleet.ts";
import { OPTIONAL_ENV } from "../../lambdas/config/stack-contract.ts";

const HOME = "us-west-2";
const OTHER = "us-east-2";
const HOME_VPC = { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] };
const OTHER_VPC = {
  vpcId: "vpc-0aaaaaaaaaaaaaaa1",
  subnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
};

type Json = Record<string, unknown>;
let outdir: string;
let home: Template;
let regional: Template;
let regionalStackName: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), "saturn-cdk-regions-"));
  const app = new App({
    outdir,
    context: {
      "aws:cdk:bundling-stacks": [],
      region: HOME,
      regions: `${HOME},${OTHER}`,
      vpcId: HOME_VPC.vpcId,
      subnetIds: HOME_VPC.subnetIds.join(","),
      regionVpcs: JSON.stringify({ [OTHER]: OTHER_VPC }),
    },
  });
  const { stack, regionalStacks } = buildApp(app);
  expect(regionalStacks.map((s) => s.region)).toEqual([OTHER]);
  regionalStackName = regionalStacks[0]?.stackName ?? "";
  // Throws ValidationFailed when cdk-nag reports an unacknowledged error in either stack.
  const assembly = app.synth();
  home = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  regional = Template.fromJSON(assembly.getStackByName(regionalStackName).template);
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function resourcesOf(template: Template, type: string): Json[] {
  return Object.values(template.toJSON().Resources as Record<string, Json>).filter((r) => r.Type === type);
}

function tagsOf(resource: Json): Record<string, unknown> {
  const specs = ((resource.Properties as Json).TagSpecifications ?? []) as {
    ResourceType: string;
    Tags: { Key: string; Value: unknown }[];
  }[];
  const own = specs.find((spec) => spec.ResourceType === "launch-template");
  return Object.fromEntries((own?.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
}

function homeStatements(): Json[] {
  return resourcesOf(home, "AWS::IAM::Policy").flatMap(
    (policy) => ((policy.Properties as Json).PolicyDocument as { Statement: Json[] }).Statement,
  );
}

describe("RegionalStack template", () => {
  it("is named after the home stack and its region, in that region", () => {
    expect(regionalStackName).toBe(`Saturn-${OTHER}`);
  });

  it("launches like the home stack: IMDSv2, encrypted gp3 root, terminate on shutdown, the home stack's profile", () => {
    const templates = resourcesOf(regional, "AWS::EC2::LaunchTemplate");
    expect(templates).toHaveLength(2);
    for (const template of templates) {
      const data = (template.Properties as Json).LaunchTemplateData as Json;
      expect(data.MetadataOptions).toMatchObject({ HttpTokens: "required", HttpPutResponseHopLimit: 2 });
      expect(data.InstanceInitiatedShutdownBehavior).toBe("terminate");
      expect(data.BlockDeviceMappings).toEqual([
        expect.objectContaining({ Ebs: expect.objectContaining({ Encrypted: true, VolumeType: "gp3" }) }),
      ]);
      expect(JSON.stringify(data.IamInstanceProfile)).toContain(`:instance-profile/Saturn-${HOME}-worker`);
    }
  });

  it("points the workers' user data at the home region's bucket and worker-event queue", () => {
    const [template] = resourcesOf(regional, "AWS::EC2::LaunchTemplate");
    const userData = (((template ?? {}).Properties as Json).LaunchTemplateData as Json).UserData as {
      "Fn::Base64": { "Fn::Join": [string, unknown[]] };
    };
    const parts = userData["Fn::Base64"]["Fn::Join"][1];
    expect(parts).toContainEqual({ "Fn::Join": ["-", ["saturn", { Ref: "AWS::AccountId" }, HOME]] });
    const text = parts.filter((part) => typeof part === "string").join("");
    expect(text).toContain(`REGION="${HOME}"`);
    expect(text).toContain(`QUEUE_URL="https://sqs.${HOME}.`);
    expect(text).toContain("/Saturn-WorkerEvents");
  });

  it("tags its launch templates so the control plane finds them, with their subnets", () => {
    const tags = resourcesOf(regional, "AWS::EC2::LaunchTemplate").map(tagsOf);
    expect(tags.map((t) => t[REGIONAL_TAGS.template]).sort()).toEqual(["efa", "standard"]);
    for (const t of tags) {
      expect(t[REGIONAL_TAGS.deployment]).toBe("Saturn");
      expect(t[REGIONAL_TAGS.subnets]).toBe(OTHER_VPC.subnetIds.join(","));
    }
    regional.hasResourceProperties("AWS::EC2::PlacementGroup", {
      Strategy: "cluster",
      Tags: Match.arrayWith([{ Key: REGIONAL_TAGS.deployment, Value: "Saturn" }]),
    });
  });

  it("opens its security group only to itself, in the given VPC", () => {
    regional.hasResourceProperties("AWS::EC2::SecurityGroup", { VpcId: OTHER_VPC.vpcId });
    const ingress = resourcesOf(regional, "AWS::EC2::SecurityGroupIngress");
    expect(ingress).toHaveLength(1);
    const rule = ingress[0]?.Properties as Json;
    expect(rule.SourceSecurityGroupId).toEqual(rule.GroupId);
    expect(rule.CidrIp).toBeUndefined();
  });

  it("creates no IAM and references nothing of the home stack through CloudFormation", () => {
    const types = Object.values(regional.toJSON().Resources as Record<string, Json>).map((r) => r.Type);
    expect(types.filter((type) => String(type).startsWith("AWS::IAM::"))).toEqual([]);
    expect(JSON.stringify(regional.toJSON())).not.toContain("Fn::ImportValue");
    expect(regional.toJSON().Parameters ?? {}).not.toHaveProperty("BootstrapVersion");
  });

  it("forwards the region's EC2 events to the home region's default bus with the home stack's role", () => {
    regional.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.ec2"],
        "detail-type": Match.arrayWith(["EC2 Spot Instance Interruption Warning"]),
      },
      Targets: [
        Match.objectLike({
          Arn: { "Fn::Join": ["", Match.arrayWith([`:events:${HOME}:`, ":event-bus/default"])] },
          RoleArn: Match.anyValue(),
        }),
      ],
    });
  });
});

describe("SaturnStack with regions", () => {
  it("gives the bucket, worker-event queue and instance profile the names the regional stack uses", () => {
    home.hasResourceProperties("AWS::S3::Bucket", {
      BucketName: { "Fn::Join": ["-", ["saturn", { Ref: "AWS::AccountId" }, HOME]] },
    });
    home.hasResourceProperties("AWS::SQS::Queue", { QueueName: "Saturn-WorkerEvents" });
    home.hasResourceProperties("AWS::IAM::InstanceProfile", { InstanceProfileName: `Saturn-${HOME}-worker` });
    home.hasResourceProperties("AWS::IAM::Role", {
      RoleName: `Saturn-${HOME}-ec2-event-forwarding`,
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: "events.amazonaws.com" } })],
      }),
    });
  });

  it("tells every Lambda the covered regions", () => {
    const functions = resourcesOf(home, "AWS::Lambda::Function").filter((fn) =>
      JSON.stringify(fn).includes("SATURN_TABLE_NAME"),
    );
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const fn of functions) {
      const variables = ((fn.Properties as Json).Environment as { Variables: Json }).Variables;
      expect(variables[OPTIONAL_ENV.regions]).toBe(`${HOME},${OTHER}`);
    }
  });

  it("allows launching in the other region only from templates, groups and network tagged with the deployment", () => {
    const [regionalLaunch] = homeStatements().filter((s) => s.Sid === "LaunchFromRegionalStacks");
    expect(regionalLaunch?.Condition).toEqual({ StringEquals: { "aws:ResourceTag/saturn:deployment": "Saturn" } });
    const resources = JSON.stringify(regionalLaunch?.Resource);
    for (const kind of ["launch-template", "security-group", "placement-group"]) {
      expect(resources).toContain(`:ec2:${OTHER}:`);
      expect(resources).toContain(`:${kind}/*`);
    }
    expect(resources).not.toContain(`:ec2:${HOME}:`);
  });

  it("keeps the tag conditions on instances, volumes and terminate in every covered region", () => {
    const launch = homeStatements().find((s) => s.Sid === "LaunchTaggedInstancesOfAllowedTypes");
    expect(JSON.stringify(launch?.Resource)).toContain(`:ec2:${OTHER}:`);
    expect(launch?.Condition).toMatchObject({ Null: { "aws:RequestTag/saturn:workload": "false" } });
    const terminate = homeStatements().filter((s) => s.Sid === "TerminateSaturnInstancesOnly");
    expect(terminate.length).toBeGreaterThanOrEqual(1);
    for (const statement of terminate) {
      expect(JSON.stringify(statement.Resource)).toContain(`:ec2:${OTHER}:`);
      expect(statement.Condition).toMatchObject({ Null: { "ec2:ResourceTag/saturn:workload": "false" } });
    }
    const quotas = homeStatements().find((s) => s.Sid === "ReadEc2Quotas");
    expect(JSON.stringify(quotas?.Resource)).toContain(`:servicequotas:${OTHER}:`);
  });
});
