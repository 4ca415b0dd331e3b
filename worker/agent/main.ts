/**
 * The agent's composition root: reads the configuration once, builds every client once
 * (AWS SDK v3 with the default credential chain: the instance profile on EC2), and runs
 * the loop. `saturn-agent --self-check` checks the install instead (the AMI's validate
 * phase and user data run it): Node version, the harness venv's interpreter, torch and
 * the harness package importable. It needs no AWS access and no configuration file.
 *
 *   node saturn-agent.mjs [--config /etc/saturn/agent.json] [--self-check]
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { WORKER_PROTOCOL } from "../../lambdas/core/protocol/worker-protocol.ts";
import { runAgent } from "./agent.ts";
import { AgentConfigError, parseAgentConfig } from "./agent-config.ts";
import { jsonLineLog } from "./agent-log.ts";
import { systemClock } from "./clock.ts";
import { ControlPlaneClient } from "./control-plane-client.ts";
import { ImdsClient } from "./imds-client.ts";
import { nodeProcessRunner } from "./process-runner.ts";
import { firstThatWorks, shutdownAction, terminateInstanceAction } from "./self-termination.ts";

export const DEFAULT_CONFIG_PATH = "/etc/saturn/agent.json";
/** Replaced by the bundler (scripts/build-agent.mjs) with package.json's version. */
const AGENT_VERSION = process.env.SATURN_AGENT_VERSION ?? "dev";

async function hasEfaDevice(): Promise<boolean> {
  try {
    // EFA devices appear as rdmap<bus>s<slot> InfiniBand devices.
    return (await readdir("/sys/class/infiniband")).some((name) => name.startsWith("rdmap"));
  } catch {
    return false;
  }
}

async function selfCheck(python: string): Promise<number> {
  const problems: string[] = [];
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) problems.push(`node: expected version 20 or later, got ${process.versions.node}`);
  const { exitCode } = await nodeProcessRunner.start({
    command: python,
    args: ["-c", "import torch, torch.distributed.run, saturn_harness; print('torch', torch.__version__)"],
    env: process.env,
    cwd: "/",
    onOutput: (chunk) => process.stderr.write(chunk),
  }).exited;
  if (exitCode !== 0) problems.push(`python: ${python} cannot import torch and saturn_harness (exit ${exitCode})`);
  const ok = problems.length === 0;
  process.stdout.write(
    `${JSON.stringify({ selfCheck: ok ? "ok" : "failed", version: AGENT_VERSION, protocol: WORKER_PROTOCOL, node: process.versions.node, python, problems })}\n`,
  );
  return ok ? 0 : 1;
}

async function readConfigFile(path: string, required: boolean): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && !required) return undefined;
    throw new AgentConfigError(`agent config ${path}: could not read it as JSON`, { cause: error });
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const configIndex = argv.indexOf("--config");
  const configPath = configIndex >= 0 ? argv[configIndex + 1] : process.env.SATURN_AGENT_CONFIG;
  const checking = argv.includes("--self-check");
  // The self-check runs on an image with no configuration yet (the AMI's validate phase).
  const file = await readConfigFile(configPath ?? DEFAULT_CONFIG_PATH, configPath !== undefined && !checking);
  if (checking) {
    const python =
      process.env.SATURN_AGENT_PYTHON ??
      ((file as { python?: string } | undefined)?.python || "/opt/saturn/venv/bin/python");
    return selfCheck(python);
  }
  const config = parseAgentConfig(file, process.env);
  const log = jsonLineLog((line) => process.stdout.write(line), systemClock.now);
  const s3 = new S3Client({ region: config.region });
  const sqs = new SQSClient({ region: config.region });
  const ec2 = new EC2Client({ region: config.region });
  let instanceId: string | undefined;
  const terminate = terminateInstanceAction(ec2, () => instanceId);
  const halt = shutdownAction(nodeProcessRunner, join(config.workRoot, "shutdown.log"));
  const abort = new AbortController();
  process.once("SIGTERM", () => abort.abort());
  process.once("SIGINT", () => abort.abort());
  const outcome = await runAgent({
    config,
    imds: new ImdsClient({ endpoint: config.imdsEndpoint, clock: systemClock }),
    controlPlane: new ControlPlaneClient({ s3, sqs, bucket: config.bucket, queueUrl: config.queueUrl }),
    runner: nodeProcessRunner,
    clock: systemClock,
    log,
    selfTerminate: firstThatWorks(
      config.terminateAction === "terminate-instance" ? [terminate, halt] : [halt, terminate],
    ),
    efaPresent: hasEfaDevice,
    baseEnv: process.env,
    signal: abort.signal,
    onIdentity: (identity) => {
      instanceId = identity.instanceId;
    },
  });
  log.info("agent exiting", { reason: outcome.reason, version: AGENT_VERSION });
  return 0;
}

// stdout may be a pipe (journald, tests), where writes are asynchronous: exit once it drained.
const exitAfterFlush = (code: number) => process.stdout.write("", () => process.exit(code));
main(process.argv.slice(2)).then(exitAfterFlush, (error) => {
  process.stderr.write(`saturn-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  exitAfterFlush(error instanceof AgentConfigError ? 2 : 1);
});
