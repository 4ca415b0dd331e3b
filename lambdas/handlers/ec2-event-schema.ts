/** The EventBridge EC2 events the ec2-events function takes, read into the control plane's notice. */
import { z } from "zod";
import type { Ec2Notice } from "../core/control-plane/cloud-event-intake.ts";

export const EC2_DETAIL_TYPES = {
  "EC2 Spot Instance Interruption Warning": "spot-interruption-warning",
  "EC2 Instance Rebalance Recommendation": "rebalance-recommendation",
  "EC2 Instance State-change Notification": "state-change",
} as const satisfies Record<string, Ec2Notice["kind"]>;

const ec2EventSchema = z.object({
  source: z.literal("aws.ec2"),
  "detail-type": z.enum(Object.keys(EC2_DETAIL_TYPES) as [keyof typeof EC2_DETAIL_TYPES]),
  time: z.iso.datetime({ offset: true }),
  detail: z.object({ "instance-id": z.string().regex(/^i-[0-9a-z]+$/), state: z.string().optional() }),
});

/** The notice, or why the event is not one. */
export function parseEc2Event(event: unknown): Ec2Notice | string {
  const parsed = ec2EventSchema.safeParse(event);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  const { data } = parsed;
  return {
    kind: EC2_DETAIL_TYPES[data["detail-type"]],
    instanceId: data.detail["instance-id"],
    at: Date.parse(data.time) / 1000,
    state: data.detail.state,
  };
}
