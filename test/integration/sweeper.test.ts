/**
 * The sweeper against moto, in a region of its own (it reads every Saturn-tagged instance
 * of the region, so it must not see the other suites' workloads).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { ADMIN_ROLE, lambdaContext } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";
import { launchTaggedInstance } from "./support/tagged-instance.ts";

const REGION = "us-west-2";
let harness: ControlPlaneHarness;

beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE], REGION), REGION);
});

function launchTagged(workloadId: string): Promise<string> {
  return launchTaggedInstance(harness.ec2, {
    [SATURN_TAGS.workload]: workloadId,
    [SATURN_TAGS.role]: "worker",
    [SATURN_TAGS.plan]: "1",
    [SATURN_TAGS.slot]: "i1",
  });
}

describe("the sweeper", { timeout: 120_000 }, () => {
  it("terminates instances of unknown and finished workloads, and of running ones whose heartbeats stopped", async () => {
    // A crash before the workload was recorded left a tagged instance behind.
    const ghost = await launchTagged("w-ghost");
    // A cancelled workload whose instance survived.
    const cancelled = await harness.call("POST", "/workloads", {
      body: submitBody({ ...tinySpec("gone"), region: REGION }),
    });
    const cancelledId = String(cancelled.body.id);
    await harness.call("POST", `/workloads/${cancelledId}/cancel`);
    const leftover = await launchTagged(cancelledId);
    // A running workload with live agents.
    const running = await harness.submitAndApprove(submitBody({ ...tinySpec("alive"), region: REGION }));
    await harness.pumpReconciles();
    await harness.tick(running, 60);
    const runningIds = (await harness.instances(running)).map((i) => i.InstanceId ?? "");
    expect(runningIds.length).toBeGreaterThan(0);

    const first = await harness.sweeper({}, lambdaContext());
    expect(first.terminated.map((d) => d.instanceId).sort()).toEqual([ghost, leftover].sort());
    expect(first.terminated.find((d) => d.instanceId === ghost)?.reason).toContain("unknown");
    expect(first.terminated.find((d) => d.instanceId === leftover)?.reason).toContain("cancelled");

    // An hour later with no word from the agents: their instances count as lost.
    harness.now += 3600;
    const second = await harness.sweeper({}, lambdaContext());
    expect(second.terminated.map((d) => d.instanceId).sort()).toEqual([...runningIds].sort());
    expect(second.terminated[0]?.reason).toMatch(/no heartbeat/);
    const states = (await harness.instances(running)).map((i) => i.State?.Name);
    expect(states.every((state) => state === "terminated" || state === "shutting-down")).toBe(true);
  });
});
