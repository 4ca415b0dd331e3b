/**
 * One run of the real harness (worker/harness: PyTorch on CPU, gloo, a tiny Llama built
 * from a config) through the real agent: torchrun started from an orders document in
 * moto, progress tailed, checkpoints uploaded, completion reported.
 *
 * The harness and its venv (`.venv-harness/`, built by `scripts/ensure-harness-venv.mjs`)
 * come from the harness part of issue 9. `SATURN_TEST_HARNESS_ROOT` may name another checkout
 * that holds both.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HighsSolver } from "../../lambdas/adapters/highs-solver.ts";
import { estimateThroughput } from "../../lambdas/core/estimator/estimate.ts";
import { jobSignature } from "../../lambdas/core/estimator/job-signature.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import { planWorkload } from "../../lambdas/core/planner/plan-workload.ts";
import { bucketLayout, type WorkerEvent } from "../../lambdas/core/protocol/worker-protocol.ts";
import { parseWorkload, pluginOf } from "../../lambdas/core/spec/workload.ts";
import { catalogOf, quotasOf } from "../core/planner/fixtures.ts";
import { type AgentSession, openAgentSession, WORKLOAD } from "./agent-session.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const harnessRoot = process.env.SATURN_TEST_HARNESS_ROOT ?? repoRoot;
const harnessPackage = join(harnessRoot, "worker/harness");
const python = join(harnessRoot, ".venv-harness/bin/python");

const TINY_LLAMA = {
  type: "llama",
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 256,
};

const ofKind = <K extends WorkerEvent["kind"]>(events: readonly WorkerEvent[], kind: K) =>
  events.filter((event): event is Extract<WorkerEvent, { kind: K }> => event.kind === kind);

/**
 * Orders the assignment, runs the agent with the harness venv until the attempt ends, then
 * orders a shutdown and waits for the agent's last events.
 */
