/**
 * Deploys the synthesized Saturn stack into an AWS emulator (a moto server, or LocalStack)
 * with the CDK CLI, exactly as a user deploys into an account: `cdk synth`, `cdk bootstrap`,
 * `cdk deploy`. What moto needs (docs/deploy.md, "Deploying into an emulator"):
 *
 * - the template is synthesized VPC-independent (`-c vpcParameters=true`), so one cloud
 *   assembly serves every emulator; the default VPC and its subnets are looked up after
 *   the emulator starts and passed as stack parameters;
 * - the AMI parameter is the emulator's own (`EMULATOR_AMI_PARAMETER`), seeded with an
 *   image id that moto knows, because the DLAMI's public parameter does not exist there
 *   and `/aws/` names cannot be written;
 * - `--method=direct` (moto cannot execute change sets), and on a `127.0.0.1` endpoint
 *   `AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION`, so moto does not read the IP as a bucket.
 *
 * The synthesized assembly is reused while its inputs (cdk/, lambdas/, the lock file,
 * cdk.json, the context) are unchanged: a hash of them is stored beside it.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetParametersByPathCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { DEFAULT_STACK_NAME, ENV, type EnvName, OPTIONAL_ENV, OUTPUTS } from "../lambdas/config/stack-contract.ts";
import { regionalStackName } from "./deployment-names.ts";
import { REPO_ROOT } from "./lambda-bundling.ts";
import { readStackConfig } from "./stack-config.ts";

/** The AMI parameter the emulator stack reads (seeded before every deploy). */
export const EMULATOR_AMI_PARAMETER = "/saturn/emulator/ami-id";
/** moto serves Amazon Linux parameters under this path; any image id it knows will do. */
const MOTO_AMI_PARAMETERS = "/aws/service/ami-amazon-linux-latest";
export const DEFAULT_EMULATOR_ASSEMBLY = path.join(REPO_ROOT, ".saturn", "emulator-cdk.out");
const CDK_CLI = path.join(REPO_ROOT, "node_modules", "aws-cdk", "bin", "cdk");
const HASH_FILE = "saturn-inputs.sha256";

export interface EmulatorTarget {
  readonly endpoint: string;
  readonly region: string;
}

/**
 * Context the emulator stack is synthesized with; everything else takes its default.
 * `regions` beyond the home region add regional stacks (cdk/regional-stack.ts).
 */
export function emulatorContext(
  region: string,
  stackName = DEFAULT_STACK_NAME,
  regions: readonly string[] = [],
): Readonly<Record<string, string>> {
  const others = regions.filter((other) => other !== region);
  return {
    region,
    stackName,
    vpcParameters: "true",
    amiSsmParameter: EMULATOR_AMI_PARAMETER,
    retainData: "false",
    ...(others.length > 0 ? { regions: [region, ...others].join(",") } : {}),
  };
}

export class EmulatorDeploymentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EmulatorDeploymentError";
  }
}

export interface Timed<T> {
  readonly value: T;
  readonly seconds: number;
}

async function timed<T>(run: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - started) / 1000 };
}

