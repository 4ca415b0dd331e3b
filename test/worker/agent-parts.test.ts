import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AssignmentMessage, WORKER_PROTOCOL } from "../../lambdas/core/protocol/worker-protocol.ts";
import { AgentConfigError, parseAgentConfig } from "../../worker/agent/agent-config.ts";
import { systemClock } from "../../worker/agent/clock.ts";
import { buildInvocation, buildTaskFile, InvocationError } from "../../worker/agent/harness-invocation.ts";
import { ImdsClient } from "../../worker/agent/imds-client.ts";
import { readInstanceIdentity } from "../../worker/agent/instance-identity.ts";
import { readInterruptionNotice } from "../../worker/agent/interruption-watch.ts";
import { LogTail } from "../../worker/agent/log-tail.ts";
import { readOrders } from "../../worker/agent/orders-reader.ts";
import { ProgressLog } from "../../worker/agent/progress-log.ts";
import { type FakeImds, startFakeImds } from "./fake-imds.ts";

const assignment: AssignmentMessage = {
  workloadId: "wl-1",
  jobId: "job-1",
  attemptId: "att-1",
  planVersion: 1,
  technique: "fsdp",
  instanceIds: ["i-0aaa", "i-0bbb"],
  gpusPerInstance: 8,
  gpuIndices: [0, 1, 2, 3, 4, 5, 6, 7],
  rendezvous: { endpoint: "10.0.0.5:29400", id: "att-1" },
  task: {
    model: "llama-8b",
    method: "full",
    batchSize: 8,
    sequenceLength: 2048,
    totalSamples: 1000,
    entrypoint: { recipe: "causal-lm" },
    hyperparameters: { mixedPrecision: "bf16", activationCheckpointing: true, seed: 7 },
  },
  checkpoint: {
    prefix: "s3://saturn-bucket/workloads/wl-1/checkpoints/job-1/",
    intervalSeconds: 600,
    resumeFrom: null,
  },
  checkpointable: true,
  plannedSamplesPerSecond: 10,
  profile: null,
};
const context = {
  python: "/opt/saturn/venv/bin/python",
  workDir: "/work/att-1",
  instanceId: "i-0bbb",
  instanceType: "p5.48xlarge",
  region: "us-east-1",
  devices: "gpu" as const,
  efa: true,
  baseEnv: { PATH: "/usr/bin", CUDA_VISIBLE_DEVICES: "9" },
};

