import { beforeAll, describe, expect, it } from "vitest";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { WORKER_PROTOCOL } from "../../lambdas/core/protocol/worker-protocol.ts";
import { ADMIN_ROLE } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

let harness: ControlPlaneHarness;

// The stack's resources from the contract, in the suite's moto server (against the stack the
// global setup deploys, see docs/control-plane.md, "Handlers"). The tests share one harness
// and run in order, so each one also checks that the workloads before it left nothing behind
// that stalls the next: the noisy-messages test after the capacity-and-quota test is the
// regression test for the simulated agents' attempt ids (unique per workload only).
beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
});

function tagsOf(instance: { Tags?: { Key?: string; Value?: string }[] }): Record<string, string> {
  return Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
}

const live = (instances: Awaited<ReturnType<ControlPlaneHarness["instances"]>>) =>
  instances.filter((i) => i.State?.Name === "pending" || i.State?.Name === "running");

/** Every instance the workload ran on was told to shut down, not only terminated. */
async function expectShutdownOrders(workloadId: string): Promise<void> {
  const instances = await harness.instances(workloadId);
  expect(instances.length).toBeGreaterThan(0);
  for (const instance of instances) {
    const orders = await harness.orders(workloadId, instance.InstanceId ?? "");
    expect({ instance: instance.InstanceId, shutdown: orders?.shutdown }).toEqual({
      instance: instance.InstanceId,
      shutdown: true,
    });
  }
}

describe("a workload from submit to teardown", { timeout: 240_000 }, () => {
  it("plans, waits for approval, launches the planned instances, runs to completion and leaves nothing running", async () => {
    const submitted = await harness.call("POST", "/workloads", { body: submitBody() });
    expect(submitted.status).toBe(201);
    const id = String(submitted.body.id);
    await harness.pumpPlans();
    expect(await harness.status(id)).toBe("planned");
    const planned = await harness.call("GET", `/workloads/${id}/plan`);
    expect(planned.status).toBe(200);
    const plan = planned.body.plan as Plan;
    expect(plan.instances.length).toBeGreaterThan(0);
    // Nothing launches before approval, even when a pass runs.
    await harness.queues.requestReconcile([id], "premature");
    await harness.pumpReconciles();
    expect(await harness.instances(id)).toEqual([]);

    expect((await harness.call("POST", `/workloads/${id}/approve`)).status).toBe(200);
    await harness.pumpReconciles();
    const launched = await harness.instances(id);
    const firstSlots = plan.instances.filter((slot) => slot.start === 0);
    expect(launched.length).toBe(firstSlots.length);
    for (const instance of launched) {
      const tags = tagsOf(instance);
      const slot = plan.instances.find((p) => p.id === tags[SATURN_TAGS.slot]);
      expect(slot).toBeDefined();
      expect(instance.InstanceType).toBe(slot?.instanceType);
      expect(instance.InstanceLifecycle === "spot" ? "spot" : "on-demand").toBe(slot?.market);
      expect(tags[SATURN_TAGS.workload]).toBe(id);
      expect(tags[SATURN_TAGS.plan]).toBe("1");
      expect(tags[SATURN_TAGS.role]).toBe("worker");
    }

    const status = await harness.runToEnd(id);
    expect(status).toBe("completed");
    const left = (await harness.instances(id)).filter((i) => i.State?.Name !== "terminated");
    expect(left).toEqual([]);
    await expectShutdownOrders(id);
    const view = await harness.call("GET", `/workloads/${id}`);
    expect(view.body.status).toBe("completed");
    const jobs = view.body.jobs as { status: string; progress: number }[];
    expect(jobs.every((job) => job.status === "done" && job.progress === 1)).toBe(true);
    expect((view.body.spend as { spentUsd: number }).spentUsd).toBeGreaterThan(0);
    expect(harness.failures).toEqual([]);
  });
});

describe("failures during a run", { timeout: 240_000 }, () => {
  it("cancels mid-run: stops the attempts, terminates every instance, ends cancelled", async () => {
    const id = await harness.submitAndApprove(submitBody(tinySpec("cancel-me")));
    await harness.pumpReconciles();
    await harness.tick(id, 600);
    expect(live(await harness.instances(id)).length).toBeGreaterThan(0);
    const cancel = await harness.call("POST", `/workloads/${id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.body.cancelRequested).toBe(true);
    const status = await harness.runToEnd(id, 60, 10);
    expect(status).toBe("cancelled");
    expect(live(await harness.instances(id))).toEqual([]);
    await expectShutdownOrders(id);
  });

  it("re-plans around a capacity error and a quota error from CreateFleet", async () => {
    harness.faulty.failNextFleets({ codes: ["InsufficientInstanceCapacity"] });
    const id = await harness.submitAndApprove(submitBody(tinySpec("capacity")));
    await harness.pumpReconciles();
    let record = (await harness.store.getExecution(id))?.record;
    expect(record?.excludedOffers.length).toBe(1);
    expect(record?.planVersion).toBeGreaterThan(1);
    const excluded = record?.excludedOffers[0];
    const launched = live(await harness.instances(id));
    expect(launched.length).toBeGreaterThan(0);
    for (const instance of launched) {
      const market = instance.InstanceLifecycle === "spot" ? "spot" : "on-demand";
      expect(`${instance.InstanceType} ${market}`).not.toBe(`${excluded?.instanceType} ${excluded?.market}`);
    }

    harness.faulty.failNextFleets({ codes: ["VcpuLimitExceeded"] });
    const quota = await harness.submitAndApprove(submitBody(tinySpec("quota")));
    await harness.pumpReconciles();
    record = (await harness.store.getExecution(quota))?.record;
    expect(record?.quotaCuts.length).toBe(1);
    expect(record?.replans.some((replan) => replan.reason.includes("VcpuLimitExceeded"))).toBe(true);
    for (const workload of [id, quota]) {
      await harness.call("POST", `/workloads/${workload}/cancel`);
      expect(await harness.runToEnd(workload, 60, 10)).toBe("cancelled");
    }
  });

  it("counts duplicated and reordered worker messages once and dead-letters malformed ones without stopping", async () => {
    const id = await harness.submitAndApprove(submitBody(tinySpec("noisy")));
    await harness.pumpReconciles();
    const garbage = [
      "not json at all",
      JSON.stringify({ protocol: WORKER_PROTOCOL, kind: "heartbeat", workloadId: id }),
    ];
    let first = true;
    harness.agents.transform = (bodies) => {
      const noisy = [...bodies, ...bodies].reverse();
      if (!first) return noisy;
      first = false;
      return noisy.concat(garbage);
    };
    const status = await harness.runToEnd(id, 1800);
    harness.agents.transform = undefined;
    expect(status).toBe("completed");
    const jobs = (await harness.call("GET", `/workloads/${id}`)).body.jobs as {
      status: string;
      samplesDone: number;
      totalSamples: number;
    }[];
    expect(jobs.every((job) => job.status === "done" && job.samplesDone === job.totalSamples)).toBe(true);
    // One attempt per job: duplicated "completed" or "stopped" messages never restarted one.
    const attempts = harness.agents.started.filter((a) => a.workloadId === id).map((a) => a.attemptId);
    expect(attempts.length).toBe(jobs.length);
    expect(new Set(attempts).size).toBe(jobs.length);
    const rejected = await harness.store.rejectedMessages(50);
    expect(rejected.map((message) => message.body)).toEqual(expect.arrayContaining(garbage));
    expect(harness.failures.filter((f) => f.queue === "SATURN_WORKER_EVENTS_QUEUE_URL").length).toBeGreaterThan(0);
  });
});
