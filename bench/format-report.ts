/** Renders the planner benchmark as aligned text (terminal) and as Markdown (docs/benchmarks.md). */
import type { SolveReport } from "../lambdas/core/planner/plan-from-candidates.ts";
import type { BaselineResult } from "./baseline-results.ts";
import type { PlannerBenchmarkReport, PlannerRun, WorkloadReport } from "./planner-benchmark.ts";
import { hours, percent } from "./targets.ts";

type Table = { readonly header: readonly string[]; readonly rows: readonly (readonly string[])[] };

export function workloadTable(report: WorkloadReport): Table {
  const current = report.baselines.find((entry) => entry.name === "current-practice");
  const reference = current?.ok ? current.plan.totals : undefined;
  const rows = [
    ...report.runs.map((run) => plannerRow(run, reference)),
    ...report.baselines.map((baseline) => baselineRow(baseline, reference)),
  ];
  return {
    header: [
      "plan",
      "objective",
      "cost",
      "makespan",
      "cost / current",
      "makespan / current",
      "deadline met",
      "valid",
      "gap to bound",
      "solver gap (slotted)",
      "chosen from",
      "time",
      "peak RSS",
      "last model solved",
    ],
    rows,
  };
}

function plannerRow(
  run: PlannerRun,
  reference: { expectedCostUsd: number; makespanSeconds: number } | undefined,
): string[] {
  const result = run.result;
  if (!result.ok) {
    return [
      `saturn (${run.label})`,
      run.objective,
      "-",
      "-",
      "-",
      "-",
      "-",
      `error: ${result.error.slice(0, 160)}`,
      "-",
      "-",
      "-",
      seconds(result.wallSeconds),
      mib(result.peakRssMiB),
      "-",
    ];
  }
  const totals = result.plan.totals;
  const status = result.plan.discretisation?.solverStatus;
  const d = result.plan.discretisation;
  const slotted =
    d?.lowerBound === undefined || !(d.modelObjective > 0)
      ? undefined
      : Math.max(0, (d.modelObjective - d.lowerBound) / d.modelObjective);
  return [
    `saturn (${run.label})`,
    run.objective,
    usd(totals.expectedCostUsd),
    hours(totals.makespanSeconds),
    ratio(totals.expectedCostUsd, reference?.expectedCostUsd),
    ratio(totals.makespanSeconds, reference?.makespanSeconds),
    run.label === "min-cost at deadline" || run.label === "pareto" ? "yes (validated)" : "n/a (budget kept)",
    result.violations.length === 0 ? "yes" : `NO: ${result.violations.slice(0, 2).join("; ")}`,
    `${percent(result.plan.gap, 2)} (bound ${result.plan.objective === "min-time" ? hours(result.plan.lowerBound) : usd(result.plan.lowerBound)})`,
    `${slotted === undefined ? "-" : percent(slotted, 2)}${status === undefined ? "" : ` (${status})`}`,
    result.plan.chosenFrom?.source ?? "-",
    `${seconds(result.wallSeconds)} (solver ${seconds(result.plan.solveSeconds)})`,
    mib(result.peakRssMiB),
    describeModels(result.models),
  ];
}

function baselineRow(
  baseline: BaselineResult,
  reference: { expectedCostUsd: number; makespanSeconds: number } | undefined,
): string[] {
  if (!baseline.ok)
    return [
      baseline.name,
      "baseline",
      "-",
      "-",
      "-",
      "-",
      "-",
      `error: ${baseline.error.slice(0, 160)}`,
      "-",
      "-",
      "-",
      seconds(baseline.seconds),
      "-",
      "-",
    ];
  const totals = baseline.plan.totals;
  return [
    baseline.name,
    "baseline",
    usd(totals.expectedCostUsd),
    hours(totals.makespanSeconds),
    ratio(totals.expectedCostUsd, reference?.expectedCostUsd),
    ratio(totals.makespanSeconds, reference?.makespanSeconds),
    baseline.meetsDeadline === undefined ? "n/a" : baseline.meetsDeadline ? "yes" : "no",
    baseline.violations.length === 0 ? "yes" : `NO: ${baseline.violations.slice(0, 2).join("; ")}`,
    "-",
    "-",
    "-",
    seconds(baseline.seconds),
    "(in process)",
    "-",
  ];
}

export function targetTable(report: PlannerBenchmarkReport): Table {
  return {
    header: ["workload", "target", "measured", "result", "miss by", "best any plan can do"],
    rows: report.targets.map((row) => [
      row.workload,
      row.target,
      row.measured,
      row.pass ? "PASS" : "MISS",
      row.shortfall ?? "",
      row.bestPossible ?? "",
    ]),
  };
}

export function renderText(table: Table): string {
  const widths = table.header.map((title, column) =>
    Math.max(title.length, ...table.rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(table.header), line(widths.map((width) => "-".repeat(width))), ...table.rows.map(line)].join("\n");
}

export function renderMarkdown(table: Table): string {
  const escapeCell = (cell: string): string => cell.replaceAll("|", "\\|");
  return [
    `| ${table.header.map(escapeCell).join(" | ")} |`,
    `|${table.header.map(() => "---").join("|")}|`,
    ...table.rows.map((row) => `| ${row.map(escapeCell).join(" | ")} |`),
  ].join("\n");
}

export function workloadHeading(report: WorkloadReport): string {
  return (
    `${report.name}: ${report.jobs} jobs in ${report.classes} classes` +
    (report.deadlineHours === undefined ? "" : `, deadline ${report.deadlineHours} h`) +
    `; any plan costs >= ${usd(report.bounds.costUsd)} and takes >= ${hours(report.bounds.makespanSeconds)}`
  );
}

/** The last model's size and status, and how many models were solved in all (pareto, retries). */
function describeModels(models: readonly SolveReport[]): string {
  const last = models[models.length - 1];
  if (last === undefined) return "no MILP (greedy plan)";
  return (
    `${last.integerColumns}/${last.columns} int/cols, ${last.rows} rows, ${last.slots} slots of ${(last.slotSeconds / 60).toFixed(0)} min, ` +
    `${last.status}${models.length > 1 ? ` (${models.length} models)` : ""}`
  );
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

function ratio(value: number, reference: number | undefined): string {
  return reference === undefined || reference === 0 ? "-" : `${(value / reference).toFixed(2)}x`;
}

function seconds(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} s` : "-";
}

function mib(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} MiB` : "-";
}