describe("buildInvocation", () => {
  it("runs torchrun with c10d rendezvous at node 0's endpoint and this instance's node rank", () => {
    const invocation = buildInvocation(assignment, context, "/work/att-1/task.json");
    expect(invocation.command).toBe("/opt/saturn/venv/bin/python");
    expect(invocation.args).toEqual([
      "-m",
      "torch.distributed.run",
      "--nnodes",
      "2",
      "--nproc-per-node",
      "8",
      "--rdzv-backend",
      "c10d",
      "--rdzv-endpoint",
      "10.0.0.5:29400",
      "--rdzv-id",
      "att-1",
      "--node-rank",
      "1",
      "-m",
      "saturn_harness.run",
      "--task",
      "/work/att-1/task.json",
      "--work-dir",
      "/work/att-1",
    ]);
  });

  it("sets NCCL over EFA with GPUDirect RDMA on p5 and the assignment's GPUs", () => {
    const { env } = buildInvocation(assignment, context, "/t.json");
    expect(env).toMatchObject({
      FI_PROVIDER: "efa",
      FI_EFA_USE_DEVICE_RDMA: "1",
      CUDA_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7",
    });
    const g6e = buildInvocation(assignment, { ...context, instanceType: "g6e.48xlarge" }, "/t.json").env;
    expect(g6e.FI_PROVIDER).toBe("efa");
    expect(g6e.FI_EFA_USE_DEVICE_RDMA).toBeUndefined();
  });

  it("leaves EFA unset without a device and CUDA_VISIBLE_DEVICES unset on CPU", () => {
    const { env } = buildInvocation(assignment, { ...context, efa: false, devices: "cpu" }, "/t.json");
    expect(env.FI_PROVIDER).toBeUndefined();
    expect("CUDA_VISIBLE_DEVICES" in env).toBe(false);
  });

  it("refuses an attempt that does not list this instance", () => {
    expect(() => buildInvocation(assignment, { ...context, instanceId: "i-0ccc" }, "/t.json")).toThrow(InvocationError);
  });

  it("writes task.json with the harness options taken from the hyper-parameters and the profile's place", () => {
    const profiled = { ...assignment, profile: { warmupSteps: 2, measuredSteps: 5, jobSignature: "sig" } };
    const file = buildTaskFile(profiled, context, assignment.task, "/work/att-1/resume");
    expect(file.options).toEqual({
      mixedPrecision: "bf16",
      activationCheckpointing: true,
      seed: 7,
      processGroupTimeoutSeconds: 600,
    });
    expect(file.profile).toEqual({
      warmupSteps: 2,
      measuredSteps: 5,
      jobSignature: "sig",
      instanceType: "p5.48xlarge",
      where: "aws:us-east-1:i-0bbb",
    });
    expect(file.resumeFrom).toBe("/work/att-1/resume");
    expect(file.checkpointIntervalSeconds).toBe(600);
  });

  it("names a plug-in technique and its fetched module in task.json", () => {
    const plugin = { name: "ddp-accumulate", module: "s3://bucket/plugins/accumulation_plugin.py" };
    const file = buildTaskFile({ ...assignment, technique: "ddp-accumulate", plugin }, context, assignment.task, null, [
      "/work/att-1/plugins/ddp_accumulate.py",
    ]);
    expect(file.technique).toBe("ddp-accumulate");
    expect(file.options.plugins).toEqual(["/work/att-1/plugins/ddp_accumulate.py"]);
    expect(buildTaskFile(assignment, context, assignment.task, null).options).not.toHaveProperty("plugins");
  });
});

describe("readOrders", () => {
  const me = { workloadId: "wl-1", instanceId: "i-0bbb" };
  const document = {
    protocol: WORKER_PROTOCOL,
    workloadId: "wl-1",
    instanceId: "i-0bbb",
    sequence: 3,
    writtenAt: "2026-12-01T12:00:00Z",
    assignments: [assignment],
    stops: [],
    shutdown: false,
  };

  it("returns the assignments and stops of a valid document", () => {
    const stop = { attemptId: "att-0", mode: "abandon", reason: "cancelled" };
    const reading = readOrders(JSON.stringify({ ...document, stops: [stop] }), me);
    expect(reading).toMatchObject({ sequence: 3, shutdown: false, documentProblems: [], attemptRejections: [] });
    expect(reading.assignments).toEqual([assignment]);
    expect(reading.stops).toEqual([stop]);
  });

  it("rejects a document addressed to another instance as a whole", () => {
    const reading = readOrders(JSON.stringify({ ...document, instanceId: "i-0ccc" }), me);
    expect(reading.assignments).toEqual([]);
    expect(reading.documentProblems).toEqual(['instanceId: expected this instance "i-0bbb", got "i-0ccc"']);
  });

  it("names the attempt of a bad assignment and the path of a bad stop", () => {
    const bad = { ...assignment, attemptId: "att-2", gpuIndices: [0] };
    const reading = readOrders(
      JSON.stringify({
        ...document,
        assignments: [bad, { junk: true }],
        stops: [{ attemptId: "att-0", mode: "later" }],
      }),
      me,
    );
    expect(reading.assignments).toEqual([]);
    expect(reading.attemptRejections).toEqual([
      {
        jobId: "job-1",
        attemptId: "att-2",
        problems: "assignments.0.gpuIndices: expected 8 indices (gpusPerInstance), got 1",
      },
    ]);
    expect(reading.documentProblems.some((problem) => problem.startsWith("assignments.1."))).toBe(true);
    expect(reading.documentProblems.some((problem) => problem.startsWith("stops.0.mode:"))).toBe(true);
  });
});

