/**
 * `saturn plan --html FILE`: one self-contained HTML page (inline CSS and SVG, no scripts,
 * no external assets) with the plan's Gantt chart, the cost/makespan chart, and tables.
 * The same page can carry "what actually ran" (an executed run) under the plan, drawn by
 * the same Gantt renderer, and the baselines as points next to the frontier.
 */

import type { PlanningResult } from "../../lambdas/core/planner/api.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { consideredTable } from "./considered-table.ts";
import type { ExecutedRun } from "./executed-run.ts";
import { ganttFromExecuted, ganttFromPlan } from "./gantt-chart.ts";
import { renderGanttSvg } from "./gantt-svg.ts";
import { escapeHtml, formatDuration, formatUsd } from "./html-text.ts";
import { jobColors } from "./job-colors.ts";
import { type ParetoPoint, renderParetoSvg } from "./pareto-svg.ts";

export interface PlanReportOptions {
  readonly title?: string;
  /** What actually ran; drawn as a second Gantt chart under the plan. */
  readonly executed?: ExecutedRun;
  /** Baseline plans' totals, drawn as points on the cost/makespan chart and tabulated. */
  readonly baselines?: readonly ParetoPoint[];
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #57606a; margin: 0 0 16px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.summary td:first-child { font-weight: 600; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; margin: 4px 0; font-size: 13px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 6px 0; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -2px; margin-right: 4px; }
.chart { overflow-x: auto; border: 1px solid #d0d7de; padding: 4px; }
tr.chosen td { background: #dafbe1; font-weight: 600; }
details { margin: 4px 0; } summary { cursor: pointer; font-size: 13px; }
`;

/** Jobs beyond this many are not listed one by one in the color legend. */
const LEGEND_LIMIT = 60;

export function renderPlanReport(result: PlanningResult, options: PlanReportOptions = {}): string {
  const plan = result.plan;
  const title = options.title ?? `Saturn plan: ${plan.workload}`;
  const jobIds = [
    ...plan.assignments.map((assignment) => assignment.jobId),
    ...(options.executed?.intervals.map((interval) => interval.jobId) ?? []),
  ];
  const colors = jobColors(jobIds);
  const baselines = options.baselines ?? [];
  const chosen: ParetoPoint = { label: "chosen plan", ...totalsOf(plan) };
  const frontier = (result.frontier ?? []).map((point, index) => ({ label: `plan ${index + 1}`, ...totalsOf(point) }));

  const sections = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="sub">workload <b>${escapeHtml(plan.workload)}</b> · objective <b>${plan.objective}</b> · ` +
      `${plan.assignments.length} jobs on ${plan.instances.length} instances</p>`,
    ...result.warnings.map((warning) => `<div class="warn">${escapeHtml(warning)}</div>`),
    summaryTable(plan),
    `<h2>Schedule (planned)</h2>`,
    legend(colors),
    `<div class="chart">${renderGanttSvg(ganttFromPlan(plan), { idPrefix: "planned", colors })}</div>`,
  ];
  if (options.executed) {
    sections.push(
      `<h2>What actually ran</h2>`,
      `<div class="chart">${renderGanttSvg(ganttFromExecuted(options.executed), { idPrefix: "executed", colors })}</div>`,
    );
  }
  sections.push(
    `<h2>Cost and makespan</h2>`,
    `<div class="chart">${renderParetoSvg({ frontier, chosen, baselines })}</div>`,
  );
  if (frontier.length > 0 || baselines.length > 0) sections.push(comparisonTable(chosen, frontier, baselines));
  sections.push(
    `<h2>Jobs</h2>`,
    assignmentTable(plan, colors),
    `<h2>Instances</h2>`,
    instanceTable(plan),
    `<h2>Considered configurations</h2>`,
    consideredTable(plan),
  );

  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`,
    `<body>`,
    ...sections,
    `</body></html>`,
    "",
  ].join("\n");
}

function totalsOf(plan: Plan): { costUsd: number; makespanSeconds: number } {
  return { costUsd: plan.totals.expectedCostUsd, makespanSeconds: plan.totals.makespanSeconds };
}

function summaryTable(plan: Plan): string {
  const boundText = plan.objective === "min-time" ? formatDuration(plan.lowerBound) : formatUsd(plan.lowerBound);
  const rows: [string, string][] = [
    ["expected cost", formatUsd(plan.totals.expectedCostUsd)],
    ["makespan", formatDuration(plan.totals.makespanSeconds)],
    ["lower bound", `${boundText} (${plan.objective === "min-time" ? "makespan" : "cost"})`],
    ["gap", `${(plan.gap * 100).toFixed(2)} %`],
    ["solve time", `${plan.solveSeconds.toFixed(1)} s`],
  ];
  return `<table class="summary">${rows.map(([name, value]) => `<tr><td>${name}</td><td class="num">${escapeHtml(value)}</td></tr>`).join("")}</table>`;
}

function legend(colors: ReadonlyMap<string, string>): string {
  const markets =
    `<span><span class="swatch" style="background:#dbe4f3;border:1px solid #9aa5b8"></span>on-demand instance</span>` +
    `<span><span class="swatch" style="background:repeating-linear-gradient(45deg,#fdf0dc 0 2px,#e8b36a 2px 4px)"></span>spot instance</span>`;
  const jobs =
    colors.size <= LEGEND_LIMIT
      ? [...colors.entries()]
          .map(
            ([jobId, color]) =>
              `<span><span class="swatch" style="background:${color}"></span>${escapeHtml(jobId)}</span>`,
          )
          .join("")
      : `<span>${colors.size} jobs, one color each (hover a bar for its job)</span>`;
  return `<div class="legend">${markets}${jobs}</div>`;
}

function comparisonTable(
  chosen: ParetoPoint,
  frontier: readonly ParetoPoint[],
  baselines: readonly ParetoPoint[],
): string {
  const row = (point: ParetoPoint, kind: string): string =>
    `<tr><td>${escapeHtml(point.label)}</td><td>${kind}</td><td class="num">${formatUsd(point.costUsd)}</td>` +
    `<td class="num">${formatDuration(point.makespanSeconds)}</td>` +
    `<td class="num">${(point.costUsd / chosen.costUsd).toFixed(2)}x</td>` +
    `<td class="num">${(point.makespanSeconds / chosen.makespanSeconds).toFixed(2)}x</td></tr>`;
  return (
    `<table><tr><th>plan</th><th>kind</th><th>cost</th><th>makespan</th><th>cost / chosen</th><th>makespan / chosen</th></tr>` +
    row(chosen, "chosen") +
    frontier.map((point) => row(point, "frontier")).join("") +
    baselines.map((point) => row(point, "baseline")).join("") +
    `</table>`
  );
}

function assignmentTable(plan: Plan, colors: ReadonlyMap<string, string>): string {
  const instances = new Map(plan.instances.map((instance) => [instance.id, instance]));
  const rows = [...plan.assignments]
    .sort((a, b) => a.start - b.start || a.jobId.localeCompare(b.jobId))
    .map((assignment) => {
      const first = instances.get(assignment.instanceIds[0] ?? "");
      return (
        `<tr><td><span class="swatch" style="background:${colors.get(assignment.jobId) ?? "#888"}"></span>${escapeHtml(assignment.jobId)}</td>` +
        `<td>${assignment.technique}</td><td>${escapeHtml(first?.instanceType ?? "?")}</td>` +
        `<td>${escapeHtml(first?.region ?? "home")}</td><td>${first?.market ?? "?"}</td>` +
        `<td class="num">${assignment.instanceIds.length} x ${assignment.gpusPerInstance}</td>` +
        `<td class="num">${formatDuration(assignment.start)}</td><td class="num">${formatDuration(assignment.end)}</td>` +
        `<td class="num">${assignment.samplesPerSecond.toFixed(2)}</td><td>${assignment.throughputSource}</td>` +
        `<td class="num">${assignment.transferUsd === undefined ? "-" : formatUsd(assignment.transferUsd)}</td></tr>`
      );
    });
  return (
    `<table><tr><th>job</th><th>technique</th><th>instance type</th><th>region</th><th>market</th><th>nodes x GPUs</th>` +
    `<th>start</th><th>end</th><th>samples/s</th><th>throughput</th><th>transfer</th></tr>${rows.join("")}</table>`
  );
}

function instanceTable(plan: Plan): string {
  const rows = plan.instances.map((instance) => {
    const billedSeconds = Math.max(60, instance.end - instance.start);
    return (
      `<tr><td>${escapeHtml(instance.id)}</td><td>${escapeHtml(instance.instanceType)}</td>` +
      `<td>${escapeHtml(instance.region ?? "home")}</td><td>${instance.market}</td>` +
      `<td>${escapeHtml(instance.availabilityZone ?? "any")}</td>` +
      `<td class="num">${formatDuration(instance.start)}</td><td class="num">${formatDuration(instance.end)}</td>` +
      `<td class="num">${formatUsd(instance.hourlyPriceUsd)}</td>` +
      `<td class="num">${formatUsd((instance.hourlyPriceUsd * billedSeconds) / 3600)}</td></tr>`
    );
  });
  return (
    `<table><tr><th>instance</th><th>type</th><th>region</th><th>market</th><th>zone</th><th>start</th><th>end</th>` +
    `<th>USD/h</th><th>cost</th></tr>${rows.join("")}</table>`
  );
}