/** Runs the CDK CLI; on failure the error carries the end of its output. */
async function cdk(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CDK_CLI, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) =>
      reject(new EmulatorDeploymentError(`could not run the CDK CLI at ${CDK_CLI}`, { cause: error })),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else reject(new EmulatorDeploymentError(`cdk ${args[0]} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** Environment without the caller's AWS identity: synth must not look anything up. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith("AWS_") && !key.startsWith("CDK_")) env[key] = value;
  return {
    ...env,
    CDK_DISABLE_CLI_TELEMETRY: "true",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}

/** Environment that points the CLI (and its SDK) at the emulator with dummy credentials. */
export function emulatorEnv(target: EmulatorTarget): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...offlineEnv(),
    AWS_ENDPOINT_URL: target.endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: target.region,
    AWS_DEFAULT_REGION: target.region,
  };
  delete env.AWS_CONFIG_FILE;
  delete env.AWS_SHARED_CREDENTIALS_FILE;
  // moto reads the host of http://127.0.0.1:PORT/bucket/key as a bucket name.
  if (new URL(target.endpoint).hostname === "127.0.0.1") {
    env.AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION = `https://s3.${target.region}.amazonaws.com`;
  }
  return env;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** Hash of everything the assembly is built from. */
async function inputsHash(context: Readonly<Record<string, string>>): Promise<string> {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(context));
  const files = [
    // This file only drives the CLI; it does not shape the template.
    ...(await listFiles(path.join(REPO_ROOT, "cdk"))).filter((file) => !file.endsWith("emulator-deployment.ts")),
    ...(await listFiles(path.join(REPO_ROOT, "lambdas"))),
    path.join(REPO_ROOT, "package-lock.json"),
    path.join(REPO_ROOT, "cdk.json"),
  ];
  for (const file of files) {
    hash.update(path.relative(REPO_ROOT, file));
    hash.update(await readFile(file));
  }
  return hash.digest("hex");
}

export interface SynthResult {
  readonly assemblyDir: string;
  readonly reused: boolean;
}

/** `cdk synth` into `assemblyDir`, unless an assembly of the same inputs is already there. */
export async function synthesizeForEmulator(options: {
  readonly region: string;
  readonly assemblyDir?: string;
  readonly stackName?: string;
  readonly regions?: readonly string[];
}): Promise<SynthResult> {
  const context = emulatorContext(options.region, options.stackName, options.regions);
  // A multi-region assembly lives beside the single-region one, so neither evicts the other.
  const assemblyDir =
    options.assemblyDir ??
    (context.regions === undefined
      ? DEFAULT_EMULATOR_ASSEMBLY
      : `${DEFAULT_EMULATOR_ASSEMBLY}-${context.regions.replaceAll(",", "-")}`);
  const key = await inputsHash(context);
  const hashFile = path.join(assemblyDir, HASH_FILE);
  if (existsSync(hashFile) && (await readFile(hashFile, "utf8")) === key) return { assemblyDir, reused: true };
  await rm(assemblyDir, { recursive: true, force: true });
  const contextArgs = Object.entries(context).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
  await cdk(["synth", "--no-notices", "--quiet", "--output", assemblyDir, ...contextArgs], offlineEnv());
  await writeFile(hashFile, key);
  return { assemblyDir, reused: false };
}

/** The default VPC and its subnets, as moto creates them in every region. */
export async function defaultNetwork(target: EmulatorTarget): Promise<{ vpcId: string; subnetIds: string[] }> {
  const ec2 = new EC2Client(clientConfig(target));
  try {
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }));
    const vpcId = vpcs.Vpcs?.[0]?.VpcId;
    if (vpcId === undefined) throw new EmulatorDeploymentError(`the emulator at ${target.endpoint} has no default VPC`);
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }));
    const subnetIds = (subnets.Subnets ?? []).flatMap((subnet) => (subnet.SubnetId ? [subnet.SubnetId] : [])).sort();
    if (subnetIds.length === 0) throw new EmulatorDeploymentError(`default VPC ${vpcId} has no subnets`);
    return { vpcId, subnetIds };
  } finally {
    ec2.destroy();
  }
}

/** Writes EMULATOR_AMI_PARAMETER with an image id the emulator serves (moto's Amazon Linux). */
export async function seedAmiParameter(target: EmulatorTarget): Promise<string> {
  const ssm = new SSMClient(clientConfig(target));
  try {
    const known = await ssm.send(new GetParametersByPathCommand({ Path: MOTO_AMI_PARAMETERS, Recursive: true }));
    const imageId = known.Parameters?.find((parameter) => parameter.Value?.startsWith("ami-"))?.Value;
    if (imageId === undefined) {
      throw new EmulatorDeploymentError(
        `no AMI id under ${MOTO_AMI_PARAMETERS} at ${target.endpoint} to seed ${EMULATOR_AMI_PARAMETER} with`,
      );
    }
    await ssm.send(
      new PutParameterCommand({
        Name: EMULATOR_AMI_PARAMETER,
        Type: "String",
        DataType: "aws:ec2:image",
        Value: imageId,
        Overwrite: true,
      }),
    );
    return imageId;
  } finally {
    ssm.destroy();
  }
}

