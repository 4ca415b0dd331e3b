/**
 * The pieces every schedule -> plan conversion shares (the slotted decode and the
 * continuous-time list schedule): instance ids, the assignments of one bundle, the totals
 * recomputed from instance lifetimes, and the considered candidates with the chosen ones
 * marked. One place, so that both kinds of plan carry the same fields (region, transfer,
 * spot overhead) and the validator judges them alike.
 */
import type { Assignment, Plan, PlannedInstance } from "./plan.ts";
import type { PlanningProblem, PlanOption, Pool } from "./planning-problem.ts";
import { recomputeBudgetCostUsd, recomputeCostUsd } from "./validate-plan.ts";

/** `i007-p4d.24xlarge-spot`, or `i007-p4d.24xlarge-us-east-2-spot` outside the home region. */
export function instanceId(counter: number, pool: Pool, homeRegion: string): string {
  const where = pool.region === homeRegion ? "" : `${pool.region}-`;
  return `i${String(counter).padStart(3, "0")}-${pool.type.name}-${where}${pool.market}`;
}

/** The planned instance of `pool` alive from `start` (boot included) to `end`. */
export function plannedInstance(id: string, pool: Pool, start: number, end: number): PlannedInstance {
  return {
    id,
    instanceType: pool.type.name,
    market: pool.market,
    region: pool.region,
    availabilityZone: undefined,
    start,
    end,
    hourlyPriceUsd: pool.priceUsdPerHour,
    budgetHourlyPriceUsd: pool.budgetPriceUsdPerHour,
  };
}

/**
 * The assignments of one bundle: `jobs` jobs of the option's class, side by side on
 * `hostIds` (lane k on GPUs k*g .. k*g+g-1), from `start` to `end`. `nextJob` says which
 * job of each class comes next and is advanced.
 */
export function bundleAssignments(
  problem: PlanningProblem,
  option: PlanOption,
  jobs: number,
  hostIds: readonly string[],
  start: number,
  end: number,
  nextJob: Map<number, number>,
): Assignment[] {
  const jobClass = problem.classes[option.classIndex];
  const out: Assignment[] = [];
  for (let lane = 0; lane < jobs; lane++) {
    const index = nextJob.get(option.classIndex) ?? 0;
    nextJob.set(option.classIndex, index + 1);
    const job = jobClass?.jobs[index];
    if (job === undefined) continue;
    const gpus = option.gpusPerNode;
    out.push({
      jobId: job.id,
      technique: option.technique,
      instanceIds: hostIds,
      gpusPerInstance: gpus,
      gpuIndices: Array.from({ length: gpus }, (_, k) => lane * gpus + k),
      start,
      end,
      samplesPerSecond: option.samplesPerSecond / option.slowdown,
      throughputSource: option.source,
      ...(option.slowdown > 1 ? { expectedOverheadSeconds: option.runtimeSeconds * (1 - 1 / option.slowdown) } : {}),
      ...(option.transferUsd > 0 ? { transferUsd: option.transferUsd } : {}),
    });
  }
  return out;
}

/** Totals recomputed from lifetimes and assignments (what the validator checks, V7). */
export function planTotals(instances: readonly PlannedInstance[], assignments: readonly Assignment[]): Plan["totals"] {
  const transfer = assignments.reduce((sum, assignment) => sum + (assignment.transferUsd ?? 0), 0);
  return {
    expectedCostUsd: recomputeCostUsd(instances),
    makespanSeconds: assignments.reduce((latest, assignment) => Math.max(latest, assignment.end), 0),
    budgetCostUsd: recomputeBudgetCostUsd(instances),
    ...(transfer > 0 ? { transferCostUsd: transfer } : {}),
  };
}

/** Sorts in place the way every plan lists them: by start, then id. */
export function sortPlanParts(instances: PlannedInstance[], assignments: Assignment[]): void {
  instances.sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  assignments.sort((a, b) => a.start - b.start || a.jobId.localeCompare(b.jobId));
}

/** The considered candidates with the chosen configuration of every job marked. */
export function markChosen(
  considered: Plan["considered"],
  assignments: readonly Assignment[],
  instances: readonly PlannedInstance[],
): Plan["considered"] {
  const chosen = new Map(assignments.map((assignment) => [assignment.jobId, assignment]));
  const typeOf = new Map(instances.map((instance) => [instance.id, instance.instanceType]));
  return considered.map((entry) => {
    const assignment = chosen.get(entry.jobId);
    const type = assignment === undefined ? undefined : typeOf.get(assignment.instanceIds[0] ?? "");
    return {
      jobId: entry.jobId,
      candidates: entry.candidates.map((candidate) => {
        const isChosen =
          assignment !== undefined &&
          candidate.config.technique === assignment.technique &&
          candidate.config.instanceType === type &&
          candidate.config.nodes === assignment.instanceIds.length &&
          candidate.config.gpusPerNode === assignment.gpusPerInstance;
        return isChosen === candidate.chosen ? candidate : { ...candidate, chosen: isChosen };
      }),
    };
  });
}

/** What a plan is expected to spend: its instances plus inter-region transfer (what min-cost compares). */
export function expectedSpendUsd(plan: Plan): number {
  return plan.totals.expectedCostUsd + (plan.totals.transferCostUsd ?? 0);
}

/** The plan's worst-case spend (budget prices, else expected ones, plus transfer): what a budget limits. */
export function budgetSpendUsd(plan: Plan): number {
  return (plan.totals.budgetCostUsd ?? plan.totals.expectedCostUsd) + (plan.totals.transferCostUsd ?? 0);
}
