/**
 * Saturn's control plane in one stack: the REST API (IAM auth) and six Lambdas, the
 * DynamoDB table, three SQS queues with dead-letter queues, EventBridge rules, the S3
 * bucket, and what worker instances launch with (launch templates, security group,
 * placement group, instance profile). Names the Lambdas and the stack must agree on come
 * from `lambdas/config/stack-contract.ts`.
 *
 * Each Lambda has its own role, granted only what its handler does:
 *
 * | function      | table | queues                              | EC2                               | S3          |
 * |---------------|-------|-------------------------------------|-----------------------------------|-------------|
 * | api           | rw    | send plan, reconcile                |                                   | rw workloads/<id>/reports/ |
 * | planner       | rw    | consume plan, send reconcile        | spot prices, type offerings, quotas | rw workloads/<id>/reports/ |
 * | reconciler    | rw    | consume + send reconcile            | launch, tag on create, terminate, describe, quotas | rw workloads/* |
 * | worker-events | rw    | consume worker events, send reconcile |                                 |             |
 * | ec2-events    | rw    | send reconcile                      | describe instances                |             |
 * | sweeper       | rw    | send reconcile                      | describe instances, terminate     |             |
 */
import { CfnOutput, CfnParameter, Duration, Fn, Stack, type StackProps, Tags, Token } from "aws-cdk-lib";
import { type IVpc, Vpc } from "aws-cdk-lib/aws-ec2";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { Construct } from "constructs";
import { ENV, type EnvName, OPTIONAL_ENV, OUTPUTS } from "../lambdas/config/stack-contract.ts";
import { AlarmTopic } from "./constructs/alarm-topic.ts";
import { ArtifactBucket, WORKLOADS_PREFIX } from "./constructs/artifact-bucket.ts";
import { ControlPlaneFunction } from "./constructs/control-plane-function.ts";
import { ControlPlaneQueues } from "./constructs/control-plane-queues.ts";
import {
  describeStatement,
  type Ec2ScopeProps,
  launchStatements,
  serviceQuotasStatement,
  terminateStatement,
} from "./constructs/ec2-permissions.ts";
import { EventForwardingRole } from "./constructs/event-forwarding.ts";
import { EventRules } from "./constructs/event-rules.ts";
import { SaturnApi } from "./constructs/saturn-api.ts";
import { WorkerFleet } from "./constructs/worker-fleet.ts";
import { WorkloadTable } from "./constructs/workload-table.ts";
import { artifactBucketName, workerEventsQueueName, workerInstanceProfileName } from "./deployment-names.ts";
import type { SaturnStackConfig } from "./stack-config.ts";
import { acknowledgeWildcards, type WildcardReason } from "./wildcard-acknowledgments.ts";

export interface SaturnStackProps extends StackProps {
  readonly config: SaturnStackConfig;
}

/** Where the VPC came from: context ids, a default-VPC lookup, or deploy-time parameters. */
export type VpcSource = "context" | "lookup" | "parameters";

const TIMEOUTS = {
  api: Duration.seconds(29), // API Gateway's integration limit
  planner: Duration.minutes(5),
  reconciler: Duration.minutes(3),
  workerEvents: Duration.minutes(1),
  ec2Events: Duration.minutes(1),
  sweeper: Duration.minutes(5),
} as const;

/** How cdk-nag renders the stack's account and region in an ARN: a token or a literal. */
const ACCOUNT = String.raw`(<AWS::AccountId>|\d{12})`;
const REGION = "(<AWS::Region>|[a-z0-9-]+)";
const arn = (service: string, region: string, account: string, resource: string) =>
  new RegExp(`^Resource::arn:<AWS::Partition>:${service}:${region}:${account}:${resource}$`);

