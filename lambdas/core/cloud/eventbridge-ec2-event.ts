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
 * `parseEc2Notice` reads any of the three (the ec2-events function's input) into an
 * `Ec2Notice`, or says why the event is not one. A rebalance recommendation has no
 * `CloudEvent` kind (it is advice, not a notice): `cloudEventFromEventBridge` maps it to
 * undefined, as it does events of other types; malformed events of a known type throw there,
 * naming the field.
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

const rebalance = z.object({
  "detail-type": z.literal(EC2_EVENT_TYPES.rebalance),
  time,
  detail: z.object({ "instance-id": instanceId }),
});
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

/** One EC2 event for the control plane: what happened to which instance, and when. */
export interface Ec2Notice {
  readonly kind: "spot-interruption-warning" | "rebalance-recommendation" | "state-change";
  readonly instanceId: string;
  /** The event's time, epoch seconds. */
  readonly at: number;
  /** State-change only: the EC2 state name (`running`, `shutting-down`, `terminated`, `stopping`, ...). */
  readonly state: string | undefined;
}

const NOTICE_KINDS = {
  [EC2_EVENT_TYPES.spotWarning]: { kind: "spot-interruption-warning", schema: spotWarning },
  [EC2_EVENT_TYPES.rebalance]: { kind: "rebalance-recommendation", schema: rebalance },
  [EC2_EVENT_TYPES.stateChange]: { kind: "state-change", schema: stateChange },
} as const;

/** The notice, or why the event is not one this control plane handles (each problem as `path: message`). */
export function parseEc2Notice(event: unknown): Ec2Notice | string {
  const { source, "detail-type": type } = (event ?? {}) as { source?: unknown; "detail-type"?: unknown };
  if (source !== "aws.ec2") return `source: expected 'aws.ec2', got ${JSON.stringify(source) ?? "nothing"}`;
  const known = NOTICE_KINDS[type as keyof typeof NOTICE_KINDS] as
    | (typeof NOTICE_KINDS)[keyof typeof NOTICE_KINDS]
    | undefined;
  if (known === undefined) {
    return `detail-type: expected one of ${Object.keys(NOTICE_KINDS)
      .map((name) => `'${name}'`)
      .join(", ")}, got ${JSON.stringify(type) ?? "nothing"}`;
  }
  const parsed = known.schema.safeParse(event);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `${issue.path.join(".") || "(event)"}: ${issue.message}`).join("; ");
  }
  const detail = parsed.data.detail as { "instance-id": string; state?: string };
  return {
    kind: known.kind,
    instanceId: detail["instance-id"],
    at: Date.parse(parsed.data.time) / 1000,
    state: detail.state,
  };
}
