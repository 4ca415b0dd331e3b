/**
 * The planner benchmark of issue 3: for each workload, the four baselines and the planner
 * (in a child process per run), then the targets with PASS/MISS.
 *
 * Protocol:
 *  - "same deadline": the planner plans min-cost at the workload's own deadline; baselines
 *    plan as they always do and are reported with whether they met that deadline.
 *  - "equal budget": the planner plans min-time with a budget equal to current practice's
 *    expected cost; makespans are compared.
 *  - figures count only from plans that `validatePlan` accepts (baselines without the
 *    deadline or budget, which they do not promise).
 */
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import type { WorkloadBounds } from "../lambdas/core/planner/baselines/workload-bounds.ts";
import type { Plan } from "../lambdas/core/planner/plan.ts";
import type { Objective } from "../lambdas/core/spec/workload-schema.ts";
import { type BaselineResult, runBaselines, validBaselinePlan } from "./baseline-results.ts";
import {
  BENCH_WORKLOADS,
  loadBenchWorkload,
  ON_REQUEST_WORKLOADS,
  SATURN_WORKLOADS,
  type WorkloadSource,
} from "./bench-workloads.ts";
import type { PlannerCaseRequest, PlannerCaseResult } from "./planner-case.ts";
import { runPlannerCase } from "./run-planner-case.ts";
import {
  boundHoldsTarget,
  gapTarget,
  limitTarget,
  noDearerTarget,
  ratioTarget,
  savingTarget,
  speedupTarget,
  type TargetRow,
} from "./targets.ts";

export interface PlannerRun {
  readonly label:
    | "min-cost at deadline"
    | "min-time at current practice's budget"
    | "min-time at per-job cheapest's budget"
    | "pareto";
  readonly objective: string;
  readonly result: PlannerCaseResult;
}

export interface WorkloadReport {
  readonly name: string;
  readonly jobs: number;
  readonly classes: number;
  readonly deadlineHours: number | undefined;
  readonly baselines: readonly BaselineResult[];
  readonly bounds: WorkloadBounds;
  readonly runs: readonly PlannerRun[];
}

export interface PlannerBenchmarkReport {
  readonly workloads: readonly WorkloadReport[];
  readonly targets: readonly TargetRow[];
}

export interface PlannerBenchmarkOptions {
  readonly workloads?: readonly string[];
  /** Overrides every spec's solver time limit. */
  readonly timeLimitSeconds?: number;
  readonly onProgress?: (line: string) => void;
}

/** Peak memory target of issue 3. */
const MEMORY_LIMIT_MIB = 1536;

