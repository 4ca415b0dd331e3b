/**
 * A Gantt chart as data: one row per instance (with its lifetimes) and bars per job
 * interval. Built from a plan (what is intended) or from an executed run (what happened),
 * so that both reports draw through the same renderer (`gantt-svg.ts`).
 */
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import type { Market } from "../../lambdas/core/spec/workload-schema.ts";
import type { ExecutedOutcome, ExecutedRun } from "./executed-run.ts";
import { formatDuration } from "./html-text.ts";

export interface GanttRow {
  readonly id: string;
  readonly label: string;
  readonly market: Market;
  /** When the instance is rented; a row may hold several lifetimes (relaunches). */
  readonly lifetimes: readonly { readonly start: number; readonly end: number }[];
}

export interface GanttBar {
  readonly rowId: string;
  readonly jobId: string;
  readonly start: number;
  readonly end: number;
  readonly label: string;
  readonly tooltip: string;
  readonly outcome: ExecutedOutcome | "planned";
}

export interface GanttChart {
  readonly rows: readonly GanttRow[];
  readonly bars: readonly GanttBar[];
  /** Right edge of the time axis, seconds. */
  readonly horizon: number;
  /** Executed runs: the moment the record was taken, drawn as a marker line. */
  readonly now?: number;
}

export function ganttFromPlan(plan: Plan): GanttChart {
  const rows: GanttRow[] = plan.instances.map((instance) => ({
    id: instance.id,
    label: rowLabel(instance.id, instance.instanceType),
    market: instance.market,
    lifetimes: [{ start: instance.start, end: instance.end }],
  }));
  const bars: GanttBar[] = plan.assignments.flatMap((assignment) =>
    assignment.instanceIds.map((instanceId) => ({
      rowId: instanceId,
      jobId: assignment.jobId,
      start: assignment.start,
      end: assignment.end,
      label: assignment.jobId,
      tooltip:
        `${assignment.jobId}: ${assignment.technique}, ${assignment.instanceIds.length} x ${assignment.gpusPerInstance} GPU, ` +
        `${formatDuration(assignment.start)} to ${formatDuration(assignment.end)} ` +
        `(${assignment.samplesPerSecond.toFixed(2)} samples/s, ${assignment.throughputSource})`,
      outcome: "planned" as const,
    })),
  );
  const horizon = Math.max(
    plan.totals.makespanSeconds,
    ...plan.instances.map((instance) => instance.end),
    ...plan.assignments.map((assignment) => assignment.end),
    1,
  );
  return { rows, bars, horizon };
}

export function ganttFromExecuted(run: ExecutedRun): GanttChart {
  const rowsById = new Map<string, { label: string; market: Market; lifetimes: { start: number; end: number }[] }>();
  for (const instance of run.instances) {
    const end = instance.end ?? run.now;
    const row = rowsById.get(instance.id);
    if (row) row.lifetimes.push({ start: instance.start, end });
    else
      rowsById.set(instance.id, {
        label: rowLabel(instance.id, instance.instanceType),
        market: instance.market,
        lifetimes: [{ start: instance.start, end }],
      });
  }
  const rows: GanttRow[] = [...rowsById.entries()].map(([id, row]) => ({ id, ...row }));
  const bars: GanttBar[] = run.intervals.flatMap((interval) => {
    const end = interval.end ?? run.now;
    return interval.instanceIds.map((instanceId) => ({
      rowId: instanceId,
      jobId: interval.jobId,
      start: interval.start,
      end,
      label: interval.jobId,
      tooltip: `${interval.jobId}: ${interval.outcome}, ${formatDuration(interval.start)} to ${formatDuration(end)}`,
      outcome: interval.outcome,
    }));
  });
  const horizon = Math.max(
    run.now,
    ...rows.flatMap((row) => row.lifetimes.map((lifetime) => lifetime.end)),
    ...bars.map((bar) => bar.end),
    1,
  );
  return { rows, bars, horizon, now: run.now };
}

/**
 * Fits the label column (about 36 characters): the id, with the instance type added when the
 * id does not already name it; long labels lose their middle, since ids differ at the ends
 * (a counter in front, a market or node suffix behind).
 */
const LABEL_CHARACTERS = 36;
function rowLabel(id: string, instanceType: string): string {
  const label = id.includes(instanceType) ? id : `${id} · ${instanceType}`;
  if (label.length <= LABEL_CHARACTERS) return label;
  const keep = (LABEL_CHARACTERS - 1) / 2;
  return `${label.slice(0, Math.ceil(keep))}…${label.slice(-Math.floor(keep))}`;
}
