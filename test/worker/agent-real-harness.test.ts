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
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WorkerEvent } from "../../lambdas/core/protocol/worker-protocol.ts";
import { type AgentSession, openAgentSession } from "./agent-session.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const harnessRoot = process.env.SATURN_TEST_HARNESS_ROOT ?? repoRoot;
const harnessPackage = join(harnessRoot, "worker/harness");
const python = join(harnessRoot, ".venv-harness/bin/python");

const ofKind = <K extends WorkerEvent["kind"]>(events: readonly WorkerEvent[], kind: K) =>
  events.filter((event): event is Extract<WorkerEvent, { kind: K }> => event.kind === kind);

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
});
