import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { lambdaContext } from "./support/api-events.ts";
import { live, slotOf, useContractHarness } from "./support/contract-harness.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

const harnessOf = useContractHarness();

describe("concurrent passes", { timeout: 240_000 }, () => {
  it("runs one of two passes that start at once and launches nothing twice", async () => {
    const harness = harnessOf();
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
