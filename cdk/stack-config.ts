/**
 * The stack's configuration, read from CDK context (`-c key=value` or `cdk.json`) once, in
 * the app, and validated: a bad value fails synth with the key, what was expected and what
 * came. Values given on the command line are strings; values in `cdk.json` may be JSON
 * (arrays, numbers, booleans), so every reader accepts both.
 */
import { DEFAULT_AMI_SSM_PARAMETER, DEFAULT_STACK_NAME } from "../lambdas/config/stack-contract.ts";

/** Every GPU family in `data/catalog.json`; the IAM launch condition allows only these. */
export const DEFAULT_ALLOWED_INSTANCE_FAMILIES = [
  "g4dn",
  "g5",
  "g6",
  "g6e",
  "p3",
  "p3dn",
  "p4d",
  "p4de",
  "p5",
  "p5e",
  "p5en",
] as const;

export interface VpcChoice {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
}

export interface SaturnStackConfig {
  readonly stackName: string;
  /** Undefined: the region of the credentials in use (CDK_DEFAULT_REGION), else us-east-1. */
  readonly region: string;
  /**
   * Every region the deployment launches in, `region` first (context `regions`; default:
   * `region` only). Each other region gets a regional stack (cdk/regional-stack.ts).
   */
  readonly regions: readonly string[];
  /** VPC and subnets per other region (context `regionVpcs`); a region without one uses its default VPC. */
  readonly regionVpcs: Readonly<Record<string, VpcChoice>>;
  /** Instance type patterns for IAM's `ec2:InstanceType` condition, e.g. `g6e.*`, `p5.48xlarge`. */
  readonly allowedInstanceTypes: readonly string[];
  /** Undefined: the default VPC (looked up when the account is known, else CloudFormation parameters). */
  readonly vpc: VpcChoice | undefined;
  /** Take the VPC and subnets as CloudFormation parameters (a VPC-independent template). */
  readonly vpcParameters: boolean;
  readonly amiSsmParameter: string;
  /** A baked AMI (ami/) used instead of the SSM parameter when set. */
  readonly amiId: string | undefined;
  readonly defaultBudgetCapUsd: number;
  readonly adminPrincipals: readonly string[];
  /** Days after which S3 objects under `workloads/` expire. */
  readonly dataRetentionDays: number;
  /** Keep the table and bucket when the stack is deleted (default true). */
  readonly retainData: boolean;
  /** Agent bundle version the user data downloads from `agent/<version>/saturn-agent.tgz`. */
  readonly agentVersion: string;
  readonly apiThrottleRatePerSecond: number;
  readonly apiThrottleBurst: number;
  /** E-mail subscribed to the alarm topic, if any. */
  readonly alarmEmail: string | undefined;
  /** Root gp3 volume of each worker, GiB: at least the AMI's snapshot (launches fail otherwise), plus room for checkpoints in flight. */
  readonly rootVolumeGiB: number;
}

export class StackConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StackConfigError";
  }
}

export type ContextReader = (key: string) => unknown;

const INSTANCE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9*]+|\.\*)?$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function describe(value: unknown): string {
  return `${JSON.stringify(value)} (${Array.isArray(value) ? "array" : typeof value})`;
}

function stringOf(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string")
    throw new StackConfigError(`context "${key}": expected a string, got ${describe(value)}`);
  return value.trim();
}

/** A list from a JSON array or a comma-separated string; empty entries are dropped. */
function listOf(read: ContextReader, key: string): readonly string[] | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === "") return undefined;
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : undefined;
  if (items === undefined || !items.every((item) => typeof item === "string")) {
    throw new StackConfigError(
      `context "${key}": expected a comma-separated string or an array of strings, got ${describe(value)}`,
    );
  }
  return items.map((item: string) => item.trim()).filter((item: string) => item.length > 0);
}

function numberOf(read: ContextReader, key: string, fallback: number, min: number): number {
  const value = read(key);
  if (value === undefined || value === null || value === "") return fallback;
  const parsed = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed) || parsed < min) {
    throw new StackConfigError(`context "${key}": expected a number >= ${min}, got ${describe(value)}`);
  }
  return parsed;
}

function booleanOf(read: ContextReader, key: string, fallback: boolean): boolean {
  const value = read(key);
  if (value === undefined || value === null || value === "") return fallback;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new StackConfigError(`context "${key}": expected true or false, got ${describe(value)}`);
}

function checkEach(key: string, items: readonly string[], pattern: RegExp, expected: string): readonly string[] {
  for (const item of items) {
    if (!pattern.test(item))
      throw new StackConfigError(`context "${key}": expected ${expected}, got ${JSON.stringify(item)}`);
  }
  return items;
}

/** Families (`g6e`) become `g6e.*`; types and patterns stay as given. */
function instancePatterns(items: readonly string[]): readonly string[] {
  checkEach(
    "allowedInstanceTypes",
    items,
    INSTANCE_PATTERN,
    "instance families or types such as g6e, p5.48xlarge or g6.*",
  );
  return [...new Set(items.map((item) => (item.includes(".") ? item : `${item}.*`)))];
}

function vpcOf(read: ContextReader): VpcChoice | undefined {
  const vpcId = stringOf(read, "vpcId");
  const subnetIds = listOf(read, "subnetIds");
  if (vpcId === undefined && subnetIds === undefined) return undefined;
  if (vpcId === undefined || subnetIds === undefined || subnetIds.length === 0) {
    throw new StackConfigError(
      `context "vpcId" and "subnetIds" go together: got vpcId ${JSON.stringify(vpcId)} and subnetIds ${JSON.stringify(subnetIds)}; give both, or neither for the default VPC`,
    );
  }
  checkEach("vpcId", [vpcId], VPC_ID, "a VPC id such as vpc-0123abcd");
  return { vpcId, subnetIds: checkEach("subnetIds", subnetIds, SUBNET_ID, "subnet ids such as subnet-0123abcd") };
}