const WILDCARD_REASONS: readonly WildcardReason[] = [
  {
    pattern: /^Resource::<[^>]+\.Arn>\/index\/\*$/,
    reason: "Access to the table's own indexes (the byOwner GSI); CDK's grant names them with a wildcard.",
  },
  {
    pattern: /^Resource::\*$/,
    reason: "EC2 Describe* calls have no resource-level permissions; they are read-only.",
  },
  {
    pattern: arn("ec2", REGION, ACCOUNT, String.raw`(instance|volume|fleet|network-interface|subnet)/\*`),
    reason:
      "Instance, volume, fleet and interface ids are chosen by EC2 at launch: every such statement carries a saturn:workload tag condition (RequestTag on launch, ResourceTag and the worker profile on terminate, CreateAction on tagging) or the VPC condition (subnets, interfaces; in other regions the tagged security group fixes the VPC, as EC2 requires subnet and group to share one).",
  },
  {
    pattern: arn("ec2", REGION, ACCOUNT, String.raw`(launch-template|security-group|placement-group)/\*`),
    reason:
      "Other regions' launch templates, security groups and placement groups belong to their regional stacks, whose ids the home stack does not know (no cross-region references): the statement carries the saturn:deployment resource tag condition.",
  },
  {
    pattern: arn("ec2", REGION, "", String.raw`image/\*`),
    reason: "The AMI comes from the launch template (SSM parameter or baked id); public AMI ARNs carry no account.",
  },
  {
    pattern: arn("ec2", REGION, ACCOUNT, String.raw`spot-instances-request/\*`),
    reason: "Spot requests are created by EC2 for the launch; the instances they make are tag-conditioned.",
  },
  {
    pattern: arn("iam", "", ACCOUNT, String.raw`role/aws-service-role/\*`),
    reason: "CreateServiceLinkedRole is limited by condition to the EC2 Spot and EC2 Fleet service-linked roles.",
  },
  {
    pattern: arn("servicequotas", REGION, ACCOUNT, String.raw`ec2/\*`),
    reason: "Reads EC2 quota values only (GetServiceQuota on the ec2 service).",
  },
  {
    pattern: /^Resource::<[^>]+\.Arn>\/workloads\/\*$/,
    reason: "The reconciler writes orders and reads checkpoints under per-workload prefixes chosen at run time.",
  },
  {
    pattern: /^Resource::<[^>]+\.Arn>\/workloads\/\*\/reports\/\*$/,
    reason:
      "The API writes each plan's considered report under its workload's prefix (ids chosen at run time) and presigns reads of it.",
  },
];

export class SaturnStack extends Stack {
  readonly vpcSource: VpcSource;

