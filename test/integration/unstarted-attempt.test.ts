/**
 * An attempt whose agent is alive but never starts it (its orders were read and ignored):
 * the reconciler reads the agent's `agent-alive` reports, counts the attempt lost after the
 * grace period, stops it (so a late start cannot run beside the new one), re-assigns the
 * job under a new attempt id and says why in the audit trail. Its own resources, so its
 * queues see only its workload (see spot-interruption.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ROLE } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

let harness: ControlPlaneHarness;

beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
});

describe("an attempt the agent never starts", { timeout: 240_000 }, () => {
  it("is counted lost from the agent's alive reports, stopped, re-assigned and audited, and the workload completes", async () => {
    harness.agents.ignore = (attemptId) => attemptId.endsWith("#1");
    const id = await harness.submitAndApprove(submitBody(tinySpec("ignored-orders")));
    await harness.pumpReconciles();
    for (let k = 0; k < 6; k++) await harness.tick(id, 90);
    const status = await harness.runToEnd(id, 900);
    expect(status).toBe("completed");

    const started = harness.agents.started.filter((a) => a.workloadId === id).map((a) => a.attemptId);
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((attemptId) => attemptId.endsWith("#2"))).toBe(true);
    const audit = await harness.store.audit(id);
    const lost = audit.filter(
      (entry) => entry.kind === "checkpoint-and-requeue" && String(entry.detail.reason).startsWith("attempt lost:"),
    );
    expect(lost.map((entry) => entry.detail.attemptId).sort()).toEqual(
      started.map((attemptId) => attemptId.replace(/#2$/, "#1")).sort(),
    );
    expect(String(lost[0]?.detail.reason)).toMatch(/that it is not running attempt .*#1; re-assigned as .*#2/);
    // The stop order stays in the orders document: a late agent never starts the lost attempt.
    const instances = await harness.instances(id);
    const stops = await Promise.all(
      instances.map(async (i) => (await harness.orders(id, i.InstanceId ?? ""))?.stops ?? []),
    );
    expect(stops.flat().map((stop) => stop.attemptId)).toEqual(
      expect.arrayContaining(lost.map((e) => e.detail.attemptId)),
    );
    harness.agents.ignore = undefined;
  });
});
