/**
 * Where the heterogeneous sweeps' gap to the bound lies (issue 7; docs/plan.md, "Where the
 * cost goes at scale"). For each size: the GPU-share sum, the quota-LP bound for any plan,
 * the bound for plans that keep the planner's spot rule, the cheapest-first list schedule,
 * and the LP-guided plan at every capacity share, with each quota cell's use by that plan
 * against what the cell holds before its spot runs' latest end.
 *
 *   taskset -c 0 npx tsx bench/bound-study.ts [300 1000 5000]
 */
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../lambdas/adapters/highs-solver.ts";
import { resolveQuotas } from "../lambdas/core/catalog/quotas.ts";
import { offeredInstanceTypes } from "../lambdas/core/catalog/select.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import { costLowerBound, gpuShareCostBound } from "../lambdas/core/planner/bounds.ts";
import { listScheduleByDeadline } from "../lambdas/core/planner/list-schedule.ts";
import { lpGuidedPlan } from "../lambdas/core/planner/lp-guided-schedule.ts";
import type { Plan } from "../lambdas/core/planner/plan.ts";
import { candidatesByJob } from "../lambdas/core/planner/plan-workload.ts";
import { buildPlanningProblem, type PlanningProblem } from "../lambdas/core/planner/planning-problem.ts";
import { spotLatestEndSeconds } from "../lambdas/core/planner/spot-overhead.ts";
import { validatePlan } from "../lambdas/core/planner/validate-plan.ts";
import { HETEROGENEOUS_SEED, loadBenchWorkload } from "./bench-workloads.ts";
import type { HeterogeneousSize } from "./workloads/heterogeneous.ts";

const usd = (value: number | undefined) => (value === undefined ? "-" : `$${value.toFixed(2)}`);

async function study(size: HeterogeneousSize): Promise<void> {
  const catalog = loadCatalog();
  const workload = loadBenchWorkload(
    { kind: "heterogeneous", name: `heterogeneous-${size}`, size, seed: HETEROGENEOUS_SEED },
    catalog,
  );
  if (workload.objective.kind !== "min-cost") throw new Error("expected a min-cost workload");
  const deadline = workload.objective.deadlineHours * 3600;
  const { quotas } = resolveQuotas(workload.quotas, undefined);
  const instanceTypes = offeredInstanceTypes(catalog, workload);
  const context = {
    catalog,
    region: workload.region,
    markets: workload.markets,
    instanceTypes,
    profiles: new InMemoryProfileStore([]),
  };
  const candidates = candidatesByJob(workload, context);
  const problem = buildPlanningProblem({ workload, quotas, instanceTypes, candidates });
  const solver = new HighsSolver();
  const share = gpuShareCostBound(problem, deadline);
  const any = await costLowerBound(problem, solver, deadline, 60, "any");
  const ruled = await costLowerBound(problem, solver, deadline, 60, "spot-rule");
  const isValid = (plan: Plan) =>
    validatePlan(plan, { workload, catalog, quotas, bootSeconds: problem.bootSeconds }).length === 0;
  const listed = listScheduleByDeadline(problem, { deadlineSeconds: deadline, considered: [] });
  console.log(`heterogeneous-${size}: ${problem.classes.length} classes, ${problem.options.length} options`);
  console.log(`  GPU-share sum (no quotas)          ${usd(share)}`);
  console.log(`  quota-LP bound, any plan            ${usd(any.usd)} (${any.method})`);
  console.log(
    `  quota-LP bound, spot rule kept      ${usd(ruled.usd)} (${ruled.method}), ${(ruled.usd / any.usd).toFixed(4)}x`,
  );
  console.log(`  cheapest-first list schedule        ${usd(listed?.totals.expectedCostUsd)}`);
  const result = await lpGuidedPlan({
    problem,
    solver,
    deadlineSeconds: deadline,
    considered: [],
    timeLimitSeconds: 120,
    isValid,
    onShare: (capacity, lpUsd, plan) =>
      console.log(
        `  LP-guided at capacity share ${capacity.toFixed(3)}: LP ${usd(lpUsd)}, packed ${usd(plan?.totals.expectedCostUsd)}` +
          (plan === undefined ? "" : ` (${(plan.totals.expectedCostUsd / ruled.usd).toFixed(4)}x the spot-rule bound)`),
      ),
  });
  const best = result.plan;
  console.log(
    `  LP-guided plan: ${usd(best?.totals.expectedCostUsd)} at share ${result.capacityShare}, ` +
      `${(result.seconds).toFixed(2)} s of LPs; ${best === undefined ? "" : `${(best.totals.expectedCostUsd / any.usd).toFixed(4)}x the any-plan bound`}`,
  );
  if (best !== undefined) for (const line of cellUse(problem, best, deadline)) console.log(`    ${line}`);
}

/** Per quota cell: vCPU-hours the plan's instances hold against quota x (latest end of a run in the cell). */
function cellUse(problem: PlanningProblem, plan: Plan, deadline: number): string[] {
  const pools = new Map(problem.pools.map((pool) => [`${pool.type.name}|${pool.market}`, pool]));
  const use = new Map<string, number>();
  for (const instance of plan.instances) {
    const pool = pools.get(`${instance.instanceType}|${instance.market}`);
    if (pool === undefined) continue;
    use.set(
      pool.quotaCell,
      (use.get(pool.quotaCell) ?? 0) + (pool.type.vcpus * (instance.end - instance.start)) / 3600,
    );
  }
  return [...use].map(([cell, vcpuHours]) => {
    const pool = problem.pools.find((entry) => entry.quotaCell === cell);
    const end =
      pool?.market === "spot" ? spotLatestEndSeconds(deadline, problem.bootSeconds, problem.workload.spot) : deadline;
    const capacity = ((pool?.quotaVcpus ?? 0) * end) / 3600;
    return `${cell}: ${vcpuHours.toFixed(0)} of ${capacity.toFixed(0)} vCPU-h (${((100 * vcpuHours) / capacity).toFixed(1)}%)`;
  });
}

const sizes = process.argv.slice(2).map(Number);
for (const size of sizes.length > 0 ? sizes : [300, 1000]) await study(size as HeterogeneousSize);
