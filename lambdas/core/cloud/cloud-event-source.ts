/**
 * Where the EC2 adapter reads cloud events from. On AWS, EventBridge delivers EC2 events
 * (spot interruption warning, rebalance recommendation, instance state-change) to the
 * ec2-events Lambda, which resolves the instance's workload from its tags and records the
 * event in the store; the store implements this port. Events are hints and may repeat or
 * come out of order; the interruption warnings also mark instances in `describe`.
 */
import type { CloudEvent } from "./cloud-port.ts";

export interface CloudEventSource {
  /** Events recorded for the workload with `at >= sinceSeconds`, oldest first. */
  cloudEvents(workloadId: string, sinceSeconds: number): Promise<readonly CloudEvent[]>;
}

export interface CloudEventSink {
  /** Records the event once (duplicates of the same kind, instance and time are dropped); false for a duplicate. */
  putCloudEvent(workloadId: string, event: CloudEvent): Promise<boolean>;
}
