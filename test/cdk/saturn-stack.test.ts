/**
 * Template assertions for what the emulator accepts but does not apply (PITR, TTL, stage
 * throttling and logs, public access block, lifecycle, alarms, policies), the IAM scoping,
 * and the cdk-nag AwsSolutions check. One synthesis (without bundling) serves every test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES } from "../../cdk/constructs/saturn-api.ts";
import { buildApp } from "../../cdk/saturn-app.ts";
import { ENV, OUTPUTS, TABLE } from "../../lambdas/config/stack-contract.ts";

const VPC_ID = "vpc-0123456789abcdef0";
const SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"];
const ADMIN = "arn:aws:iam::123456789012:role/SaturnAdmin";

const WORKER_PROFILE_ARN = { "Fn::GetAtt": [expect.stringMatching(/^WorkersInstanceProfile/), "Arn"] };

type Json = Record<string, unknown>;
let outdir: string;
let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), "saturn-cdk-"));
  const app = new App({
    outdir,
    context: {
      "aws:cdk:bundling-stacks": [],
      vpcId: VPC_ID,
      subnetIds: SUBNETS.join(","),
      adminPrincipals: ADMIN,
      allowedInstanceTypes: "g6e,p5.48xlarge",
      region: "us-west-2",
    },
  });
  const { stack } = buildApp(app);
  // Throws ValidationFailed when cdk-nag reports an unacknowledged error.
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  resources = template.toJSON().Resources as Record<string, Json>;
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function ofType(type: string): Json[] {
  return Object.values(resources).filter((resource) => resource.Type === type);
}

function propertiesOf(resource: Json | undefined): Json {
  return (resource?.Properties ?? {}) as Json;
}

/** Every statement of every IAM policy in the template. */
function statements(): Json[] {
  return ofType("AWS::IAM::Policy").flatMap(
    (policy) => (propertiesOf(policy).PolicyDocument as { Statement: Json[] }).Statement,
  );
}

function statementsWith(action: string): Json[] {
  return statements().filter((statement) => [statement.Action].flat().includes(action));
}

