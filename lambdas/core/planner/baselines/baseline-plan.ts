/**
 * Turns a baseline's schedule into a full `Plan`: totals recomputed from instance lifetimes
 * and prices (per-second billing, 60 s minimum), an honest lower bound over the candidates
 * the baseline considered, and the considered list with the choice marked.
 */
import { budgetHourlyPrice } from "../../catalog/select.ts";
import { billedCostUsd } from "../../cloud/billing.ts";
import type { Candidate, Configuration } from "../../estimator/types.ts";
import type { Market } from "../../spec/workload-schema.ts";
import type { Assignment, ConsideredCandidate, Plan, PlannedInstance } from "../plan.ts";
import { type BaselineContext, lowestExpectedPrice } from "./baseline-context.ts";

export interface BaselineSchedule {
  readonly instances: readonly PlannedInstance[];
  readonly assignments: readonly Assignment[];
  /** Per job: the candidates the baseline chose among and the one it chose. */
  readonly choices: readonly JobChoice[];
}

export interface JobChoice {
  readonly jobId: string;
  readonly candidates: readonly Candidate[];
  readonly chosen: Configuration;
  readonly market: Market;
}

export function baselinePlan(
  context: BaselineContext,
  schedule: BaselineSchedule,
  startedAt: number | undefined,
): Plan {
  // Baselines price at the expected price, as the planner does; the worst-case price is
  // added from the catalog so that budgets read the same figure for every plan.
  const types = new Map(context.catalog.instanceTypes.map((type) => [type.name, type]));
  const instances = schedule.instances.map((instance): PlannedInstance => {
    const type = types.get(instance.instanceType);
    const region = instance.region ?? context.workload.region;
    const budget = type === undefined ? undefined : budgetHourlyPrice(type, region, instance.market);
    return { ...instance, budgetHourlyPriceUsd: budget ?? instance.hourlyPriceUsd };
  });
  const expectedCostUsd = instances.reduce(
    (sum, instance) => sum + billedCostUsd(instance.start, instance.end, instance.hourlyPriceUsd),
    0,
  );
  const budgetCostUsd = instances.reduce(
    (sum, instance) =>
      sum + billedCostUsd(instance.start, instance.end, instance.budgetHourlyPriceUsd ?? instance.hourlyPriceUsd),
    0,
  );
  // Jobs a baseline placed outside the home region move their data and checkpoints (data-transfer.ts).
  const transferCostUsd = schedule.assignments.reduce((sum, assignment) => sum + (assignment.transferUsd ?? 0), 0);
  // The makespan is the last job's end, as the validator reads it (instances end no later).
  const makespanSeconds = schedule.assignments.reduce((latest, assignment) => Math.max(latest, assignment.end), 0);
  const pricing = candidatePricing(context);
  const objective = context.workload.objective.kind;
  const achieved = objective === "min-time" ? makespanSeconds : expectedCostUsd;
  const lean = context.lean === true;
  const lowerBound = lean
    ? 0
    : objective === "min-time"
      ? makespanBound(context, schedule.choices)
      : costBound(pricing, schedule.choices);
  const finishedAt = context.clock?.();
  return {
    schemaVersion: 1,
    workload: context.workload.name,
    objective,
    instances,
    assignments: schedule.assignments,
    totals: { expectedCostUsd, makespanSeconds, budgetCostUsd, ...(transferCostUsd > 0 ? { transferCostUsd } : {}) },
    lowerBound,
    gap: achieved > 0 ? Math.max(0, (achieved - lowerBound) / achieved) : 0,
    solveSeconds: startedAt !== undefined && finishedAt !== undefined ? Math.max(0, finishedAt - startedAt) : 0,
    considered: lean
      ? []
      : schedule.choices.map((choice) => ({
          jobId: choice.jobId,
          candidates: choice.candidates.map((candidate) => considered(pricing, candidate, choice)),
        })),
  };
}

function considered(pricing: CandidatePricing, candidate: Candidate, choice: JobChoice): ConsideredCandidate {
  const fits = candidate.estimate.fits;
  return {
    config: candidate.config,
    fits,
    reason: candidate.estimate.fits ? undefined : candidate.estimate.reason,
    samplesPerSecond: candidate.estimate.fits ? candidate.estimate.samplesPerSecond : undefined,
    runtimeSeconds: candidate.runtimeSeconds,
    costUsd: fits ? pricing(candidate) : {},
    chosen: sameConfiguration(candidate.config, choice.chosen),
  };
}

export function sameConfiguration(a: Configuration, b: Configuration): boolean {
  return (
    a.technique === b.technique &&
    a.instanceType === b.instanceType &&
    a.nodes === b.nodes &&
    a.gpusPerNode === b.gpusPerNode
  );
}

/**
 * Expected USD of the GPUs a candidate occupies for its expected runtime, per market its job
 * may use: the share of the instance price (in the cheapest of the workload's regions), as
 * the planner's candidates are priced. The spot entry is left out when the job cannot
 * checkpoint.
 */
export type CandidatePricing = (candidate: Candidate) => Partial<Record<Market, number>>;

export function candidatePricing(context: BaselineContext): CandidatePricing {
  const types = new Map(context.catalog.instanceTypes.map((type) => [type.name, type]));
  const jobs = new Map(context.workload.jobs.map((job) => [job.id, job]));
  return (candidate) => {
    const type = types.get(candidate.config.instanceType);
    const costs: Partial<Record<Market, number>> = {};
    if (type === undefined || candidate.runtimeSeconds === undefined) return costs;
    const job = jobs.get(candidate.jobId);
    for (const market of context.workload.markets) {
      if (market === "spot" && job !== undefined && !job.checkpointable) continue;
      const price = lowestExpectedPrice(context, type, market);
      if (price === undefined) continue;
      const gpus = candidate.config.nodes * candidate.config.gpusPerNode;
      costs[market] = ((price * gpus) / type.gpus) * (context.expectedRuntimeSeconds(candidate, market) / 3600);
    }
    return costs;
  };
}

/**
 * No plan over these candidates costs less than every job on its cheapest GPU share for its
 * expected runtime (boot, idle GPUs and the billing minimum only add to it).
 */
function costBound(pricing: CandidatePricing, choices: readonly JobChoice[]): number {
  return choices.reduce((sum, choice) => {
    const cheapest = Math.min(
      ...choice.candidates
        .filter((candidate) => candidate.estimate.fits)
        .flatMap((candidate) => Object.values(pricing(candidate))),
    );
    return sum + (Number.isFinite(cheapest) ? cheapest : 0);
  }, 0);
}

/** No plan finishes before its slowest job's fastest candidate, booted first. */
function makespanBound(context: BaselineContext, choices: readonly JobChoice[]): number {
  const boot = context.workload.planner.bootMinutes * 60;
  return Math.max(
    0,
    ...choices.map((choice) => {
      const fastest = Math.min(
        ...choice.candidates
          .filter((candidate) => candidate.estimate.fits && candidate.runtimeSeconds !== undefined)
          .map((candidate) =>
            Math.min(...context.workload.markets.map((market) => context.expectedRuntimeSeconds(candidate, market))),
          ),
      );
      return Number.isFinite(fastest) ? boot + fastest : 0;
    }),
  );
}
