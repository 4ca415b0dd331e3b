/**
 * The stack's resources created straight from the stack contract in moto (table, queues
 * with their dead-letter queues, bucket, launch templates, placement group, the default
 * VPC's subnets), and the environment every function would find. Used while the suite
 * runs without the deployed stack.
 */
import { randomUUID } from "node:crypto";
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ENV, type EnvName } from "../../../lambdas/config/stack-contract.ts";
import { emulatorClientConfig } from "../../support/aws.ts";
import { createTestTable } from "../../support/dynamodb-table.ts";

export async function createContractResources(admins: readonly string[]): Promise<Record<EnvName, string>> {
  const suffix = randomUUID().slice(0, 8);
  const sqs = new SQSClient(emulatorClientConfig());
  const ec2 = new EC2Client(emulatorClientConfig());
  const s3 = new S3Client({ ...emulatorClientConfig(), forcePathStyle: true });
  const table = await createTestTable("saturn-flow");
  const queue = async (name: string, fifo: boolean): Promise<string> => {
    const attributes = fifo ? { FifoQueue: "true" } : {};
    const dlq = await sqs.send(
      new CreateQueueCommand({ QueueName: `${name}-dlq-${suffix}${fifo ? ".fifo" : ""}`, Attributes: attributes }),
    );
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn;
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${name}-${suffix}${fifo ? ".fifo" : ""}`,
        Attributes: {
          ...attributes,
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
        },
      }),
    );
    return main.QueueUrl ?? "";
  };
  const [plan, reconcile, workerEvents] = await Promise.all([
    queue("saturn-plan", false),
    queue("saturn-reconcile", true),
    queue("saturn-worker-events", false),
  ]);
  const bucket = `saturn-artifacts-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const image =
    (await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images?.[0]?.ImageId ?? "ami-12c6146b";
  const template = async (name: string) =>
    (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: `${name}-${suffix}`,
          LaunchTemplateData: { ImageId: image, MetadataOptions: { HttpTokens: "required" } },
        }),
      )
    ).LaunchTemplate?.LaunchTemplateId ?? "";
  const [launchTemplateId, efaLaunchTemplateId] = await Promise.all([
    template("saturn-workers"),
    template("saturn-efa"),
  ]);
  const placementGroup = `saturn-cluster-${suffix}`;
  // moto answers CreatePlacementGroup with a 500 here; only multi-node launches name the group.
  const subnets =
    (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }))).Subnets ??
    [];
  return {
    [ENV.tableName]: table.tableName,
    [ENV.bucketName]: bucket,
    [ENV.workerEventsQueueUrl]: workerEvents,
    [ENV.reconcileQueueUrl]: reconcile,
    [ENV.planQueueUrl]: plan,
    [ENV.launchTemplateId]: launchTemplateId,
    [ENV.efaLaunchTemplateId]: efaLaunchTemplateId,
    [ENV.subnetIds]: subnets.map((subnet) => subnet.SubnetId).join(","),
    [ENV.placementGroupName]: placementGroup,
    [ENV.securityGroupId]: "sg-unused-in-moto",
    [ENV.adminPrincipals]: admins.join(","),
    [ENV.defaultBudgetCapUsd]: "",
    [ENV.allowedInstanceTypes]: "",
    [ENV.stackName]: `saturn-${suffix}`,
  };
}