describe("agent configuration", () => {
  it("fills defaults and lets the environment override the file", () => {
    const config = parseAgentConfig(
      { bucket: "saturn-bucket", queueUrl: "https://sqs.us-east-1.amazonaws.com/1/q", region: "us-east-1" },
      { SATURN_AGENT_IDLE_SHUTDOWN_SECONDS: "120" },
    );
    expect(config).toMatchObject({
      idleShutdownSeconds: 120,
      interruptionPollSeconds: 5,
      terminateAction: "terminate-instance",
    });
  });

  it("names the field, the expectation and the value of a bad setting", () => {
    expect(() =>
      parseAgentConfig({ bucket: "B!", queueUrl: "https://q", region: "us-east-1", idleMinutes: 3 }, {}),
    ).toThrow(AgentConfigError);
    expect(() => parseAgentConfig({ bucket: "B!", queueUrl: "https://q", region: "us-east-1" }, {})).toThrow(
      'bucket: expected an S3 bucket name, got "B!"',
    );
  });
});

describe("ImdsClient", () => {
  let imds: FakeImds;
  beforeAll(async () => {
    imds = await startFakeImds({
      "meta-data/instance-id": "i-0abc",
      "meta-data/local-ipv4": "10.1.2.3",
      "meta-data/instance-type": "p4d.24xlarge",
      "meta-data/tags/instance/saturn:workload": "wl-9",
    });
  });
  afterAll(async () => {
    await imds.close();
  });

  it("reads with a session token, answers null for absent items and renews the token after a 401", async () => {
    const client = new ImdsClient({ endpoint: imds.endpoint, clock: systemClock });
    expect(await client.get("meta-data/instance-id")).toBe("i-0abc");
    expect(await client.get("meta-data/spot/instance-action")).toBeNull();
    const issued = imds.stats.tokensIssued;
    imds.forgetTokens();
    expect(await client.get("meta-data/instance-id")).toBe("i-0abc");
    expect(imds.stats.tokensIssued).toBe(issued + 1);
  });

  it("learns the identity from tags and reads spot and rebalance notices", async () => {
    const client = new ImdsClient({ endpoint: imds.endpoint, clock: systemClock });
    expect(await readInstanceIdentity(client, undefined)).toEqual({
      instanceId: "i-0abc",
      localIpv4: "10.1.2.3",
      instanceType: "p4d.24xlarge",
      workloadId: "wl-9",
      slot: null,
    });
    expect(await readInterruptionNotice(client)).toBeUndefined();
    imds.announceRebalance(new Date("2026-12-01T10:00:00Z"));
    expect(await readInterruptionNotice(client)).toEqual({
      notice: "rebalance-recommendation",
      actionAt: "2026-12-01T10:00:00.000Z",
    });
    imds.announceSpotInterruption(new Date("2026-12-01T10:02:00Z"));
    expect(await readInterruptionNotice(client)).toEqual({
      notice: "spot-instance-action",
      actionAt: "2026-12-01T10:02:00.000Z",
    });
  });
});

describe("ProgressLog and LogTail", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "saturn-progress-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses each line once, whole, and reports lines that break the contract", async () => {
    const path = join(dir, "progress.jsonl");
    const log = new ProgressLog(path);
    expect(await log.readNew()).toEqual([]);
    await appendFile(path, '{"event":"step","samples":8,"samplesPerSecond":4}\n{"event":"checkpoint","sam');
    const first = await log.readNew();
    expect(first).toEqual([{ kind: "line", line: { event: "step", samples: 8, samplesPerSecond: 4 } }]);
    await appendFile(path, 'ples":8,"path":"checkpoints/samples-000000000008"}\n{"event":"dance"}\nnot json\n');
    const second = await log.readNew();
    expect(second[0]).toEqual({
      kind: "line",
      line: { event: "checkpoint", samples: 8, path: "checkpoints/samples-000000000008" },
    });
    expect(second.slice(1).map((read) => read.kind)).toEqual(["invalid", "invalid"]);
  });

  it("keeps the last 8 KiB of output without splitting a character", () => {
    const tail = new LogTail(8192);
    for (let index = 0; index < 1000; index += 1) tail.append(Buffer.from(`line ${index} é\n`));
    const text = tail.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8192);
    expect(text.endsWith("line 999 é\n")).toBe(true);
    expect(text.includes("\uFFFD")).toBe(false);
  });
});
