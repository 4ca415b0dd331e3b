/**
 * An instance whose worker agent never starts (a failed boot, user data that never ran the
 * agent): the reconciler terminates it once it has been silent for the boot timeout (15
 * min), re-plans around it, and the workload completes on a replacement. Before, only the
 * hourly sweeper (30 min of silence) ended it: up to about 90 minutes paid for nothing.
 * Its own resources, so its queues see only its workload (see spot-interruption.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RECONCILER_RULES } from "../../lambdas/core/reconciler/reconciler-rules.ts";
import { ADMIN_ROLE } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

let harness: ControlPlaneHarness;

beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
});

describe("an instance whose agent never reports", { timeout: 240_000 }, () => {
  it("is terminated by the reconciler after the boot timeout, re-planned around, and the workload completes", async () => {
    const id = await harness.submitAndApprove(submitBody(tinySpec("silent-boot")));
    await harness.pumpReconciles();
    const first = await harness.instances(id);
    expect(first.length).toBeGreaterThan(0);
    const silentId = first[0]?.InstanceId ?? "";
    harness.agents.silent = (instanceId) => instanceId === silentId;
    const approvedAt = harness.now;

    // Still there 12 minutes in; then minute ticks: gone within a pass of the boot timeout.
    for (let k = 0; k < 3; k++) await harness.tick(id, 240);
    const early = (await harness.instances(id)).find((i) => i.InstanceId === silentId)?.State?.Name;
    expect(early).toBe("running");
    let terminatedAt: number | undefined;
    for (let k = 0; k < 10 && terminatedAt === undefined; k++) {
      await harness.tick(id, 60);
      const state = (await harness.instances(id)).find((i) => i.InstanceId === silentId)?.State?.Name;
      if (state === "shutting-down" || state === "terminated") terminatedAt = harness.now;
    }
    expect(terminatedAt).toBeDefined();
    const silentFor = (terminatedAt ?? 0) - approvedAt;
    expect(silentFor).toBeGreaterThanOrEqual(DEFAULT_RECONCILER_RULES.bootTimeoutSeconds);
    expect(silentFor).toBeLessThanOrEqual(DEFAULT_RECONCILER_RULES.bootTimeoutSeconds + 120);

    const audit = await harness.store.audit(id);
    const ended = audit.filter(
      (entry) =>
        entry.kind === "terminate" &&
        (entry.detail.instanceIds as string[]).includes(silentId) &&
        String(entry.detail.reason).includes("no worker agent report"),
    );
    expect(ended).toHaveLength(1);
    expect(String(ended[0]?.detail.reason)).toMatch(/min after launch \(boot timeout 15 min\)/);
    expect(audit.some((entry) => entry.kind === "replan")).toBe(true);

    const status = await harness.runToEnd(id, 600);
    expect(status).toBe("completed");
    const live = (await harness.instances(id)).filter((i) => ["pending", "running"].includes(i.State?.Name ?? ""));
    expect(live).toHaveLength(0);
    // The work ran elsewhere: no attempt ever started on the silent instance.
    expect(harness.agents.started.filter((a) => a.workloadId === id && a.instanceId === silentId)).toHaveLength(0);
    harness.agents.silent = undefined;
  });
});
