/**
 * EventBridge's EC2 events -> the cloud port's `CloudEvent`. The ec2-events Lambda calls it,
 * looks the instance's workload up by its `saturn:workload` tag and records the result with
 * `CloudEventSink.putCloudEvent`. Shapes from the EC2 user guide ("Spot Instance interruption
 * notices", "EC2 instance rebalance recommendations", "Instance state change events"):
 *
 *   { "detail-type": "EC2 Spot Instance Interruption Warning", "time": "...",
 *     "detail": { "instance-id": "i-...", "instance-action": "terminate" | "stop" | "hibernate" } }
 *   { "detail-type": "EC2 Instance State-change Notification", "time": "...",
 *     "detail": { "instance-id": "i-...", "state": "pending" | "running" | ... } }
 *
 * A rebalance recommendation has no `CloudEvent` kind (it is advice, not a notice): it maps
 * to undefined, as do events of other types. Malformed events of a known type throw, naming
 * the field.
 */
import { z } from "zod";
import type { CloudEvent, InstanceState } from "./cloud-port.ts";

/** The reclaim comes two minutes after the warning (EC2 user guide, "Spot Instance interruption notices"). */
export const SPOT_WARNING_SECONDS = 120;

export const EC2_EVENT_TYPES = {
  spotWarning: "EC2 Spot Instance Interruption Warning",
  rebalance: "EC2 Instance Rebalance Recommendation",
  stateChange: "EC2 Instance State-change Notification",
} as const;

const instanceId = z.string().regex(/^i-[0-9a-z]{1,32}$/, { error: "expected an EC2 instance id such as 'i-0abc123'" });
const time = z.iso.datetime({ offset: true, error: "expected an ISO 8601 time" });

const spotWarning = z.object({
  "detail-type": z.literal(EC2_EVENT_TYPES.spotWarning),
  time,
  detail: z.object({ "instance-id": instanceId }),
});
const stateChange = z.object({
  "detail-type": z.literal(EC2_EVENT_TYPES.stateChange),
  time,
  detail: z.object({
    "instance-id": instanceId,
    state: z.enum(["pending", "running", "shutting-down", "terminated", "stopping", "stopped"]),
  }),
});

/** EC2 states -> the port's: stopping and stopped instances do no work and are on their way out. */
export const EC2_INSTANCE_STATES: Readonly<Record<string, InstanceState>> = {
  pending: "pending",
  running: "running",
  "shutting-down": "shutting-down",
  stopping: "shutting-down",
  stopped: "shutting-down",
  terminated: "terminated",
};

export class InvalidCloudEventError extends Error {
  override readonly name = "InvalidCloudEventError";
}

/** The instance an EventBridge EC2 event is about, if it names one (for the workload lookup). */
export function eventInstanceId(event: unknown): string | undefined {
  const id = (event as { detail?: { "instance-id"?: unknown } } | null)?.detail?.["instance-id"];
  return typeof id === "string" ? id : undefined;
}

export function cloudEventFromEventBridge(event: unknown): CloudEvent | undefined {
  const type = (event as { "detail-type"?: unknown } | null)?.["detail-type"];
  const schema =
    type === EC2_EVENT_TYPES.spotWarning ? spotWarning : type === EC2_EVENT_TYPES.stateChange ? stateChange : undefined;
  if (schema === undefined) return undefined;
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(event)"}: ${issue.message}`);
    throw new InvalidCloudEventError(`${String(type)} event: ${issues.join("; ")}`);
  }
  const at = Date.parse(parsed.data.time) / 1000;
  const id = parsed.data.detail["instance-id"];
  if (parsed.data["detail-type"] === EC2_EVENT_TYPES.spotWarning) {
    return { kind: "spot-interruption-warning", instanceId: id, at, reclaimAt: at + SPOT_WARNING_SECONDS };
  }
  const state = (parsed.data.detail as { state: string }).state;
  return { kind: "instance-state", instanceId: id, state: EC2_INSTANCE_STATES[state] ?? "pending", at };
}
