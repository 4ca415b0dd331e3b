/**
 * Deploys the synthesized Saturn stack into an emulator with the CDK CLI, the recipe that
 * works against moto (docs/local-stack.md, /shared reference "moto-cdk"): bootstrap, seed
 * an AMI parameter (the Deep Learning AMI's public one does not exist there), deploy
 * `--method=direct` into the default VPC, then read the stack's outputs and the functions'
 * environment, which is what the in-process handlers are built from.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DEFAULT_STACK_NAME, ENV } from "../../lambdas/config/stack-contract.ts";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CDK_CLI = path.join(REPO_ROOT, "node_modules", "aws-cdk", "bin", "cdk");

export interface EmulatorTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface DeployedStack {
  readonly stackName: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** The environment the stack gives its functions (every function gets the same). */
  readonly functionEnvironment: Readonly<Record<string, string>>;
  /** Memory of each deployed function, MB, by the function's logical role (api, planner, ...). */
  readonly functionMemoryMb: Readonly<Record<string, number>>;
}

export class StackDeployError extends Error {
  override readonly name = "StackDeployError";
}

/** The AMI parameter the local stack seeds; moto serves Amazon Linux's public one to copy an id from. */
export const LOCAL_AMI_PARAMETER = "/saturn/local/ami-id";
const AMAZON_LINUX_PARAMETER = "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2";

export async function deployStack(
  target: EmulatorTarget,
  options: { readonly stackName?: string; readonly log?: (line: string) => void; readonly cwd?: string } = {},
): Promise<DeployedStack> {
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const client = { region: target.region, endpoint: target.endpoint, credentials: target.credentials };
  const ec2 = new EC2Client(client);
  const ssm = new SSMClient(client);
  const cloudFormation = new CloudFormationClient(client);
  const lambda = new LambdaClient(client);
  try {
    const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["true"] }] })))
      .Vpcs?.[0]?.VpcId;
    if (vpc === undefined) throw new StackDeployError("the emulator has no default VPC to deploy into");
    const subnets = (
      await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc] }] }))
    ).Subnets?.map((subnet) => subnet.SubnetId ?? "")
      .filter((id) => id !== "")
      .slice(0, 2);
    const ami = (await ssm.send(new GetParameterCommand({ Name: AMAZON_LINUX_PARAMETER }))).Parameter?.Value;
    await ssm.send(
      new PutParameterCommand({
        Name: LOCAL_AMI_PARAMETER,
        Type: "String",
        DataType: "aws:ec2:image",
        Value: ami ?? "ami-12c6146b",
        Overwrite: true,
      }),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: target.endpoint,
      // With `--method=direct` the CLI builds the template URL from the endpoint, and moto
      // reads the host `127` as a bucket name (see the moto-cdk reference).
      ...(new URL(target.endpoint).hostname === "127.0.0.1"
        ? { AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: `https://s3.${target.region}.amazonaws.com` }
        : {}),
      AWS_ACCESS_KEY_ID: target.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: target.credentials.secretAccessKey,
      AWS_REGION: target.region,
      AWS_DEFAULT_REGION: target.region,
      CDK_DISABLE_CLI_TELEMETRY: "true",
      CDK_DEFAULT_ACCOUNT: target.accountId,
      CDK_DEFAULT_REGION: target.region,
    };
    delete env.AWS_PROFILE;
    const log = options.log ?? (() => {});
    log("bootstrapping the CDK environment in the emulator...");
    await cdk(["bootstrap", `aws://${target.accountId}/${target.region}`, "--no-notices"], env, options.cwd);
    log("synthesizing and deploying the Saturn stack (NodejsFunction bundles with esbuild)...");
    await cdk(
      [
        "deploy",
        stackName,
        "--method=direct",
        "--require-approval",
        "never",
        "--no-notices",
        "-c",
        `stackName=${stackName}`,
        "-c",
        `region=${target.region}`,
        "-c",
        `amiSsmParameter=${LOCAL_AMI_PARAMETER}`,
        "-c",
        `vpcId=${vpc}`,
        "-c",
        `subnetIds=${(subnets ?? []).join(",")}`,
      ],
      env,
      options.cwd,
    );
    const stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    const outputs: Record<string, string> = {};
    for (const output of stack?.Outputs ?? []) {
      if (output.OutputKey !== undefined && output.OutputValue !== undefined)
        outputs[output.OutputKey] = output.OutputValue;
    }
    const functions = (await lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    const ours = functions.filter((f) => f.Environment?.Variables?.[ENV.tableName] !== undefined);
    const first = ours[0];
    if (first === undefined)
      throw new StackDeployError(`stack ${stackName} deployed no function with ${ENV.tableName}`);
    const memory: Record<string, number> = {};
    for (const f of ours) memory[roleOf(f.FunctionName ?? "")] = f.MemorySize ?? 128;
    return {
      stackName,
      outputs,
      functionEnvironment: { ...(first.Environment?.Variables ?? {}) },
      functionMemoryMb: memory,
    };
  } finally {
    ec2.destroy();
    ssm.destroy();
    cloudFormation.destroy();
    lambda.destroy();
  }
}

/** `Saturn-PlannerFunctionAB12-xyz` -> `planner`. */
function roleOf(functionName: string): string {
  const match = /(Api|Planner|Reconciler|WorkerEvents|Ec2Events|Sweeper)Function/i.exec(functionName);
  return match?.[1]?.toLowerCase() ?? functionName;
}

function cdk(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CDK_CLI, ...args], {
      env,
      cwd: cwd ?? REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output = (output + String(chunk)).slice(-20_000);
    });
    child.stderr.on("data", (chunk) => {
      output = (output + String(chunk)).slice(-20_000);
    });
    child.once("error", (error) =>
      reject(new StackDeployError(`could not run the CDK CLI: ${error.message}`, { cause: error })),
    );
    child.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new StackDeployError(`cdk ${args[0]} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}
