/**
 * Baseline "per-job cheapest": how SkyPilot chooses (`sky/optimizer.py` minimises each
 * task's hourly price x estimated runtime, one task at a time, over every enabled region,
 * adding the egress cost of moving the task's inputs there). Each job, on its own:
 *
 *   1. keeps its default technique: the first technique the job lists that fits anywhere
 *      (a SkyPilot user ships one training script, with one parallelism);
 *   2. takes, among that technique's fitting configurations on the offered instance types
 *      and the markets it may use (spot only where a spot price exists and the job can
 *      checkpoint; a configuration only where the quota can ever hold it) in every region the
 *      spec names, the one with the lowest bill: nodes x the region's hourly price x (boot +
 *      expected runtime) for whole instances, plus the job's inter-region transfer when the
 *      region is not the home one (the planner's figure, data-transfer.ts).
 *      Configurations that meet the job's deadline on their own are preferred; when none
 *      does, the cheapest overall is taken and the plan will miss the deadline;
 *   3. gets its own instances, launched as soon as the vCPU quota of its group and market
 *      admits them (jobs in spec order; quotas per region), released when it ends. No
 *      instance is shared.
 */
import { expectedHourlyPrice, offeredInstanceTypes } from "../../catalog/select.ts";
import type { InstanceType } from "../../catalog/types.ts";
import { billedCostUsd } from "../../cloud/billing.ts";
import { InfeasibleWorkloadError } from "../../errors.ts";
import type { Job } from "../../spec/workload.ts";
import type { Market, QuotaGroup } from "../../spec/workload-schema.ts";
import { jobTransfer } from "../data-transfer.ts";
import type { Assignment, Plan, PlannedInstance } from "../plan.ts";
import { type BaselineContext, bootSeconds, jobDeadlineSeconds, quotasIn } from "./baseline-context.ts";
import { baselinePlan, type JobChoice } from "./baseline-plan.ts";
import { allowedMarkets, type FittingCandidate, fittingCandidates } from "./job-options.ts";
import { UsageProfile } from "./usage-profile.ts";

export const PER_JOB_CHEAPEST = "per-job-cheapest";

interface Offer {
  readonly candidate: FittingCandidate;
  readonly type: InstanceType;
  readonly market: Market;
  readonly region: string;
  readonly hourlyPriceUsd: number;
  readonly seconds: number;
  /** Inter-region transfer of the job's data and checkpoints; 0 in the home region. */
  readonly transferUsd: number;
  /** Instances for boot + expected runtime, plus the transfer. */
  readonly billUsd: number;
}

export function perJobCheapestPlan(context: BaselineContext): Plan {
  const startedAt = context.clock?.();
  const types = offeredInstanceTypes(context.catalog, context.workload);
  const boot = bootSeconds(context);
  const quotaUse = new Map<string, UsageProfile>();
  const instances: PlannedInstance[] = [];
  const assignments: Assignment[] = [];
  const choices: JobChoice[] = [];

  for (const job of context.workload.jobs) {
    const candidates = context.candidatesFor(job, types);
    const offer = cheapestOffer(context, job, candidates, types);
    const group = offer.type.quotaGroups[offer.market];
    const key = `${offer.region}/${group}/${offer.market}`;
    let profile = quotaUse.get(key);
    if (profile === undefined) {
      profile = new UsageProfile(quotasIn(context, offer.region)[group as QuotaGroup][offer.market]);
      quotaUse.set(key, profile);
    }
    const vcpus = offer.candidate.config.nodes * offer.type.vcpus;
    const launch = profile.earliestFit(0, boot + offer.seconds, vcpus) as number; // cheapestOffer kept offers the quota can hold
    profile.add(launch, launch + boot + offer.seconds, vcpus);

    const ids = Array.from(
      { length: offer.candidate.config.nodes },
      (_, node) => `${PER_JOB_CHEAPEST}-${job.id}-${node + 1}`,
    );
    for (const id of ids) {
      instances.push({
        id,
        instanceType: offer.type.name,
        market: offer.market,
        ...(offer.region === context.workload.region ? {} : { region: offer.region }),
        availabilityZone: undefined,
        start: launch,
        end: launch + boot + offer.seconds,
        hourlyPriceUsd: offer.hourlyPriceUsd,
      });
    }
    assignments.push({
      jobId: job.id,
      technique: offer.candidate.config.technique,
      instanceIds: ids,
      gpusPerInstance: offer.candidate.config.gpusPerNode,
      start: launch + boot,
      end: launch + boot + offer.seconds,
      samplesPerSecond: offer.candidate.estimate.samplesPerSecond,
      throughputSource: offer.candidate.estimate.source,
      ...(offer.market === "spot" ? { expectedOverheadSeconds: offer.seconds - offer.candidate.runtimeSeconds } : {}),
      ...(offer.transferUsd > 0 ? { transferUsd: offer.transferUsd } : {}),
    });
    choices.push({ jobId: job.id, candidates, chosen: offer.candidate.config, market: offer.market });
  }
  return baselinePlan(context, { instances, assignments, choices }, startedAt);
}

