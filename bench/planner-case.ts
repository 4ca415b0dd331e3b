/**
 * One planner run in a process of its own, so that its wall time and peak memory (the
 * process's maximum resident set, which includes Node, tsx and the HiGHS WebAssembly heap)
 * are its own. Reads a `PlannerCaseRequest` as JSON from argv[2], writes a
 * `PlannerCaseResult` as one JSON line on stdout. Every plan is checked with `validatePlan`
 * before its figures are reported; the parent counts only valid plans.
 */
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../lambdas/adapters/highs-solver.ts";
import { resolveQuotas } from "../lambdas/core/catalog/quotas.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import type { Plan } from "../lambdas/core/planner/plan.ts";
import type { SolveReport } from "../lambdas/core/planner/plan-from-candidates.ts";
import { planWorkloadWithReports } from "../lambdas/core/planner/plan-workload.ts";
import { validatePlan } from "../lambdas/core/planner/validate-plan.ts";
import type { Objective } from "../lambdas/core/spec/workload-schema.ts";
import { loadBenchWorkload, type WorkloadSource } from "./bench-workloads.ts";

export interface PlannerCaseRequest {
  readonly source: WorkloadSource;
  /** Replaces the workload's objective (same deadline, equal budget). */
  readonly objective?: Objective;
  readonly timeLimitSeconds?: number;
}

export type PlannerCaseResult =
  | {
      readonly ok: true;
      readonly plan: Omit<Plan, "considered">;
      readonly frontier: readonly Omit<Plan, "considered">[] | undefined;
      readonly violations: readonly string[];
      readonly warnings: readonly string[];
      /** Size and status of every model the planner solved, last one last. */
      readonly models: readonly SolveReport[];
      readonly wallSeconds: number;
      readonly peakRssMiB: number;
    }
  | { readonly ok: false; readonly error: string; readonly wallSeconds: number; readonly peakRssMiB: number };

async function runCase(request: PlannerCaseRequest): Promise<PlannerCaseResult> {
  const catalog = loadCatalog();
  const loaded = loadBenchWorkload(request.source, catalog);
  const workload = {
    ...loaded,
    objective: request.objective ?? loaded.objective,
    planner: { ...loaded.planner, timeLimitSeconds: request.timeLimitSeconds ?? loaded.planner.timeLimitSeconds },
  };
  const { quotas } = resolveQuotas(workload.quotas, undefined);
  const clock = (): number => performance.now() / 1000;
  const started = clock();
  try {
    const result = await planWorkloadWithReports({
      workload,
      catalog,
      quotas,
      profiles: new InMemoryProfileStore([]),
      solver: new HighsSolver(),
      clock,
    });
    const wallSeconds = clock() - started;
    const plans = [result.plan, ...(result.frontier ?? [])];
    const violations = plans.flatMap((plan) => validatePlan(plan, { workload, catalog, quotas }));
    return {
      ok: true,
      plan: withoutConsidered(result.plan),
      frontier: result.frontier?.map(withoutConsidered),
      violations,
      warnings: result.warnings,
      models: result.reports,
      wallSeconds,
      peakRssMiB: peakRssMiB(),
    };
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      wallSeconds: clock() - started,
      peakRssMiB: peakRssMiB(),
    };
  }
}

function withoutConsidered(plan: Plan): Omit<Plan, "considered"> {
  const { considered: _considered, ...rest } = plan;
  return rest;
}

/** maxRSS is reported in KiB (Node docs, process.resourceUsage). */
function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

const request = JSON.parse(process.argv[2] ?? "null") as PlannerCaseRequest | null;
if (request === null) {
  process.stderr.write("usage: tsx bench/planner-case.ts '<PlannerCaseRequest JSON>'\n");
  process.exitCode = 2;
} else {
  runCase(request).then((result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}
