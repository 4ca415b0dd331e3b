/**
 * Reads the instance's own interruption signals from IMDS:
 * - `meta-data/spot/instance-action`: present (JSON `{action, time}`) about two minutes
 *   before EC2 stops, hibernates or terminates a spot instance; 404 otherwise;
 * - `meta-data/events/recommendations/rebalance`: present (JSON `{noticeTime}`) when EC2
 *   sees an elevated risk of interruption; 404 otherwise.
 * A body that does not parse still counts as a notice (IMDS only serves the item when
 * there is one), with no action time.
 */
import type { ImdsPort } from "./imds-client.ts";

export interface InterruptionNotice {
  readonly notice: "spot-instance-action" | "rebalance-recommendation";
  readonly actionAt: string | null;
}

function timeField(body: string, field: string): string | null {
  try {
    const value = (JSON.parse(body) as Record<string, unknown>)[field];
    return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : null;
  } catch {
    return null;
  }
}

/** The spot notice wins over a rebalance recommendation: it is the later and harder signal. */
export async function readInterruptionNotice(imds: ImdsPort): Promise<InterruptionNotice | undefined> {
  const action = await imds.get("meta-data/spot/instance-action");
  if (action !== null) return { notice: "spot-instance-action", actionAt: timeField(action, "time") };
  const rebalance = await imds.get("meta-data/events/recommendations/rebalance");
  if (rebalance !== null) return { notice: "rebalance-recommendation", actionAt: timeField(rebalance, "noticeTime") };
  return undefined;
}
