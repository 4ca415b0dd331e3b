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
import { CreateFleetCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { live, slotOf, useContractHarness } from "./support/contract-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

const harnessOf = useContractHarness();

describe("crash recovery", { timeout: 240_000 }, () => {
  it("adopts an instance launched by a pass that crashed before saving, instead of launching it again", async () => {
    const harness = harnessOf();
    let crashed = false;
    harness.wrapEc2 = (inner) => ({
      send: async (command) => {
        const output = await inner.send(command);
        if (command instanceof CreateFleetCommand && !crashed) {
          crashed = true;
          throw new Error("simulated crash: the function died after CreateFleet, before the record was saved");
        }
        return output;
      },
    });
    const id = await harness.submitAndApprove(submitBody(tinySpec("crash")));
    const before = harness.failures.length;
    await harness.pumpReconciles();
    harness.wrapEc2 = undefined;
    expect(crashed).toBe(true);
    expect(harness.failures.length).toBeGreaterThan(before);
    const instances = live(await harness.instances(id));
    const slots = instances.map(slotOf);
    expect(new Set(slots).size).toBe(slots.length);
    const plan = (await harness.call("GET", `/workloads/${id}/plan`)).body.plan as { instances: { start: number }[] };
    expect(instances.length).toBe(plan.instances.filter((slot) => slot.start === 0).length);
    expect(await harness.runToEnd(id, 1800)).toBe("completed");
  });
});
