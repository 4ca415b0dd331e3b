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
import { BENCH_WORKLOADS, loadBenchWorkload, SATURN_WORKLOADS, type WorkloadSource } from "./bench-workloads.ts";
import type { PlannerCaseRequest, PlannerCaseResult } from "./planner-case.ts";
import { runPlannerCase } from "./run-planner-case.ts";
import { gapTarget, limitTarget, noDearerTarget, savingTarget, speedupTarget, type TargetRow } from "./targets.ts";

export interface PlannerRun {
  readonly label: "min-cost at deadline" | "min-time at current practice's budget";
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
  const selected = BENCH_WORKLOADS.filter(
    (source) => options.workloads === undefined || options.workloads.includes(source.name),
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
  for (const run of report.runs) {
    rows.push(gapTarget(report.name, run.label, 0.03, validPlan(run.result)?.gap));
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

/** The planner's plan when it came back and passed the validator. */
export function validPlan(result: PlannerCaseResult | undefined): Omit<Plan, "considered"> | undefined {
  return result?.ok && result.violations.length === 0 ? result.plan : undefined;
}

function describeObjective(objective: Objective): string {
  if (objective.kind === "min-time") return `min-time, budget $${objective.budgetUsd}`;
  return `${objective.kind}, deadline ${objective.deadlineHours ?? "none"} h`;
}

function roundUpCents(usd: number): number {
  return Math.ceil(usd * 100) / 100;
}
