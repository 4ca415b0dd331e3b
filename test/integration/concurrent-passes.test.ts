import type { SQSEvent } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { ADMIN_ROLE, lambdaContext } from "./support/api-events.ts";
import { createContractResources } from "./support/contract-resources.ts";
import { ControlPlaneHarness } from "./support/control-plane-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

let harness: ControlPlaneHarness;

// The stack's resources from the contract, in the suite's moto server. Against the stack the
// global setup deploys (test/support/deployed-stack.ts) the first three tests pass and the
// later ones do not finish yet: see docs/control-plane.md, "Handlers".
beforeAll(async () => {
  harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
});

const live = (instances: Awaited<ReturnType<ControlPlaneHarness["instances"]>>) =>
  instances.filter((i) => i.State?.Name === "pending" || i.State?.Name === "running");
const slotOf = (instance: { Tags?: { Key?: string; Value?: string }[] }) =>
  instance.Tags?.find((tag) => tag.Key === SATURN_TAGS.slot)?.Value;

describe("concurrent passes", { timeout: 240_000 }, () => {
  it("runs one of two passes that start at once and launches nothing twice", async () => {
    const submitted = await harness.call("POST", "/workloads", { body: submitBody(tinySpec("twins")) });
    const id = String(submitted.body.id);
    await harness.pumpPlans();
    await harness.call("POST", `/workloads/${id}/approve`);
    // Drain the approve's request so only the two invocations below run passes.
    // (deleted, not just received: an in-flight FIFO message would hold back the group's later requests)
    await harness.drain(harness.env.SATURN_RECONCILE_QUEUE_URL);
    const event = (n: number): SQSEvent => ({
      Records: [
        {
          messageId: `twin-${n}`,
          receiptHandle: "",
          body: JSON.stringify({ workloadId: id, reason: "twin" }),
          attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: "0",
            SenderId: "t",
            ApproximateFirstReceiveTimestamp: "0",
          },
          messageAttributes: {},
          md5OfBody: "",
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q",
          awsRegion: "us-east-1",
        },
      ],
    });
    const fleetsBefore = harness.faulty.fleetInputs().length;
    await Promise.all([harness.reconciler(event(1), lambdaContext()), harness.reconciler(event(2), lambdaContext())]);
    const fleets = harness.faulty.fleetInputs().length - fleetsBefore;
    const instances = live(await harness.instances(id));
    const slots = instances.map(slotOf);
    expect(new Set(slots).size).toBe(slots.length);
    expect(fleets).toBe(instances.length);
    await harness.call("POST", `/workloads/${id}/cancel`);
    expect(await harness.runToEnd(id, 60, 10)).toBe("cancelled");
  });
});