export async function runPlannerBenchmark(options: PlannerBenchmarkOptions = {}): Promise<PlannerBenchmarkReport> {
  const catalog = loadCatalog();
  const selected = BENCH_WORKLOADS.filter((source) =>
    options.workloads === undefined ? !ON_REQUEST_WORKLOADS.has(source.name) : options.workloads.includes(source.name),
  );
  const workloads: WorkloadReport[] = [];
  for (const source of selected) {
    const workload = loadBenchWorkload(source, catalog);
    options.onProgress?.(`${source.name}: ${workload.jobs.length} jobs, baselines`);
    const { baselines, bounds } = runBaselines(workload, catalog);
    const runs: PlannerRun[] = [];
    const limit = options.timeLimitSeconds ?? workload.planner.timeLimitSeconds;
    const timeout = limit * 3 + 120;
    const objective = workload.objective;
    options.onProgress?.(`${source.name}: planner, ${objective.kind}`);
    runs.push({
      label: "min-cost at deadline",
      objective: describeObjective(objective),
      result: await runPlannerCase(request(source, undefined, options.timeLimitSeconds), timeout),
    });
    const current = validBaselinePlan(baselines, "current-practice");
    if (source.kind === "file" && current !== undefined) {
      const budget: Objective = { kind: "min-time", budgetUsd: roundUpCents(current.totals.expectedCostUsd) };
      options.onProgress?.(`${source.name}: planner, min-time with a $${budget.budgetUsd} budget`);
      runs.push({
        label: "min-time at current practice's budget",
        objective: describeObjective(budget),
        result: await runPlannerCase(request(source, budget, options.timeLimitSeconds), timeout),
      });
    }
    const cheapest = validBaselinePlan(baselines, "per-job-cheapest");
    if (source.kind === "heterogeneous" && cheapest !== undefined) {
      const budget: Objective = { kind: "min-time", budgetUsd: roundUpCents(cheapest.totals.expectedCostUsd) };
      options.onProgress?.(`${source.name}: planner, min-time with a $${budget.budgetUsd} budget`);
      runs.push({
        label: "min-time at per-job cheapest's budget",
        objective: describeObjective(budget),
        result: await runPlannerCase(request(source, budget, options.timeLimitSeconds), timeout),
      });
    }
    if (source.kind === "heterogeneous" && objective.kind === "min-cost") {
      const pareto: Objective = { kind: "pareto", deadlineHours: objective.deadlineHours, points: 5 };
      options.onProgress?.(`${source.name}: planner, pareto`);
      runs.push({
        label: "pareto",
        objective: describeObjective(pareto),
        result: await runPlannerCase(request(source, pareto, options.timeLimitSeconds), timeout),
      });
    }
    workloads.push({
      name: source.name,
      jobs: workload.jobs.length,
      classes: new Set(workload.jobs.map((job) => job.sourceId)).size,
      deadlineHours: objective.kind === "min-time" ? undefined : objective.deadlineHours,
      baselines,
      bounds,
      runs,
    });
  }
  return { workloads, targets: workloads.flatMap(targetsOf) };
}

function request(
  source: WorkloadSource,
  objective: Objective | undefined,
  timeLimitSeconds: number | undefined,
): PlannerCaseRequest {
  return {
    source,
    ...(objective === undefined ? {} : { objective }),
    ...(timeLimitSeconds === undefined ? {} : { timeLimitSeconds }),
  };
}

function targetsOf(report: WorkloadReport): TargetRow[] {
  const rows: TargetRow[] = [];
  const minCost = validPlan(report.runs.find((run) => run.label === "min-cost at deadline")?.result);
  const minTime = validPlan(report.runs.find((run) => run.label === "min-time at current practice's budget")?.result);
  const current = validBaselinePlan(report.baselines, "current-practice");
  const cheapest = validBaselinePlan(report.baselines, "per-job-cheapest");
  if (SATURN_WORKLOADS.has(report.name)) {
    const bounds = report.bounds;
    const saturnUsd = minCost?.totals.expectedCostUsd;
    rows.push(
      savingTarget(report.name, "current practice", 0.4, saturnUsd, current?.totals.expectedCostUsd, bounds.costUsd),
      savingTarget(report.name, "per-job cheapest", 0.15, saturnUsd, cheapest?.totals.expectedCostUsd, bounds.costUsd),
      speedupTarget(
        report.name,
        1.5,
        minTime?.totals.makespanSeconds,
        current?.totals.makespanSeconds,
        bounds.makespanSeconds,
      ),
    );
  }
  const keepsDeadline = report.baselines.flatMap((baseline) =>
    baseline.ok && baseline.violations.length === 0 && baseline.meetsDeadline !== false
      ? [{ name: baseline.name, costUsd: baseline.plan.totals.expectedCostUsd }]
      : [],
  );
  const best = keepsDeadline.sort((a, b) => a.costUsd - b.costUsd)[0];
  rows.push(noDearerTarget(report.name, minCost?.totals.expectedCostUsd, best));
  rows.push(
    boundHoldsTarget(
      report.name,
      report.runs.flatMap((run) => {
        const plan = validPlan(run.result);
        if (plan === undefined || !run.result.ok) return [];
        return [plan, ...(run.result.frontier ?? [])].map((entry) => ({
          label: run.label,
          figure: entry.objective === "min-time" ? entry.totals.makespanSeconds : entry.totals.expectedCostUsd,
          bound: entry.lowerBound,
        }));
      }),
    ),
  );
  if (report.name.startsWith("heterogeneous-")) return [...rows, ...heterogeneousTargets(report, minCost, cheapest)];
  for (const run of report.runs) {
    rows.push(gapTarget(report.name, run.label, 0.03, slottedGap(validPlan(run.result))));
  }
  const scaleLimit = report.jobs >= 1000 ? 120 : report.jobs >= 100 ? 10 : undefined;
  const scaleRun = report.runs[0]?.result;
  if (scaleLimit !== undefined) {
    rows.push(
      limitTarget(
        report.name,
        `${report.jobs} jobs planned`,
        "s",
        scaleLimit,
        validPlan(scaleRun) ? scaleRun?.wallSeconds : undefined,
      ),
    );
    rows.push(limitTarget(report.name, "peak memory", "MiB", MEMORY_LIMIT_MIB, scaleRun?.peakRssMiB));
  }
  return rows;
}