/**
 * What the per-job cheapest plan's instances will cost (its `expectedCostUsd`; transfer
 * comes on top), without scheduling it: each job's bill is fixed by its offer (its own
 * instances for boot + runtime); the schedule only decides when.
 */
export function perJobCheapestCostUsd(context: BaselineContext): number {
  const types = offeredInstanceTypes(context.catalog, context.workload);
  let total = 0;
  for (const job of context.workload.jobs) {
    const offer = cheapestOffer(context, job, context.candidatesFor(job, types), types);
    total +=
      offer.candidate.config.nodes * billedCostUsd(0, bootSeconds(context) + offer.seconds, offer.hourlyPriceUsd);
  }
  return total;
}

function cheapestOffer(
  context: BaselineContext,
  job: Job,
  candidates: ReturnType<BaselineContext["candidatesFor"]>,
  types: readonly InstanceType[],
): Offer {
  const fitting = fittingCandidates(candidates);
  const technique = job.techniques.find((entry) => fitting.some((candidate) => candidate.config.technique === entry));
  const boot = bootSeconds(context);
  const offers: Offer[] = [];
  const typesByName = new Map(types.map((type) => [type.name, type]));
  for (const candidate of fitting) {
    if (candidate.config.technique !== technique) continue;
    const type = typesByName.get(candidate.config.instanceType);
    if (type === undefined) continue;
    for (const region of context.workload.regions) {
      for (const market of allowedMarkets(job, context.workload.markets)) {
        const price = expectedHourlyPrice(type, region, market);
        const group = type.quotaGroups[market];
        if (price === undefined || candidate.config.nodes * type.vcpus > quotasIn(context, region)[group][market]) {
          continue;
        }
        const seconds = context.expectedRuntimeSeconds(candidate, market);
        const transferUsd = jobTransfer(
          job,
          seconds,
          context.workload.spot.checkpointIntervalMinutes,
          context.workload.region,
          region,
        ).usd;
        offers.push({
          candidate,
          type,
          market,
          region,
          hourlyPriceUsd: price,
          seconds,
          transferUsd,
          billUsd: (candidate.config.nodes * price * (boot + seconds)) / 3600 + transferUsd,
        });
      }
    }
  }
  if (offers.length === 0) {
    throw new InfeasibleWorkloadError(
      `baseline:${PER_JOB_CHEAPEST}:fit`,
      `The ${PER_JOB_CHEAPEST} baseline finds no configuration for job \`${job.id}\`` +
        (technique === undefined
          ? ": none of its techniques fits on any offered instance type; allow larger instance types or more techniques."
          : ` with its default technique ${technique} that a quota and a price admit; raise the quotas or allow more markets.`),
    );
  }
  const deadline = jobDeadlineSeconds(context, job);
  const inTime = offers.filter((offer) => deadline === undefined || boot + offer.seconds <= deadline);
  return (inTime.length > 0 ? inTime : offers).reduce((best, offer) =>
    offer.billUsd < best.billUsd - 1e-9 ||
    (Math.abs(offer.billUsd - best.billUsd) <= 1e-9 && offer.seconds < best.seconds)
      ? offer
      : best,
  );
}
