/**
 * The control plane end to end in moto: the real handlers and adapters against the
 * stack's table, queues, bucket and launch templates, simulated agents on the instances
 * moto launches, accelerated time (the suite moves the clock; nothing sleeps).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { ADMIN_ROLE } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { submitBody } from "./support/specs.ts";

let harness: ControlPlaneHarness;

beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
});

function tagsOf(instance: { Tags?: { Key?: string; Value?: string }[] }): Record<string, string> {
  return Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
}

describe("a workload from submit to teardown", () => {
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
    const view = await harness.call("GET", `/workloads/${id}`);
    expect(view.body.status).toBe("completed");
    const jobs = view.body.jobs as { status: string; progress: number }[];
    expect(jobs.every((job) => job.status === "done" && job.progress === 1)).toBe(true);
    expect((view.body.spend as { spentUsd: number }).spentUsd).toBeGreaterThan(0);
    expect(harness.failures).toEqual([]);
  });
});