  constructor(scope: Construct, id: string, props: SaturnStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add("saturn:stack", config.stackName);

    const { vpc, subnetIds, source } = resolveVpc(this, config);
    this.vpcSource = source;

    const alarmTopic = new AlarmTopic(this, "Alarms", { email: config.alarmEmail });
    const { table } = new WorkloadTable(this, "Workloads", { retainData: config.retainData });
    // With other regions, what their stacks name gets a fixed name (cdk/deployment-names.ts).
    const multiRegion = config.regions.length > 1;
    const { bucket } = new ArtifactBucket(this, "Artifacts", {
      retainData: config.retainData,
      dataRetentionDays: config.dataRetentionDays,
      ...(multiRegion ? { bucketName: artifactBucketName(config.stackName, config.region) } : {}),
    });
    const queues = new ControlPlaneQueues(this, "Queues", {
      ...(multiRegion ? { workerEventsQueueName: workerEventsQueueName(config.stackName) } : {}),
      namePrefix: config.stackName,
      alarmTopic: alarmTopic.topic,
      plannerTimeout: TIMEOUTS.planner,
      reconcilerTimeout: TIMEOUTS.reconciler,
      workerEventsTimeout: TIMEOUTS.workerEvents,
    });
    const fleet = new WorkerFleet(this, "Workers", {
      vpc,
      bucket,
      workerEventsQueue: queues.workerEvents,
      amiSsmParameter: config.amiSsmParameter,
      amiId: config.amiId,
      agentVersion: config.agentVersion,
      stackName: config.stackName,
      rootVolumeGiB: config.rootVolumeGiB,
      regions: config.regions,
      ...(multiRegion ? { instanceProfileName: workerInstanceProfileName(config.stackName, config.region) } : {}),
    });
    const workerRole = fleet.role;
    if (workerRole === undefined) throw new Error("the home stack's worker fleet has no role");
    const launchTemplateId = required(fleet.launchTemplate.launchTemplateId, "launch template id");
    const efaLaunchTemplateId = required(fleet.efaLaunchTemplate.launchTemplateId, "EFA launch template id");

    const environment: Record<EnvName | typeof OPTIONAL_ENV.regions, string> = {
      [ENV.tableName]: table.tableName,
      [ENV.bucketName]: bucket.bucketName,
      [ENV.workerEventsQueueUrl]: queues.workerEvents.queueUrl,
      [ENV.reconcileQueueUrl]: queues.reconcile.queueUrl,
      [ENV.planQueueUrl]: queues.plan.queueUrl,
      [ENV.launchTemplateId]: launchTemplateId,
      [ENV.efaLaunchTemplateId]: efaLaunchTemplateId,
      [ENV.subnetIds]: subnetIds,
      [ENV.placementGroupName]: fleet.placementGroup.ref,
      [ENV.securityGroupId]: fleet.securityGroup.securityGroupId,
      [ENV.adminPrincipals]: config.adminPrincipals.join(","),
      [ENV.defaultBudgetCapUsd]: String(config.defaultBudgetCapUsd),
      [ENV.allowedInstanceTypes]: config.allowedInstanceTypes.join(","),
      [ENV.stackName]: config.stackName,
      [OPTIONAL_ENV.regions]: config.regions.join(","),
    };
    const fn = (entry: string, construct: string, memorySize: number, timeout: Duration, description: string) =>
      new ControlPlaneFunction(this, construct, {
        entry,
        memorySize,
        timeout,
        withHighs: entry === "planner" || entry === "reconciler",
        environment,
        description,
      });
    const api = fn(
      "api",
      "ApiFunction",
      1024,
      TIMEOUTS.api,
      "Saturn API: submit, list, status, plan, approve, cancel, catalog",
    );
    const planner = fn(
      "planner",
      "PlannerFunction",
      3008,
      TIMEOUTS.planner,
      "Saturn planner: solves a workload's MILP",
    );
    const reconciler = fn("reconciler", "ReconcilerFunction", 2048, TIMEOUTS.reconciler, "Saturn reconciler: one pass");
    const workerEvents = fn(
      "worker-events",
      "WorkerEventsFunction",
      512,
      TIMEOUTS.workerEvents,
      "Saturn worker-event ingest",
    );
    const ec2Events = fn("ec2-events", "Ec2EventsFunction", 512, TIMEOUTS.ec2Events, "Saturn EC2 event handler");
    const sweeper = fn("sweeper", "SweeperFunction", 512, TIMEOUTS.sweeper, "Saturn sweeper: ends orphaned instances");
    const all = [api, planner, reconciler, workerEvents, ec2Events, sweeper];

    for (const each of all) table.grantReadWriteData(each.role);
    queues.plan.grantSendMessages(api.role);
    for (const each of all) if (each !== reconciler) queues.reconcile.grantSendMessages(each.role);
    queues.reconcile.grantSendMessages(reconciler.role);

    const ec2Scope: Ec2ScopeProps = {
      launchTemplateIds: [launchTemplateId, efaLaunchTemplateId],
      securityGroupId: fleet.securityGroup.securityGroupId,
      placementGroupName: fleet.placementGroup.ref,
      instanceProfileArn: fleet.instanceProfile.instanceProfileArn,
      workerRole,
      vpcId: vpc.vpcId,
      allowedInstanceTypes: config.allowedInstanceTypes,
      otherRegions: config.regions.slice(1),
      deployment: config.stackName,
    };
    for (const statement of launchStatements(this, ec2Scope)) reconciler.role.addToPolicy(statement);
    reconciler.role.addToPolicy(terminateStatement(this, ec2Scope));
    reconciler.role.addToPolicy(describeStatement());
    reconciler.role.addToPolicy(serviceQuotasStatement(this, config.regions));
    reconciler.role.addToPolicy(
      new PolicyStatement({
        sid: "WorkloadObjects",
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [bucket.arnForObjects(`${WORKLOADS_PREFIX}*`)],
      }),
    );
    reconciler.role.addToPolicy(
      new PolicyStatement({
        sid: "ListWorkloadObjects",
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${WORKLOADS_PREFIX}*`] } },
      }),
    );
    planner.role.addToPolicy(
      describeStatement([
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeAvailabilityZones",
      ]),
    );
    planner.role.addToPolicy(serviceQuotasStatement(this, config.regions));
    // The planner writes each plan's considered report next to storing the plan (the
    // reconciler's re-plans too, under its workloads/* grant); HeadObject needs s3:GetObject.
    planner.role.addToPolicy(
      new PolicyStatement({
        sid: "PlanReports",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [bucket.arnForObjects(`${WORKLOADS_PREFIX}*/reports/*`)],
      }),
    );
    // GET /workloads/{id}/plan: a presigned GET of the report (and, for a plan stored whole
    // before reports were written at planning time, the write of its report).
    api.role.addToPolicy(
      new PolicyStatement({
        sid: "PlanReports",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [bucket.arnForObjects(`${WORKLOADS_PREFIX}*/reports/*`)],
      }),
    );
    ec2Events.role.addToPolicy(describeStatement(["ec2:DescribeInstances"]));
    sweeper.role.addToPolicy(describeStatement(["ec2:DescribeInstances"]));
    sweeper.role.addToPolicy(terminateStatement(this, ec2Scope));

    planner.function.addEventSource(new SqsEventSource(queues.plan, { batchSize: 1, reportBatchItemFailures: true }));
    // One message per invocation: a FIFO batch holds messages of several groups, and a
    // pass per invocation keeps a slow workload from delaying the next one's pass.
    reconciler.function.addEventSource(
      new SqsEventSource(queues.reconcile, { batchSize: 1, reportBatchItemFailures: true }),
    );
    workerEvents.function.addEventSource(
      new SqsEventSource(queues.workerEvents, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
      }),
    );

    const saturnApi = new SaturnApi(this, "Http", {
      handler: api.function,
      throttleRatePerSecond: config.apiThrottleRatePerSecond,
      throttleBurst: config.apiThrottleBurst,
    });
    new EventRules(this, "Events", {
      reconcileQueue: queues.reconcile,
      ec2EventsFunction: ec2Events.function,
      sweeperFunction: sweeper.function,
    });
    if (multiRegion)
      new EventForwardingRole(this, "EventForwarding", { stackName: config.stackName, homeRegion: config.region });

    for (const each of all) acknowledgeWildcards(each.role, WILDCARD_REASONS);

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(OUTPUTS.apiUrl, saturnApi.api.url, "Base URL of the REST API (SigV4, IAM auth)");
    output(OUTPUTS.tableName, table.tableName, "DynamoDB table");
    output(OUTPUTS.bucketName, bucket.bucketName, "Bucket for orders, checkpoints, logs and the agent bundle");
    output(OUTPUTS.workerEventsQueueUrl, queues.workerEvents.queueUrl, "Queue the worker agents send events to");
    output(OUTPUTS.reconcileQueueUrl, queues.reconcile.queueUrl, "FIFO queue of reconcile passes");
    output(OUTPUTS.planQueueUrl, queues.plan.queueUrl, "Queue of plan requests");
    output(OUTPUTS.launchTemplateId, launchTemplateId, "Launch template for workers");
    output(OUTPUTS.efaLaunchTemplateId, efaLaunchTemplateId, "Launch template for multi-node workers on EFA types");
    output(OUTPUTS.securityGroupId, fleet.securityGroup.securityGroupId, "Worker security group");
    output(OUTPUTS.placementGroupName, fleet.placementGroup.ref, "Cluster placement group for multi-node jobs");
    output(OUTPUTS.subnetIds, subnetIds, "Subnets workers launch into (comma-separated)");
    output(OUTPUTS.alarmTopicArn, alarmTopic.topic.topicArn, "SNS topic of Saturn's alarms");
  }
}

/** The worker security group needs only the VPC id; subnets are passed to CreateFleet by id. */
const UNUSED_AZS = [Fn.select(0, Fn.getAzs())];

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`CDK gave no ${what}`);
  return value;
}

/**
 * Context ids are used as given (no lookup, so synth stays offline). Without them, the
 * default VPC is looked up when the stack's account is known (the CLI sets it from the
 * credentials in use); with `vpcParameters`, or without an account (e.g. `cdk synth` on a
 * machine without credentials), the template takes the VPC and subnets as CloudFormation
 * parameters `WorkerVpcId` and `WorkerSubnetIds`.
 */
export function resolveVpc(
  stack: Stack,
  config: Pick<SaturnStackConfig, "vpc" | "vpcParameters">,
): { readonly vpc: IVpc; readonly subnetIds: string; readonly source: VpcSource } {
  if (config.vpc !== undefined) {
    const vpc = Vpc.fromVpcAttributes(stack, "Vpc", { vpcId: config.vpc.vpcId, availabilityZones: UNUSED_AZS });
    return { vpc, subnetIds: config.vpc.subnetIds.join(","), source: "context" };
  }
  if (!config.vpcParameters && !Token.isUnresolved(stack.account)) {
    const vpc = Vpc.fromLookup(stack, "Vpc", { isDefault: true });
    return { vpc, subnetIds: vpc.publicSubnets.map((subnet) => subnet.subnetId).join(","), source: "lookup" };
  }
  const vpcId = new CfnParameter(stack, "WorkerVpcId", {
    type: "AWS::EC2::VPC::Id",
    description: "VPC the workers launch into (or synthesize with -c vpcId=... -c subnetIds=...)",
  });
  const subnets = new CfnParameter(stack, "WorkerSubnetIds", {
    type: "List<AWS::EC2::Subnet::Id>",
    description: "Subnets of that VPC the workers may launch into",
  });
  const vpc = Vpc.fromVpcAttributes(stack, "Vpc", { vpcId: vpcId.valueAsString, availabilityZones: UNUSED_AZS });
  return { vpc, subnetIds: Fn.join(",", subnets.valueAsList), source: "parameters" };
}
