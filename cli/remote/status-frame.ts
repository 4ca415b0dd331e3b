/**
 * The frame of `saturn status`: the workload's state, spend against budget or time against
 * deadline, a progress bar per job, the instances up, and the latest actions from the
 * audit trail. Pure: it formats what the API answered. Times are the control plane's
 * (its last observation), so an accelerated local stack shows its own clock.
 */
import type { EventView, WorkloadDetailView } from "../api/api-responses.ts";
import { formatClock, progressBar } from "../run/live-view.ts";

const EVENT_LINES = 6;

export function statusFrame(detail: WorkloadDetailView): string[] {
  const { spend, jobs, instances, plan } = detail;
  const reason = detail.statusReason ? ` (${detail.statusReason})` : "";
  const lines = [`${detail.name} ${detail.id} · ${detail.status}${reason} · plan v${detail.planVersion}`];
  const money =
    spend.budgetUsd !== null
      ? `spend $${spend.spentUsd.toFixed(2)} of $${spend.budgetUsd.toFixed(2)} budget`
      : `spend $${spend.spentUsd.toFixed(2)}${plan === null ? "" : ` (plan $${plan.expectedCostUsd.toFixed(2)})`}`;
  const live = instances.filter((i) => i.state === "pending" || i.state === "running");
  const spot = live.filter((i) => i.market === "spot").length;
  lines.push(
    [
      money,
      timeLine(spend.startedAt, spend.deadlineAt, detail.observedAt),
      `instances up ${live.length} (${spot} spot, ${live.length - spot} on-demand)`,
    ]
      .filter((part) => part !== "")
      .join(" · "),
  );
  const width = Math.max(4, ...jobs.map((job) => job.id.length));
  for (const job of jobs) {
    const fraction = job.totalSamples > 0 ? job.samplesDone / job.totalSamples : 0;
    const percent = String(Math.floor(Math.min(1, fraction) * 100)).padStart(3);
    const speed = job.samplesPerSecond ? ` · ${job.samplesPerSecond.toFixed(1)} samples/s` : "";
    const why = job.reason ? ` · ${job.reason}` : "";
    lines.push(`${job.id.padEnd(width)} ${progressBar(fraction)} ${percent}%  ${job.status}${speed}${why}`);
  }
  if (live.length > 0) {
    lines.push("instances:");
    for (const instance of live) {
      lines.push(
        `  ${instance.id} ${instance.instanceType}${instance.region ? ` ${instance.region}` : ""} ${instance.market} ${instance.state}${instance.slot ? ` (${instance.slot})` : ""}`,
      );
    }
  }
  lines.push("recent actions:", ...detail.recentActions.slice(-EVENT_LINES).map((event) => `  ${eventLine(event)}`));
  return lines;
}

export function eventLine(event: EventView): string {
  const detail =
    event.detail === undefined || event.detail === null
      ? ""
      : typeof event.detail === "string"
        ? event.detail
        : summarizeDetail(event.detail);
  return `[${event.at.replace("T", " ").replace(/\.\d+Z$/, "Z")}] ${event.kind}${detail === "" ? "" : `: ${detail}`}`;
}

function summarizeDetail(detail: unknown): string {
  if (typeof detail !== "object" || detail === null) return String(detail);
  const parts = Object.entries(detail as Record<string, unknown>)
    .filter(([, value]) => value !== undefined && value !== null && typeof value !== "object")
    .map(([key, value]) => `${key}=${String(value)}`);
  return parts.join(" ").slice(0, 160);
}

function timeLine(startedAt: number | null, deadlineAt: number | null, observedAt: number | null): string {
  if (startedAt === null || observedAt === null) return "";
  const elapsed = formatClock(observedAt - startedAt);
  return deadlineAt === null
    ? `t = ${elapsed}`
    : `t = ${elapsed} of ${formatClock(deadlineAt - startedAt)} to the deadline`;
}
