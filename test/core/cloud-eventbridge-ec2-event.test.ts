import { describe, expect, it } from "vitest";
import {
  cloudEventFromEventBridge,
  eventInstanceId,
  InvalidCloudEventError,
} from "../../lambdas/core/cloud/eventbridge-ec2-event.ts";

const at = Date.parse("2026-12-01T12:00:00Z") / 1000;

describe("cloudEventFromEventBridge", () => {
  it("turns a spot interruption warning into a warning with the reclaim two minutes later", () => {
    const event = {
      "detail-type": "EC2 Spot Instance Interruption Warning",
      source: "aws.ec2",
      time: "2026-12-01T12:00:00Z",
      detail: { "instance-id": "i-0abc123", "instance-action": "terminate" },
    };
    expect(cloudEventFromEventBridge(event)).toEqual({
      kind: "spot-interruption-warning",
      instanceId: "i-0abc123",
      at,
      reclaimAt: at + 120,
    });
    expect(eventInstanceId(event)).toBe("i-0abc123");
  });

  it("turns state changes into instance states, stopped ones as shutting down", () => {
    const change = (state: string) => ({
      "detail-type": "EC2 Instance State-change Notification",
      time: "2026-12-01T12:00:00Z",
      detail: { "instance-id": "i-0abc123", state },
    });
    expect(cloudEventFromEventBridge(change("terminated"))).toEqual({
      kind: "instance-state",
      instanceId: "i-0abc123",
      state: "terminated",
      at,
    });
    expect(cloudEventFromEventBridge(change("stopped"))).toMatchObject({ state: "shutting-down" });
  });

  it("ignores rebalance recommendations and other event types", () => {
    const rebalance = {
      "detail-type": "EC2 Instance Rebalance Recommendation",
      time: "2026-12-01T12:00:00Z",
      detail: { "instance-id": "i-0abc123" },
    };
    expect(cloudEventFromEventBridge(rebalance)).toBeUndefined();
    expect(cloudEventFromEventBridge({ "detail-type": "Scheduled Event" })).toBeUndefined();
    expect(cloudEventFromEventBridge(null)).toBeUndefined();
  });

  it("names the field of a malformed event of a known type", () => {
    const bad = {
      "detail-type": "EC2 Instance State-change Notification",
      time: "2026-12-01T12:00:00Z",
      detail: { "instance-id": "nope", state: "running" },
    };
    expect(() => cloudEventFromEventBridge(bad)).toThrow(InvalidCloudEventError);
    expect(() => cloudEventFromEventBridge(bad)).toThrow(/detail\.instance-id: expected an EC2 instance id/);
  });
});
