/**
 * EC2 events from EventBridge (spot interruption warning, rebalance recommendation,
 * instance state change) for Saturn's instances. They are hints: each is recorded for the
 * instance's workload (the EC2 adapter marks warned instances in `describe` from these
 * records, since DescribeInstances never reports a warning) and asks for a reconcile pass
 * of that workload at once. Events for instances Saturn did not launch change nothing;
 * repeats are dropped by the sink.
 */
import type { CloudEventSink } from "../cloud/cloud-event-source.ts";
import { type CloudEvent, type CloudPort, type InstanceState, SATURN_TAGS } from "../cloud/cloud-port.ts";
import { type Ec2Notice, SPOT_WARNING_SECONDS } from "../cloud/eventbridge-ec2-event.ts";
import type { ControlQueues } from "./control-queues.ts";

export { type Ec2Notice, SPOT_WARNING_SECONDS };

export interface CloudEventDeps {
  readonly cloud: CloudPort;
  readonly events: CloudEventSink;
  readonly queues: ControlQueues;
}

const STATES: ReadonlySet<string> = new Set<InstanceState>(["pending", "running", "shutting-down", "terminated"]);

/** The notice as the cloud port's event, when it has one (rebalance recommendations only prompt a pass). */
export function cloudEventOf(notice: Ec2Notice): CloudEvent | undefined {
  if (notice.kind === "spot-interruption-warning") {
    return {
      kind: "spot-interruption-warning",
      instanceId: notice.instanceId,
      at: notice.at,
      reclaimAt: notice.at + SPOT_WARNING_SECONDS,
    };
  }
  if (notice.kind === "state-change" && notice.state !== undefined && STATES.has(notice.state)) {
    return {
      kind: "instance-state",
      instanceId: notice.instanceId,
      state: notice.state as InstanceState,
      at: notice.at,
    };
  }
  return undefined;
}

/** Returns the workload the instance belongs to (undefined: not Saturn's). */
export async function takeEc2Notice(deps: CloudEventDeps, notice: Ec2Notice): Promise<string | undefined> {
  const instances = await deps.cloud.describe({ [SATURN_TAGS.role]: "worker" });
  const workloadId = instances.find((candidate) => candidate.id === notice.instanceId)?.tags[SATURN_TAGS.workload];
  if (workloadId === undefined) return undefined;
  const event = cloudEventOf(notice);
  if (event !== undefined) await deps.events.putCloudEvent(workloadId, event);
  await deps.queues.requestReconcile([workloadId], `${notice.kind} of ${notice.instanceId}`);
  return workloadId;
}