describe("SaturnStack template", () => {
  it("passes cdk-nag's AwsSolutions checks with every finding acknowledged (synthesis did not throw)", () => {
    expect(resources).toBeDefined();
  });

  it("keeps the table's keys, owner index, TTL, PITR and encryption", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: TABLE.ownerIndex,
          KeySchema: [
            { AttributeName: TABLE.ownerIndexPartitionKey, KeyType: "HASH" },
            { AttributeName: TABLE.ownerIndexSortKey, KeyType: "RANGE" },
          ],
        }),
      ],
    });
  });

  it("blocks public access to the bucket, enforces TLS and expires workload data", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: "Enabled" }),
          Match.objectLike({ Prefix: "workloads/", ExpirationInDays: 30, Status: "Enabled" }),
        ]),
      },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("puts every API method behind AWS_IAM auth, one per route, proxied to the api Lambda", () => {
    const methods = ofType("AWS::ApiGateway::Method").map(propertiesOf);
    expect(methods).toHaveLength(API_ROUTES.length);
    for (const method of methods) {
      expect(method.AuthorizationType).toBe("AWS_IAM");
      expect((method.Integration as Json).Type).toBe("AWS_PROXY");
      expect(method.RequestValidatorId).toBeDefined();
    }
    expect(methods.map((method) => method.HttpMethod).sort()).toEqual(API_ROUTES.map(([verb]) => verb).sort());
    const paths = ofType("AWS::ApiGateway::Resource").map((resource) => propertiesOf(resource).PathPart);
    expect(paths.sort()).toEqual(["approve", "cancel", "catalog", "plan", "workloads", "{id}"]);
  });

  it("throttles the stage, logs access as JSON and logs errors of every method", () => {
    template.hasResourceProperties("AWS::ApiGateway::Stage", {
      StageName: "v1",
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: "*",
          ResourcePath: "/*",
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
          LoggingLevel: "ERROR",
          DataTraceEnabled: false,
        }),
      ],
    });
    template.hasResourceProperties("AWS::ApiGateway::RequestValidator", {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
  });

  it("runs six ESM Lambdas on nodejs22.x with the contract's environment", () => {
    const functions = ofType("AWS::Lambda::Function").map(propertiesOf);
    expect(functions).toHaveLength(6);
    for (const fn of functions) {
      expect(fn.Runtime).toBe("nodejs22.x");
      expect(fn.Handler).toBe("index.handler");
      const variables = (fn.Environment as { Variables: Json }).Variables;
      for (const name of Object.values(ENV)) expect(variables, name).toHaveProperty(name);
      expect(variables[ENV.adminPrincipals]).toBe(ADMIN);
      expect(variables[ENV.subnetIds]).toBe(SUBNETS.join(","));
      expect(variables[ENV.allowedInstanceTypes]).toBe("g6e.*,p5.48xlarge");
      expect(variables.POWERTOOLS_SERVICE_NAME).toMatch(/^saturn-/);
    }
  });

  it("gives every Lambda a role of its own", () => {
    const roles = ofType("AWS::Lambda::Function").map((fn) => JSON.stringify(propertiesOf(fn).Role));
    expect(new Set(roles).size).toBe(6);
  });

  it("requires IMDSv2, encrypted gp3 volumes and terminate-on-shutdown on both launch templates", () => {
    const templates = ofType("AWS::EC2::LaunchTemplate").map((lt) => propertiesOf(lt).LaunchTemplateData as Json);
    expect(templates).toHaveLength(2);
    for (const data of templates) {
      expect(data.MetadataOptions).toEqual({
        HttpTokens: "required",
        HttpPutResponseHopLimit: 2,
        InstanceMetadataTags: "enabled",
      });
      expect(data.InstanceInitiatedShutdownBehavior).toBe("terminate");
      expect((data.BlockDeviceMappings as Json[])[0]?.Ebs).toMatchObject({ Encrypted: true, VolumeType: "gp3" });
    }
    template.hasResourceProperties("AWS::EC2::PlacementGroup", { Strategy: "cluster" });
  });

  it("reads the AMI from the DLAMI's public SSM parameter by default", () => {
    const parameters = template.toJSON().Parameters as Record<string, Json>;
    const ami = Object.values(parameters).find((parameter) => String(parameter.Type).includes("AWS::EC2::Image::Id"));
    expect(ami?.Default).toMatch(/^\/aws\/service\/deeplearning\/ami\/x86_64\/oss-nvidia-driver-gpu-pytorch-/);
  });

  it("launches only tagged instances of the allowed types with the worker profile", () => {
    const launch = statementsWith("ec2:RunInstances");
    const instance = launch.find((statement) => JSON.stringify(statement.Resource).includes(":instance/*"));
    expect(instance?.Condition).toMatchObject({
      Null: { "aws:RequestTag/saturn:workload": "false" },
      StringLike: { "ec2:InstanceType": ["g6e.*", "p5.48xlarge"] },
      ArnEquals: { "ec2:InstanceProfile": WORKER_PROFILE_ARN },
    });
    const volumesAndFleets = launch.find((statement) => JSON.stringify(statement.Resource).includes(":volume/*"));
    expect(volumesAndFleets?.Condition).toEqual({ Null: { "aws:RequestTag/saturn:workload": "false" } });
    expect(statementsWith("ec2:CreateFleet")).toHaveLength(launch.length);
  });

  it("terminates only instances tagged saturn:workload that run the worker profile", () => {
    const terminate = statementsWith("ec2:TerminateInstances");
    // reconciler, sweeper and the workers' own role
    expect(terminate).toHaveLength(3);
    for (const statement of terminate) {
      expect(statement.Condition).toMatchObject({
        Null: { "ec2:ResourceTag/saturn:workload": "false" },
        ArnEquals: { "ec2:InstanceProfile": WORKER_PROFILE_ARN },
      });
    }
  });

  it("tags only on create and passes only the worker role, to EC2", () => {
    for (const statement of statementsWith("ec2:CreateTags")) {
      expect(statement.Condition).toEqual({ StringEquals: { "ec2:CreateAction": ["RunInstances", "CreateFleet"] } });
    }
    const passRole = statementsWith("iam:PassRole");
    expect(passRole).toHaveLength(1);
    expect(passRole[0]?.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } });
    expect(JSON.stringify(passRole[0]?.Resource)).toContain("WorkersRole");
  });

  it("grants no action with a wildcard and no EC2 write on an unconditioned wildcard resource", () => {
    for (const statement of statements()) {
      for (const action of [statement.Action].flat()) expect(String(action)).not.toContain("*");
      const writes = [statement.Action]
        .flat()
        .some((action) => /^ec2:(RunInstances|CreateFleet|Terminate|CreateTags)/.test(String(action)));
      if (writes && JSON.stringify(statement.Resource).match(/:(instance|volume|fleet)\/\*/)) {
        expect(statement.Condition, JSON.stringify(statement)).toBeDefined();
      }
    }
  });

  it("alarms on the depth of every dead-letter queue", () => {
    const dlqs = ofType("AWS::SQS::Queue").filter((queue) => propertiesOf(queue).RedrivePolicy === undefined);
    expect(dlqs).toHaveLength(3);
    const alarms = ofType("AWS::CloudWatch::Alarm").map(propertiesOf);
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) {
      expect(alarm.MetricName).toBe("ApproximateNumberOfMessagesVisible");
      expect(alarm.Threshold).toBe(1);
      expect(alarm.AlarmActions).toHaveLength(1);
    }
  });

  it("schedules reconcile every minute onto the FIFO queue, routes EC2 events and sweeps hourly", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      Targets: [Match.objectLike({ SqsParameters: { MessageGroupId: "saturn-schedule" } })],
    });
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.ec2"],
        "detail-type": [
          "EC2 Spot Instance Interruption Warning",
          "EC2 Instance Rebalance Recommendation",
          "EC2 Instance State-change Notification",
        ],
      },
    });
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(1 hour)" });
  });

  it("exports every output of the contract", () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    for (const key of Object.values(OUTPUTS)) expect(outputs, key).toHaveProperty(key);
  });
});