function emailOf(read: ContextReader): string | undefined {
  const email = stringOf(read, "alarmEmail");
  if (email !== undefined) checkEach("alarmEmail", [email], /^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an e-mail address");
  return email;
}

export interface ConfigDefaults {
  /** CDK_DEFAULT_REGION from the CLI's credentials, when known. */
  readonly region?: string;
  readonly agentVersion: string;
}

/**
 * `regionVpcs`: `{"us-west-2": {"vpcId": "vpc-...", "subnetIds": ["subnet-..."]}}`, as a
 * JSON object in cdk.json or JSON text on the command line.
 */
function regionVpcsOf(read: ContextReader, regions: readonly string[]): Readonly<Record<string, VpcChoice>> {
  let value = read("regionVpcs");
  if (value === undefined || value === null || value === "") return {};
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new StackConfigError(`context "regionVpcs": expected a JSON object, got ${describe(value)}`, {
        cause: error,
      });
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new StackConfigError(
      `context "regionVpcs": expected an object of region -> {vpcId, subnetIds}, got ${describe(value)}`,
    );
  }
  const choices: Record<string, VpcChoice> = {};
  for (const [region, entry] of Object.entries(value as Record<string, unknown>)) {
    if (!regions.slice(1).includes(region)) {
      throw new StackConfigError(
        `context "regionVpcs": expected only regions of "regions" other than the home region (${regions.slice(1).join(", ") || "none"}), got ${JSON.stringify(region)}`,
      );
    }
    const fields = (entry ?? {}) as { vpcId?: unknown; subnetIds?: unknown };
    const choice = vpcOf((key) => fields[key as "vpcId" | "subnetIds"]);
    if (choice === undefined) {
      throw new StackConfigError(`context "regionVpcs.${region}": expected {vpcId, subnetIds}, got ${describe(entry)}`);
    }
    choices[region] = choice;
  }
  return choices;
}

/** Longest stack name with other regions: it names the bucket (<= 63 characters with account and region). */
export const MAX_MULTI_REGION_STACK_NAME = 30;

export function readStackConfig(read: ContextReader, defaults: ConfigDefaults): SaturnStackConfig {
  const region = stringOf(read, "region") ?? defaults.region ?? "us-east-1";
  checkEach("region", [region], REGION, "an AWS region such as us-east-1");
  const regions = [
    ...new Set([
      region,
      ...checkEach("regions", listOf(read, "regions") ?? [], REGION, "AWS regions such as us-west-2"),
    ]),
  ];
  const amiId = stringOf(read, "amiId");
  if (amiId !== undefined) checkEach("amiId", [amiId], AMI_ID, "an AMI id such as ami-0123abcd");
  const amiSsmParameter = stringOf(read, "amiSsmParameter") ?? DEFAULT_AMI_SSM_PARAMETER;
  if (!amiSsmParameter.startsWith("/")) {
    throw new StackConfigError(
      `context "amiSsmParameter": expected an SSM parameter name starting with "/", got ${JSON.stringify(amiSsmParameter)}`,
    );
  }
  const stackName = stringOf(read, "stackName") ?? DEFAULT_STACK_NAME;
  checkEach(
    "stackName",
    [stackName],
    /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
    "a CloudFormation stack name (letters, digits, '-')",
  );
  const vpc = vpcOf(read);
  const vpcParameters = booleanOf(read, "vpcParameters", false);
  if (vpc !== undefined && vpcParameters) {
    throw new StackConfigError(
      'context "vpcParameters": true cannot go with "vpcId"/"subnetIds"; give one or the other',
    );
  }
  if (regions.length > 1 && stackName.length > MAX_MULTI_REGION_STACK_NAME) {
    throw new StackConfigError(
      `context "stackName": expected at most ${MAX_MULTI_REGION_STACK_NAME} characters with "regions" (it names the bucket the regional stacks' workers use), got ${stackName.length}`,
    );
  }
  return {
    stackName,
    region,
    regions,
    regionVpcs: regionVpcsOf(read, regions),
    allowedInstanceTypes: instancePatterns(listOf(read, "allowedInstanceTypes") ?? DEFAULT_ALLOWED_INSTANCE_FAMILIES),
    vpc,
    vpcParameters,
    amiSsmParameter,
    amiId,
    defaultBudgetCapUsd: numberOf(read, "defaultBudgetCapUsd", 1000, 0),
    adminPrincipals: checkEach(
      "adminPrincipals",
      listOf(read, "adminPrincipals") ?? [],
      PRINCIPAL_ARN,
      "IAM principal ARNs such as arn:aws:iam::123456789012:role/Admin",
    ),
    dataRetentionDays: numberOf(read, "dataRetentionDays", 30, 1),
    retainData: booleanOf(read, "retainData", true),
    agentVersion: stringOf(read, "agentVersion") ?? defaults.agentVersion,
    apiThrottleRatePerSecond: numberOf(read, "apiThrottleRatePerSecond", 10, 1),
    apiThrottleBurst: numberOf(read, "apiThrottleBurst", 20, 1),
    alarmEmail: emailOf(read),
    rootVolumeGiB: numberOf(read, "rootVolumeGiB", 200, 8),
  };
}
