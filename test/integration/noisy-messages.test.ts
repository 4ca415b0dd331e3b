/**
 * Duplicated, reordered and malformed worker messages, on this file's own queues and table.
 * In one file after the capacity-and-quota test of control-plane-flow.test.ts (same harness)
 * this test did not finish within 240 s, while alone it passes in about 5 s: the carried-over
 * state behind that was not found (docs/control-plane.md, "Handlers").
 */
import { describe, expect, it } from "vitest";
import { WORKER_PROTOCOL } from "../../lambdas/core/protocol/worker-protocol.ts";
import { useContractHarness } from "./support/contract-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

const harnessOf = useContractHarness();

describe("noisy worker messages", { timeout: 240_000 }, () => {
  it("counts duplicated and reordered worker messages once and dead-letters malformed ones without stopping", async () => {
    const id = await harnessOf().submitAndApprove(submitBody(tinySpec("noisy")));
    await harnessOf().pumpReconciles();
    const garbage = [
      "not json at all",
      JSON.stringify({ protocol: WORKER_PROTOCOL, kind: "heartbeat", workloadId: id }),
    ];
    let first = true;
    harnessOf().agents.transform = (bodies) => {
      const noisy = [...bodies, ...bodies].reverse();
      if (!first) return noisy;
      first = false;
      return noisy.concat(garbage);
    };
    const status = await harnessOf().runToEnd(id, 1800);
    harnessOf().agents.transform = undefined;
    expect(status).toBe("completed");
    const jobs = (await harnessOf().call("GET", `/workloads/${id}`)).body.jobs as {
      status: string;
      samplesDone: number;
      totalSamples: number;
    }[];
    expect(jobs.every((job) => job.status === "done" && job.samplesDone === job.totalSamples)).toBe(true);
    // One attempt per job: duplicated "completed" or "stopped" messages never restarted one.
    const attempts = new Set(
      harnessOf()
        .agents.started.map((a) => a.attemptId)
        .filter((a) => a.startsWith("tiny")),
    );
    expect(attempts.size).toBeGreaterThanOrEqual(2);
    const rejected = await harnessOf().store.rejectedMessages(50);
    expect(rejected.map((message) => message.body)).toEqual(expect.arrayContaining(garbage));
    expect(harnessOf().failures.filter((f) => f.queue === "SATURN_WORKER_EVENTS_QUEUE_URL").length).toBeGreaterThan(0);
  });
});