function clientConfig(target: EmulatorTarget) {
  return {
    region: target.region,
    endpoint: target.endpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
}

export interface DeployedStack {
  readonly stackName: string;
  readonly region: string;
  readonly endpoint: string;
  readonly account: string;
  readonly vpcId: string;
  /** CloudFormation outputs by key (`OUTPUTS` in the stack contract). */
  readonly outputs: Readonly<Record<string, string>>;
  /** What every control-plane Lambda finds in its environment, as deployed. */
  readonly environment: Readonly<Record<EnvName, string>> & { readonly [OPTIONAL_ENV.regions]?: string };
  /** Every region the deployment covers, home first. */
  readonly regions: readonly string[];
  /** Outputs of each regional stack (REGIONAL_OUTPUTS), by region. */
  readonly regionalOutputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly seconds: { readonly synth: number; readonly bootstrap: number; readonly deploy: number };
  readonly synthReused: boolean;
}

/**
 * moto implements no placement groups (neither the CloudFormation resource nor the EC2
 * calls; its CreateFleet ignores `Placement`), so the stack's group has no name there.
 * The emulator deployment reports this fixed name instead; nothing by that name exists.
 */
export const emulatorPlacementGroupName = (stackName: string) => `${stackName}-workers-cluster`;

/** `--parameters` for one stack's VPC; with several stacks each is prefixed with its name. */
function stackParameters(stack: string | undefined, network: { vpcId: string; subnetIds: string[] }): string[] {
  const prefix = stack === undefined ? "" : `${stack}:`;
  return [
    "--parameters",
    `${prefix}WorkerVpcId=${network.vpcId}`,
    "--parameters",
    `${prefix}WorkerSubnetIds=${network.subnetIds.join(",")}`,
  ];
}

async function stackOutputs(target: EmulatorTarget, stackName: string): Promise<Record<string, string>> {
  const cloudFormation = new CloudFormationClient(clientConfig(target));
  const described = await cloudFormation
    .send(new DescribeStacksCommand({ StackName: stackName }))
    .finally(() => cloudFormation.destroy());
  const outputs: Record<string, string> = {};
  for (const output of described.Stacks?.[0]?.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined)
      outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

function outputOf(outputs: Readonly<Record<string, string>>, key: string): string {
  const value = outputs[key];
  if (value === undefined) throw new EmulatorDeploymentError(`the deployed stack has no output ${key}`);
  return value;
}

/** The Lambda environment, from the outputs and the literal settings of the emulator context. */
function lambdaEnvironment(
  outputs: Readonly<Record<string, string>>,
  region: string,
  stackName: string,
  regions: readonly string[],
) {
  const context = emulatorContext(region, stackName, regions);
  const config = readStackConfig((key) => context[key], { agentVersion: "unused" });
  const environment: Record<EnvName, string> & { [OPTIONAL_ENV.regions]?: string } = {
    [ENV.tableName]: outputOf(outputs, OUTPUTS.tableName),
    [ENV.bucketName]: outputOf(outputs, OUTPUTS.bucketName),
    [ENV.workerEventsQueueUrl]: outputOf(outputs, OUTPUTS.workerEventsQueueUrl),
    [ENV.reconcileQueueUrl]: outputOf(outputs, OUTPUTS.reconcileQueueUrl),
    [ENV.planQueueUrl]: outputOf(outputs, OUTPUTS.planQueueUrl),
    [ENV.launchTemplateId]: outputOf(outputs, OUTPUTS.launchTemplateId),
    [ENV.efaLaunchTemplateId]: outputOf(outputs, OUTPUTS.efaLaunchTemplateId),
    [ENV.subnetIds]: outputOf(outputs, OUTPUTS.subnetIds),
    [ENV.placementGroupName]: outputOf(outputs, OUTPUTS.placementGroupName),
    [ENV.securityGroupId]: outputOf(outputs, OUTPUTS.securityGroupId),
    [ENV.adminPrincipals]: config.adminPrincipals.join(","),
    [ENV.defaultBudgetCapUsd]: String(config.defaultBudgetCapUsd),
    [ENV.allowedInstanceTypes]: config.allowedInstanceTypes.join(","),
    [ENV.stackName]: config.stackName,
    // As the stack sets it on every function.
    [OPTIONAL_ENV.regions]: config.regions.join(","),
  };
  return environment;
}

/**
 * Seeds the AMI parameter, synthesizes (or reuses the assembly), bootstraps and deploys
 * into the emulator, and returns the stack's outputs and the Lambdas' environment.
 */
export async function deployToEmulator(options: {
  readonly target: EmulatorTarget;
  readonly stackName?: string;
  readonly assemblyDir?: string;
  /** Regions beyond the target's to deploy regional stacks into (moto serves every region on one endpoint). */
  readonly regions?: readonly string[];
}): Promise<DeployedStack> {
  const { target } = options;
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const others = [...new Set(options.regions ?? [])].filter((region) => region !== target.region);
  const regions = [target.region, ...others];
  const env = emulatorEnv(target);
  const synth = await timed(() =>
    synthesizeForEmulator({ region: target.region, assemblyDir: options.assemblyDir, stackName, regions }),
  );
  const { assemblyDir } = synth.value;
  const sts = new STSClient(clientConfig(target));
  const identity = await sts.send(new GetCallerIdentityCommand({})).finally(() => sts.destroy());
  const account = identity.Account;
  if (account === undefined) throw new EmulatorDeploymentError(`STS at ${target.endpoint} returned no account`);
  const [network] = await Promise.all([defaultNetwork(target), seedAmiParameter(target)]);
  const regional = await Promise.all(
    others.map(async (region) => {
      const at = { endpoint: target.endpoint, region };
      const [regionNetwork] = await Promise.all([defaultNetwork(at), seedAmiParameter(at)]);
      return { region, stackName: regionalStackName(stackName, region), network: regionNetwork };
    }),
  );

  const bootstrap = await timed(() =>
    cdk(["bootstrap", `aws://${account}/${target.region}`, "--app", assemblyDir, "--no-notices"], env),
  );
  const deploy = await timed(() =>
    cdk(
      [
        "deploy",
        stackName,
        ...regional.map((each) => each.stackName),
        "--app",
        assemblyDir,
        "--method=direct",
        "--require-approval",
        "never",
        "--no-notices",
        "--progress",
        "events",
        ...stackParameters(others.length === 0 ? undefined : stackName, network),
        ...regional.flatMap((each) => stackParameters(each.stackName, each.network)),
      ],
      env,
    ),
  );

  const outputs = await stackOutputs(target, stackName);
  const regionalOutputs: Record<string, Readonly<Record<string, string>>> = {};
  for (const each of regional) {
    regionalOutputs[each.region] = await stackOutputs(
      { endpoint: target.endpoint, region: each.region },
      each.stackName,
    );
  }
  if (outputs[OUTPUTS.placementGroupName] === undefined) {
    outputs[OUTPUTS.placementGroupName] = emulatorPlacementGroupName(stackName);
  }
  return {
    stackName,
    region: target.region,
    endpoint: target.endpoint,
    account,
    vpcId: network.vpcId,
    outputs,
    environment: lambdaEnvironment(outputs, target.region, stackName, regions),
    regions,
    regionalOutputs,
    seconds: { synth: synth.seconds, bootstrap: bootstrap.seconds, deploy: deploy.seconds },
    synthReused: synth.value.reused,
  };
}