/**
 * Issue 7's targets: at 300 and 1,000 jobs, min-cost <= 0.85x per-job cheapest and <= 1.25x
 * the plan's own model-free lower bound; at every size each run within its solve-time limit
 * (60, 120, 300 s) and 1.5 GB.
 */
function heterogeneousTargets(
  report: WorkloadReport,
  minCost: Omit<Plan, "considered"> | undefined,
  cheapest: Plan | undefined,
): TargetRow[] {
  const rows: TargetRow[] = [];
  if (report.jobs <= 1000) {
    const versusCheapest = ratioTarget(
      report.name,
      "min-cost <= 0.85x per-job cheapest",
      0.85,
      minCost?.totals.expectedCostUsd,
      cheapest?.totals.expectedCostUsd,
    );
    const bound = minCost?.lowerBound;
    const reference = cheapest?.totals.expectedCostUsd;
    rows.push(
      // No plan costs less than the model-free bound: that is the most the ratio could reach.
      bound !== undefined && bound > 0 && reference !== undefined && reference > 0
        ? { ...versusCheapest, bestPossible: `>= ${(bound / reference).toFixed(3)}x (the lower bound)` }
        : versusCheapest,
      ratioTarget(
        report.name,
        "min-cost <= 1.25x the lower bound",
        1.25,
        minCost?.totals.expectedCostUsd,
        minCost?.lowerBound,
      ),
    );
  }
  const limit = report.jobs >= 5000 ? 300 : report.jobs >= 1000 ? 120 : 60;
  for (const run of report.runs) {
    const plan = validPlan(run.result);
    rows.push(
      limitTarget(
        report.name,
        `${run.label}: ${report.jobs} jobs planned`,
        "s",
        limit,
        plan ? run.result.wallSeconds : undefined,
      ),
      limitTarget(report.name, `${run.label}: peak memory`, "MiB", MEMORY_LIMIT_MIB, run.result.peakRssMiB),
    );
  }
  return rows;
}

/** The solver's gap on its own slotted model: (slotted objective - its bound) / slotted objective. */
function slottedGap(plan: Omit<Plan, "considered"> | undefined): number | undefined {
  const d = plan?.discretisation;
  if (d === undefined) return plan?.gap;
  if (d.lowerBound === undefined) return plan?.gap;
  return d.modelObjective > 0 ? Math.max(0, (d.modelObjective - d.lowerBound) / d.modelObjective) : 0;
}

/** The planner's plan when it came back and passed the validator. */
export function validPlan(result: PlannerCaseResult | undefined): Omit<Plan, "considered"> | undefined {
  return result?.ok && result.violations.length === 0 ? result.plan : undefined;
}

function describeObjective(objective: Objective): string {
  if (objective.kind === "min-time") return `min-time, budget $${objective.budgetUsd}`;
  if (objective.kind === "pareto")
    return `pareto (${objective.points} points), deadline ${objective.deadlineHours ?? "none"} h`;
  return `${objective.kind}, deadline ${objective.deadlineHours ?? "none"} h`;
}

function roundUpCents(usd: number): number {
  return Math.ceil(usd * 100) / 100;
}
