/**
 * The fixed cluster of Saturn's evaluation, rebuilt on the catalog: identical p4d.24xlarge
 * instances, on-demand, as many as the workload's on-demand quota admits (never more than
 * there are jobs), each job on GPUs of one instance (Saturn never spans nodes).
 */
import { hourlyPrice } from "../../catalog/select.ts";
import type { InstanceType } from "../../catalog/types.ts";
import { InfeasibleWorkloadError } from "../../errors.ts";
import type { Candidate } from "../../estimator/types.ts";
import type { Job } from "../../spec/workload.ts";
import type { Assignment, PlannedInstance } from "../plan.ts";
import {
  type BaselineContext,
  bootSeconds,
  findInstanceType,
  quotaInstanceLimit,
  REFERENCE_INSTANCE_TYPE,
} from "./baseline-context.ts";
import type { BaselineSchedule } from "./baseline-plan.ts";
import { bestTechniquePerShape, type FittingCandidate, fittingCandidates } from "./job-options.ts";
import type { PoolPlacement } from "./pool-schedule.ts";

export interface ReferencePool {
  readonly type: InstanceType;
  readonly hourlyPriceUsd: number;
  readonly instanceCount: number;
}

/** `instanceCount` overrides the quota-derived size (Saturn's 1- and 2-node clusters). */
export function referencePool(context: BaselineContext, baseline: string, instanceCount?: number): ReferencePool {
  const type = findInstanceType(context, REFERENCE_INSTANCE_TYPE);
  const price = type && hourlyPrice(type, context.workload.region, "on-demand");
  if (type === undefined || price === undefined) {
    throw new InfeasibleWorkloadError(
      `baseline:${baseline}:instance-type`,
      `The ${baseline} baseline runs on ${REFERENCE_INSTANCE_TYPE} on-demand, which the catalog does not offer in ${context.workload.region}; ` +
        "refresh the catalog or benchmark in a region that offers it.",
    );
  }
  const admitted = quotaInstanceLimit(context, type, "on-demand");
  const count = instanceCount ?? Math.min(admitted, context.workload.jobs.length);
  if (count < 1 || count > admitted) {
    throw new InfeasibleWorkloadError(
      `baseline:${baseline}:quota`,
      `The ${baseline} baseline needs ${Math.max(count, 1)} ${type.name} on-demand (${Math.max(count, 1) * type.vcpus} vCPUs), ` +
        `the ${type.quotaGroups["on-demand"]} on-demand quota admits ${admitted}; raise the quota in the spec's quotas.`,
    );
  }
  return { type, hourlyPriceUsd: price, instanceCount: count };
}

/** Every candidate of the job on one instance of the pool's type, fitting or not. */
export function singleInstanceCandidates(context: BaselineContext, job: Job, pool: ReferencePool): Candidate[] {
  return context
    .candidatesFor(job, [pool.type])
    .filter((candidate) => candidate.config.instanceType === pool.type.name && candidate.config.nodes === 1);
}

/** The fitting ones, best technique per GPU count, fewest GPUs first. */
export function singleInstanceOptions(candidates: readonly Candidate[]): FittingCandidate[] {
  return bestTechniquePerShape(fittingCandidates(candidates)).sort(
    (a, b) => a.config.gpusPerNode - b.config.gpusPerNode,
  );
}

export function requireOptions(
  job: Job,
  options: readonly FittingCandidate[],
  baseline: string,
  pool: ReferencePool,
): void {
  if (options.length > 0) return;
  throw new InfeasibleWorkloadError(
    `baseline:${baseline}:fit`,
    `The ${baseline} baseline cannot run job \`${job.id}\`: no technique fits it on up to ${pool.type.gpus} GPUs of one ${pool.type.name}; ` +
      "leave this job out of the baseline comparison or allow a technique that fits (fsdp-offload, pipeline).",
  );
}

/**
 * Instances and assignments of a pool schedule. `rentWholeMakespan`: every instance lives
 * from 0 to the makespan (a fixed cluster); otherwise each is released after its last job.
 */
export function poolSchedule(
  context: BaselineContext,
  pool: ReferencePool,
  placements: readonly PoolPlacement[],
  chosen: ReadonlyMap<string, FittingCandidate>,
  options: { readonly rentWholeMakespan: boolean; readonly idPrefix: string },
): Pick<BaselineSchedule, "instances" | "assignments"> {
  const makespan = Math.max(bootSeconds(context), ...placements.map((placement) => placement.end));
  const lastEnd = new Map<number, number>();
  for (const placement of placements) {
    lastEnd.set(placement.instanceIndex, Math.max(lastEnd.get(placement.instanceIndex) ?? 0, placement.end));
  }
  const instanceId = (index: number): string => `${options.idPrefix}-${pool.type.name}-${index + 1}`;
  const instances: PlannedInstance[] = [];
  for (let index = 0; index < pool.instanceCount; index++) {
    const end = options.rentWholeMakespan ? makespan : lastEnd.get(index);
    if (end === undefined) continue;
    instances.push({
      id: instanceId(index),
      instanceType: pool.type.name,
      market: "on-demand",
      availabilityZone: undefined,
      start: 0,
      end,
      hourlyPriceUsd: pool.hourlyPriceUsd,
    });
  }
  const assignments: Assignment[] = placements.map((placement) => {
    const candidate = chosen.get(placement.jobId);
    if (candidate === undefined) throw new RangeError(`expected a chosen configuration for job ${placement.jobId}`);
    return {
      jobId: placement.jobId,
      technique: candidate.config.technique,
      instanceIds: [instanceId(placement.instanceIndex)],
      gpusPerInstance: candidate.config.gpusPerNode,
      start: placement.start,
      end: placement.end,
      samplesPerSecond: candidate.estimate.samplesPerSecond,
      throughputSource: candidate.estimate.source,
    };
  });
  return { instances, assignments };
}
