/**
 * One failure of the control plane end to end (its own resources, so its queues see only
 * its workload). The control plane end to end in moto: the real handlers, built by the real
 * composition root from the functions' environment, on the stack's table, queues, bucket
 * and launch templates (created from the stack contract); simulated
 * agents on the instances moto launches; accelerated time (the suite moves the clock,
 * nothing sleeps). Then what goes wrong in a run: cancel mid-run, a spot interruption,
 * capacity and quota errors (injected at the EC2 client seam: moto never reports them),
 * duplicated, reordered and malformed worker messages, a crash between launch and record,
 * two passes at once. Every test runs its own workload; they run one after another in this
 * one file because they pump the same queues.
 */
import { TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ROLE, lambdaContext } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { spotOnlySpec, submitBody } from "./support/specs.ts";

let harness: ControlPlaneHarness;

// The stack's resources from the contract, in the suite's moto server: this file's own
// queues, which see only its workloads: files run in parallel, and a harness that drained
// another file's events from a shared deployment would run them on its own virtual clock. See docs/control-plane.md, "Handlers".
beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
});

const live = (instances: Awaited<ReturnType<ControlPlaneHarness["instances"]>>) =>
  instances.filter((i) => i.State?.Name === "pending" || i.State?.Name === "running");

describe("spot interruption", { timeout: 240_000 }, () => {
  it("moves a job off a spot instance on its interruption warning and resumes it from the checkpoint on a replacement", async () => {
    const id = await harness.submitAndApprove(submitBody(spotOnlySpec()));
    await harness.pumpReconciles();
    await harness.tick(id, 60);
    await harness.tick(id, 600);
    const running = live(await harness.instances(id));
    const victim = running.find((i) => harness.agents.started.some((a) => a.instanceId === i.InstanceId));
    expect(victim?.InstanceLifecycle).toBe("spot");
    const victimId = victim?.InstanceId ?? "";
    const warning = await harness.ec2Events(
      {
        version: "0",
        id: "warn-1",
        source: "aws.ec2",
        account: "123456789012",
        region: harness.region,
        resources: [],
        "detail-type": "EC2 Spot Instance Interruption Warning",
        time: new Date(harness.now * 1000).toISOString(),
        detail: { "instance-id": victimId, "instance-action": "terminate" },
      },
      lambdaContext(),
    );
    expect(warning).toEqual({ workloadId: id });
    await harness.pumpReconciles();
    // The agent saves a checkpoint on the stop order; two minutes later EC2 reclaims the instance.
    await harness.tick(id, 60);
    await harness.ec2.send(new TerminateInstancesCommand({ InstanceIds: [victimId] }));
    await harness.tick(id, 60);
    const status = await harness.runToEnd(id, 1200);
    expect(status).toBe("completed");
    const onVictim = harness.agents.started.filter((a) => a.instanceId === victimId).map((a) => a.attemptId);
    expect(onVictim.length).toBeGreaterThan(0);
    const resumed = harness.agents.started.filter(
      (a) =>
        a.instanceId !== victimId &&
        a.fromSamples > 0 &&
        onVictim.some((v) => v.split("#")[0] === a.attemptId.split("#")[0]),
    );
    expect(resumed.length).toBeGreaterThan(0);
    const execution = await harness.store.getExecution(id);
    expect(execution?.record.interruptedInstanceIds).toContain(victimId);
    expect(live(await harness.instances(id))).toEqual([]);
  });
});
