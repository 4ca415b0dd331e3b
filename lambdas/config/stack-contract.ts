/**
 * What the CDK stack and the Lambda code must agree on: environment variable names, the
 * table's key schema, queue and output names. The stack sets these variables; each
 * handler's composition root reads them once, at cold start, and fails at once with the
 * missing name. Nothing here does I/O.
 */
export const ENV = {
  tableName: "SATURN_TABLE_NAME",
  bucketName: "SATURN_BUCKET_NAME",
  /** Worker events from agents (standard queue, DLQ after 3 receives). */
  workerEventsQueueUrl: "SATURN_WORKER_EVENTS_QUEUE_URL",
  /** Reconcile requests (FIFO, message group = workload id: passes of one workload never overlap). */
  reconcileQueueUrl: "SATURN_RECONCILE_QUEUE_URL",
  /** Plan requests from submit. */
  planQueueUrl: "SATURN_PLAN_QUEUE_URL",
  launchTemplateId: "SATURN_LAUNCH_TEMPLATE_ID",
  /** Template with one EFA interface, for multi-node jobs on EFA types (placement group, one subnet). */
  efaLaunchTemplateId: "SATURN_EFA_LAUNCH_TEMPLATE_ID",
  subnetIds: "SATURN_SUBNET_IDS",
  placementGroupName: "SATURN_PLACEMENT_GROUP",
  securityGroupId: "SATURN_SECURITY_GROUP_ID",
  /** Comma-separated IAM principal ARNs that see every workload. */
  adminPrincipals: "SATURN_ADMIN_PRINCIPALS",
  defaultBudgetCapUsd: "SATURN_DEFAULT_BUDGET_CAP_USD",
  allowedInstanceTypes: "SATURN_ALLOWED_INSTANCE_TYPES",
  stackName: "SATURN_STACK_NAME",
} as const;
export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Variables a function reads when set and defaults otherwise (the stack need not set them). */
export const OPTIONAL_ENV = {
  /** Sweeper: seconds without any worker event (or launch) before an instance counts as lost. Default 1800. */
  heartbeatTimeoutSeconds: "SATURN_HEARTBEAT_TIMEOUT_SECONDS",
  /**
   * Comma-separated regions the deployment covers (the home region and those with a
   * regional stack, cdk/regional-stack.ts). Default: AWS_REGION only.
   */
  regions: "SATURN_REGIONS",
} as const;

/** Single-table design: `pk`/`sk` strings, one GSI by owner. See docs/control-plane.md. */
export const TABLE = {
  partitionKey: "pk",
  sortKey: "sk",
  ownerIndex: "byOwner",
  ownerIndexPartitionKey: "gsi1pk",
  ownerIndexSortKey: "gsi1sk",
  /** Attribute DynamoDB's TTL deletes on (epoch seconds), for leases and idempotency keys. */
  ttlAttribute: "expiresAt",
} as const;

/** CloudFormation output keys of the stack (the CLI reads the API URL from them). */
export const OUTPUTS = {
  apiUrl: "ApiUrl",
  tableName: "TableName",
  bucketName: "BucketName",
  workerEventsQueueUrl: "WorkerEventsQueueUrl",
  reconcileQueueUrl: "ReconcileQueueUrl",
  planQueueUrl: "PlanQueueUrl",
  launchTemplateId: "LaunchTemplateId",
  efaLaunchTemplateId: "EfaLaunchTemplateId",
  securityGroupId: "SecurityGroupId",
  placementGroupName: "PlacementGroupName",
  /** Comma-separated, as in SATURN_SUBNET_IDS. */
  subnetIds: "SubnetIds",
  alarmTopicArn: "AlarmTopicArn",
} as const;

export const DEFAULT_STACK_NAME = "Saturn";
/** The PyTorch Deep Learning AMI's public SSM parameter (Ubuntu 22.04, PyTorch 2.x, x86_64). */
export const DEFAULT_AMI_SSM_PARAMETER =
  "/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.7-ubuntu-22.04/latest/ami-id";
