/**
 * Where a planner run's memory goes (docs/plan.md, "Memory at 5,000 jobs"): plans one
 * heterogeneous workload in this process and prints, at every progress line of the planner
 * and after every LP or MILP it solves, the seconds since start, `process.memoryUsage()`
 * (MiB) and the peak RSS so far, with the LP's text size. Not a benchmark: no targets.
 *
 *   taskset -c 0 node --trace-gc --import tsx bench/planner-memory-trace.ts [min-cost|min-time|pareto] [300|1000|5000] [limit s]
 *
 * `--trace-gc` adds V8's own lines (old generation before -> after each full collection).
 * With GC_EACH_LINE=1 and `--expose-gc`, a full collection runs before each line, so
 * `heap` is what is live (this changes the peak; use it to find what is held, not the peak).
 * min-time uses per-job cheapest's cost as its budget, as the benchmark does.
 */
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../lambdas/adapters/highs-solver.ts";
import { resolveQuotas } from "../lambdas/core/catalog/quotas.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import type { MilpModel, SolveOptions, SolverPort } from "../lambdas/core/planner/api.ts";
import { planWorkloadWithReports } from "../lambdas/core/planner/plan-workload.ts";
import type { Objective } from "../lambdas/core/spec/workload-schema.ts";
import { runBaselines, validBaselinePlan } from "./baseline-results.ts";
import { HETEROGENEOUS_SEED, loadBenchWorkload } from "./bench-workloads.ts";
import type { HeterogeneousSize } from "./workloads/heterogeneous.ts";

const [kindArg = "pareto", sizeArg = "5000", limitArg = "0"] = process.argv.slice(2);
const size = Number(sizeArg) as HeterogeneousSize;
if (![300, 1000, 5000].includes(size) || !["min-cost", "min-time", "pareto"].includes(kindArg)) {
  process.stderr.write(`expected [min-cost|min-time|pareto] [300|1000|5000] [limit s], got ${kindArg} ${sizeArg}\n`);
  process.exit(2);
}
const catalog = loadCatalog();
const loaded = loadBenchWorkload(
  { kind: "heterogeneous", name: `heterogeneous-${size}`, size, seed: HETEROGENEOUS_SEED },
  catalog,
);
const deadlineHours = loaded.objective.kind === "min-cost" ? loaded.objective.deadlineHours : undefined;
const objective = (): Objective => {
  if (kindArg === "pareto")
    return { kind: "pareto", points: 5, ...(deadlineHours === undefined ? {} : { deadlineHours }) };
  if (kindArg === "min-time") {
    const cheapest = validBaselinePlan(runBaselines(loaded, catalog).baselines, "per-job-cheapest");
    if (cheapest === undefined) throw new Error("per-job cheapest has no valid plan on this workload");
    return { kind: "min-time", budgetUsd: Math.ceil(cheapest.totals.expectedCostUsd * 100) / 100 };
  }
  return loaded.objective;
};
const limit = Number(limitArg);
const workload = {
  ...loaded,
  objective: objective(),
  planner: { ...loaded.planner, timeLimitSeconds: limit > 0 ? limit : loaded.planner.timeLimitSeconds },
};
const { quotas } = resolveQuotas(workload.quotas, undefined);

const started = performance.now();
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const collect = process.env.GC_EACH_LINE === "1" ? (globalThis as { gc?: () => void }).gc : undefined;
const log = (line: string): void => {
  collect?.();
  const m = process.memoryUsage();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const peak = (process.resourceUsage().maxRSS / 1024).toFixed(0);
  process.stdout.write(
    `${seconds} s  rss ${mib(m.rss)}  heap ${mib(m.heapUsed)}  external ${mib(m.external)}  peak rss ${peak} MiB | ${line}\n`,
  );
};

/** The HiGHS solver, with a line per solve. */
class TracedSolver implements SolverPort {
  readonly #inner = new HighsSolver();
  async solve(model: MilpModel, options: SolveOptions) {
    const solution = await this.#inner.solve(model, options);
    log(
      `solved ${(model.lp.length / 2 ** 20).toFixed(1)} MiB of LP text, ${model.columns.length} columns: ${solution.status} in ${solution.seconds.toFixed(2)} s`,
    );
    return solution;
  }
}

log(`${workload.jobs.length} jobs, ${workload.objective.kind}, limit ${workload.planner.timeLimitSeconds} s`);
const result = await planWorkloadWithReports({
  workload,
  catalog,
  quotas,
  profiles: new InMemoryProfileStore([]),
  solver: new TracedSolver(),
  clock: () => performance.now() / 1000,
  onProgress: log,
});
const points = (result.frontier ?? [result.plan])
  .map((plan) => `$${plan.totals.expectedCostUsd.toFixed(2)} / ${(plan.totals.makespanSeconds / 3600).toFixed(2)} h`)
  .join(", ");
log(`done: ${points}`);
