/**
 * EC2 events from EventBridge (spot interruption warning, rebalance recommendation,
 * instance state change) for Saturn's instances. They are hints: each asks for a reconcile
 * pass of the instance's workload at once. A spot warning is also written onto the
 * instance as a tag (the reconciler reads it as the interruption notice), because
 * DescribeInstances never reports one. Events for instances Saturn did not launch, and
 * repeats, change nothing.
 */
import { type CloudPort, SATURN_TAGS } from "../cloud/cloud-port.ts";
import type { ControlQueues } from "./control-queues.ts";
import { INTERRUPTION_NOTICE_TAG } from "./interruption-notices.ts";

export interface Ec2Notice {
  readonly kind: "spot-interruption-warning" | "rebalance-recommendation" | "state-change";
  readonly instanceId: string;
  /** The event's time, ISO 8601. */
  readonly at: string;
  readonly state: string | undefined;
}

export interface CloudEventDeps {
  readonly cloud: CloudPort;
  readonly queues: ControlQueues;
}

/** Returns the workload the instance belongs to (undefined: not Saturn's). */
export async function takeEc2Notice(deps: CloudEventDeps, notice: Ec2Notice): Promise<string | undefined> {
  const instances = await deps.cloud.describe({ [SATURN_TAGS.role]: "worker" });
  const instance = instances.find((candidate) => candidate.id === notice.instanceId);
  const workloadId = instance?.tags[SATURN_TAGS.workload];
  if (instance === undefined || workloadId === undefined) return undefined;
  if (notice.kind === "spot-interruption-warning" && instance.tags[INTERRUPTION_NOTICE_TAG] === undefined) {
    await deps.cloud.tag(instance.id, { [INTERRUPTION_NOTICE_TAG]: notice.at });
  }
  await deps.queues.requestReconcile([workloadId], `${notice.kind} of ${notice.instanceId}`);
  return workloadId;
}
