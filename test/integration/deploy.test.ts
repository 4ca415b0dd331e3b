/**
 * Smoke test of the deployment: the stack the global setup deployed into the emulator has
 * the table, queues, bucket and launch templates with the settings the emulator applies.
 * What moto accepts but ignores (PITR, TTL, public access block, lifecycle, stage, alarms,
 * queue and bucket policies) is asserted on the template in test/cdk/saturn-stack.test.ts.
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeLaunchTemplateVersionsCommand, DescribeSecurityGroupsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetBucketEncryptionCommand, S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { ENV, OUTPUTS, TABLE } from "../../lambdas/config/stack-contract.ts";
import { bucketLayout } from "../../lambdas/core/protocol/worker-protocol.ts";
import packageJson from "../../package.json" with { type: "json" };
import { deployedClientConfig, deployedEnvironment, deployedStack } from "../support/deployed-stack.ts";

const stack = deployedStack();
const config = deployedClientConfig();
const ec2 = new EC2Client(config);
const sqs = new SQSClient(config);

afterAll(() => {
  ec2.destroy();
  sqs.destroy();
});

async function queueAttributes(url: string): Promise<Record<string, string>> {
  const answer = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));
  return answer.Attributes ?? {};
}

async function templateData(id: string) {
  const answer = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
  const data = answer.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
  if (data === undefined) throw new Error(`launch template ${id} has no version`);
  return data;
}

describe("the stack deployed into the emulator", () => {
  it("is complete and has every output of the contract", async () => {
    const cloudFormation = new CloudFormationClient(config);
    const answer = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack.stackName }));
    cloudFormation.destroy();
    expect(answer.Stacks?.[0]?.StackStatus).toBe("CREATE_COMPLETE");
    for (const key of Object.values(OUTPUTS)) expect(stack.outputs[key], key).toMatch(/\S/);
    for (const name of Object.values(ENV)) expect(deployedEnvironment(), name).toHaveProperty(name);
  });

  it("has the single table with the contract's keys and the owner index", async () => {
    const dynamo = new DynamoDBClient(config);
    const { Table: table } = await dynamo.send(
      new DescribeTableCommand({ TableName: stack.outputs[OUTPUTS.tableName] }),
    );
    dynamo.destroy();
    expect(table?.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
      { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
    ]);
    expect(table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema])).toEqual([
      [
        TABLE.ownerIndex,
        [
          { AttributeName: TABLE.ownerIndexPartitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.ownerIndexSortKey, KeyType: "RANGE" },
        ],
      ],
    ]);
  });

  it("sends each queue's failures to its own dead-letter queue after three receives", async () => {
    const urls = [OUTPUTS.workerEventsQueueUrl, OUTPUTS.planQueueUrl, OUTPUTS.reconcileQueueUrl].map(
      (key) => stack.outputs[key] ?? "",
    );
    const targets = new Set<string>();
    for (const url of urls) {
      const attributes = await queueAttributes(url);
      const redrive = JSON.parse(attributes.RedrivePolicy ?? "{}");
      expect(redrive.maxReceiveCount, url).toBe(3);
      expect(redrive.deadLetterTargetArn, url).not.toBe(attributes.QueueArn);
      expect(attributes.SqsManagedSseEnabled, url).toBe("true");
      targets.add(redrive.deadLetterTargetArn);
    }
    expect(targets.size).toBe(3);
  });

  it("makes the reconcile queue FIFO with content-based deduplication and a FIFO dead-letter queue", async () => {
    const attributes = await queueAttributes(stack.outputs[OUTPUTS.reconcileQueueUrl] ?? "");
    expect(attributes.FifoQueue).toBe("true");
    expect(attributes.ContentBasedDeduplication).toBe("true");
    expect(JSON.parse(attributes.RedrivePolicy ?? "{}").deadLetterTargetArn).toMatch(/\.fifo$/);
  });

  it("keeps each queue's visibility timeout at six times its consumer's timeout", async () => {
    const seconds = async (key: string) => Number((await queueAttributes(stack.outputs[key] ?? "")).VisibilityTimeout);
    expect(await seconds(OUTPUTS.workerEventsQueueUrl)).toBe(6 * 60);
    expect(await seconds(OUTPUTS.planQueueUrl)).toBe(6 * 5 * 60);
    expect(await seconds(OUTPUTS.reconcileQueueUrl)).toBe(6 * 3 * 60);
  });

  it("encrypts the bucket", async () => {
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const answer = await s3.send(new GetBucketEncryptionCommand({ Bucket: stack.outputs[OUTPUTS.bucketName] }));
    s3.destroy();
    expect(answer.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe(
      "AES256",
    );
  });

  it("launches workers with IMDSv2, an encrypted gp3 root, the profile, terminate-on-shutdown and the agent's user data", async () => {
    const data = await templateData(stack.outputs[OUTPUTS.launchTemplateId] ?? "");
    expect(data.MetadataOptions).toMatchObject({
      HttpTokens: "required",
      HttpPutResponseHopLimit: 2,
      InstanceMetadataTags: "enabled",
    });
    expect(data.BlockDeviceMappings?.[0]?.Ebs).toMatchObject({
      Encrypted: true,
      VolumeType: "gp3",
      DeleteOnTermination: true,
    });
    expect(data.IamInstanceProfile?.Arn).toMatch(/:instance-profile\//);
    expect(data.InstanceInitiatedShutdownBehavior).toBe("terminate");
    expect(data.SecurityGroupIds).toEqual([stack.outputs[OUTPUTS.securityGroupId]]);
    // The AMI parameter resolved at deploy time to the image the setup seeded.
    expect(data.ImageId).toMatch(/^ami-/);
    const userData = Buffer.from(data.UserData ?? "", "base64").toString("utf8");
    expect(userData).toContain(`BUCKET="${stack.outputs[OUTPUTS.bucketName]}"`);
    expect(userData).toContain(`AGENT_VERSION="${packageJson.version}"`);
    // The bootstrap fetches the bundle from the key the protocol lays out.
    expect(userData).toContain(`s3://${"${BUCKET}"}/${bucketLayout.agentBundle("${AGENT_VERSION}")}`);
    expect(userData).toContain(`QUEUE_URL="${stack.environment[ENV.workerEventsQueueUrl]}"`);
  });

  it("gives the EFA template one EFA interface that carries the worker security group", async () => {
    const data = await templateData(stack.outputs[OUTPUTS.efaLaunchTemplateId] ?? "");
    expect(data.NetworkInterfaces).toEqual([
      expect.objectContaining({
        DeviceIndex: 0,
        NetworkCardIndex: 0,
        InterfaceType: "efa",
        Groups: [stack.outputs[OUTPUTS.securityGroupId]],
      }),
    ]);
    expect(data.SecurityGroupIds ?? []).toEqual([]);
    expect(data.MetadataOptions?.HttpTokens).toBe("required");
  });

  it("opens the worker security group only to itself", async () => {
    const groupId = stack.outputs[OUTPUTS.securityGroupId] ?? "";
    const answer = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const ingress = answer.SecurityGroups?.[0]?.IpPermissions ?? [];
    expect(ingress).toHaveLength(1);
    expect(ingress[0]?.IpProtocol).toBe("-1");
    expect(ingress[0]?.IpRanges ?? []).toEqual([]);
    expect(ingress[0]?.UserIdGroupPairs?.map((pair) => pair.GroupId)).toEqual([groupId]);
  });
});