async function runToShutdown(session: AgentSession, assignment: ReturnType<AgentSession["assignment"]>): Promise<void> {
  await session.writeOrders({ sequence: 1, assignments: [assignment] });
  const outcome = session.start(
    { python, devices: "cpu", heartbeatSeconds: 1, progressPollSeconds: 0.2 },
    undefined,
    // The venv holds the pinned requirements; the harness package is imported from its folder.
    { PYTHONPATH: harnessPackage, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" },
  );
  await session.waitFor(
    (events) => ofKind(events, "completed").length + ofKind(events, "failed").length > 0,
    "the attempt to end",
    240_000,
  );
  await session.writeOrders({ sequence: 2, shutdown: true });
  expect((await outcome).reason).toBe("shutdown-ordered");
  await session.waitFor(() => true, "the last events");
}

describe("the agent running the real harness", () => {
  let session: AgentSession;
  beforeAll(() => {
    const ensure = join(harnessRoot, "scripts/ensure-harness-venv.mjs");
    if (harnessRoot === repoRoot && existsSync(ensure)) {
      const built = spawnSync(process.execPath, [ensure], { encoding: "utf8", stdio: "pipe" });
      expect(built.status, built.stderr).toBe(0);
    }
    expect(existsSync(python), `${python} (run scripts/ensure-harness-venv.mjs)`).toBe(true);
  }, 600_000);
  beforeEach(async () => {
    session = await openAgentSession();
  });
  afterEach(async () => {
    await session.dispose();
  });

  it("trains a tiny causal LM to completion with DDP on CPU and uploads the final model", async () => {
    const assignment = session.assignment(
      { gpusPerInstance: 1, gpuIndices: [0] },
      {
        model: {
          type: "llama",
          hidden_size: 64,
          intermediate_size: 128,
          num_hidden_layers: 2,
          num_attention_heads: 4,
          num_key_value_heads: 2,
          vocab_size: 256,
        },
        batchSize: 4,
        sequenceLength: 16,
        totalSamples: 48,
        hyperparameters: { learningRate: 0.001, seed: 3 },
      },
    );
    await runToShutdown(session, assignment);

    expect(ofKind(session.events, "failed")).toEqual([]);
    const [completed] = ofKind(session.events, "completed");
    expect(completed?.samples).toBe(48);
    // The harness's own measurement reaches the control plane.
    expect(
      ofKind(session.events, "heartbeat").some((beat) => beat.samplesDone === 48 && (beat.samplesPerSecond ?? 0) > 0),
    ).toBe(true);
    const finalPrefix = "workloads/wl-agent-test/checkpoints/job-1/final/";
    expect(completed?.finalUri).toBe(`s3://${session.bucket}/${finalPrefix}`);
    const listed = await session.s3.send(new ListObjectsV2Command({ Bucket: session.bucket, Prefix: finalPrefix }));
    expect(listed.Contents?.length ?? 0).toBeGreaterThan(0);
  }, 300_000);

  it("trains with a plug-in technique the planner chose, running its execute with the knobs its search chose", async () => {
    // The user's module, where the spec says it is (the agent downloads it).
    const pluginKey = "plugins/accumulation_plugin.py";
    await session.s3.send(
      new PutObjectCommand({
        Bucket: session.bucket,
        Key: pluginKey,
        Body: readFileSync(join(harnessPackage, "tests/fixtures/accumulation_plugin.py")),
      }),
    );
    // Plan: one job that may use ddp or the plug-in; the plug-in's record beats ddp (invented prices, one 1-GPU type).
    const catalog = catalogOf([{ name: "t.small", gpus: 1, vcpus: 4, onDemand: 1, spot: 0.4 }]);
    const workload = parseWorkload({
      name: "plugin-run",
      objective: { kind: "min-cost", deadlineHours: 48 },
      markets: ["on-demand"],
      planner: { bootMinutes: 5, timeLimitSeconds: 20, mipGap: 0 },
      plugins: [{ name: "ddp-accumulate", module: `s3://${session.bucket}/${pluginKey}` }],
      jobs: [
        {
          id: "job-1",
          model: { family: "decoder", parameters: 124_000_000, layers: 12, hiddenSize: 768, sequenceLength: 512 },
          batchSize: 4,
          work: { samples: 20_000 },
          techniques: ["ddp", "ddp-accumulate"],
        },
      ],
    });
    const job = workload.jobs[0] as (typeof workload.jobs)[number];
    const shape = { instanceType: "t.small", nodes: 1, gpusPerNode: 1 };
    const ddp = estimateThroughput(job, { technique: "ddp", ...shape }, catalog);
    if (!ddp.fits) throw new Error(`test setup: ddp does not fit: ${ddp.reason}`);
    const measured = {
      jobSignature: jobSignature(job),
      ...shape,
      peakMemoryGiBPerGpu: 2,
      measuredAt: "2026-12-02T05:00:00Z",
      where: "test",
    };
    const { plan } = await planWorkload({
      workload,
      catalog,
      quotas: quotasOf(),
      profiles: new InMemoryProfileStore([
        { ...measured, technique: "ddp", samplesPerSecond: ddp.samplesPerSecond },
        { ...measured, technique: "ddp-accumulate", samplesPerSecond: 2 * ddp.samplesPerSecond },
      ]),
      solver: new HighsSolver(),
    });
    const chosen = plan.assignments[0];
    expect(chosen?.technique).toBe("ddp-accumulate");

    // The attempt as the control plane sends it: the chosen technique and its declaration.
    const assignment = session.assignment(
      {
        gpusPerInstance: 1,
        gpuIndices: [0],
        technique: chosen?.technique ?? "",
        plugin: pluginOf(workload, chosen?.technique ?? "") ?? null,
      },
      {
        model: TINY_LLAMA,
        batchSize: 4,
        sequenceLength: 16,
        totalSamples: 16,
        hyperparameters: { learningRate: 0.001, maxMicroBatch: 2 },
      },
    );
    await runToShutdown(session, assignment);

    expect(ofKind(session.events, "failed")).toEqual([]);
    expect(ofKind(session.events, "completed")[0]?.samples).toBe(16);
    const log = await session.s3.send(
      new GetObjectCommand({
        Bucket: session.bucket,
        Key: bucketLayout.logs(WORKLOAD, "job-1", assignment.attemptId),
      }),
    );
    // One rank, batch 4, maxMicroBatch 2: search chose micro-batches of 2 and execute ran with them.
    expect(await log.Body?.transformToString()).toContain(
      "ddp-accumulate: execute on 1 GPU(s) with knobs {'microBatchSize': 2}",
    );
  }, 300_000);
});
