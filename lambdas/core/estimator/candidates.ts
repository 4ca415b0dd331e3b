/**
 * Every way to run a job on the allowed instance types: technique x type x nodes x GPUs
 * per node, each with its throughput (measured when a profile exists, else estimated),
 * runtime and cost per market. Non-fitting configurations stay in the list with the
 * reason, so `saturn estimate` can say why a type is out.
 *
 * Shapes: GPUs per node 1, 2, 4, 8 up to the type's count (and the full count); multi-node
 * (2, 4, 8 nodes) only with whole nodes, since a job spread over partly used instances
 * pays for network hops without using the fast intra-node links it leaves idle.
 */

import { hourlyPrice } from "../catalog/select.ts";
import type { Catalog, InstanceType } from "../catalog/types.ts";
import type { Job } from "../spec/workload.ts";
import type { Market } from "../spec/workload-schema.ts";
import { estimateThroughput } from "./estimate.ts";
import { jobSignature } from "./job-signature.ts";
import { isMeasurement } from "./profiles.ts";
import type { Candidate, Configuration, ProfileStore, ThroughputEstimate } from "./types.ts";

export { jobSignature } from "./job-signature.ts";

export interface CandidateContext {
  readonly catalog: Catalog;
  readonly region: string;
  readonly markets: readonly Market[];
  readonly instanceTypes: readonly InstanceType[];
  readonly profiles: ProfileStore;
}

export const NODE_COUNTS = [1, 2, 4, 8] as const;
export const GPUS_PER_NODE = [1, 2, 4, 8] as const;

export function enumerateCandidates(job: Job, context: CandidateContext): Candidate[] {
  const signature = jobSignature(job);
  const candidates: Candidate[] = [];
  for (const { config, estimate, instance } of estimatedConfigurations(job, signature, context)) {
    candidates.push(priced(job, config, withProfile(estimate, signature, config, context.profiles), instance, context));
  }
  return candidates;
}

interface EstimatedConfiguration {
  readonly config: Configuration;
  readonly estimate: ThroughputEstimate;
  readonly instance: InstanceType;
}

/**
 * Estimates depend only on the catalog, the job signature, the techniques and the types,
 * so sweep clones share one list. Profiles and prices are applied per call: a profile
 * store may learn new records between calls.
 */
const estimatedByCatalog = new WeakMap<Catalog, Map<string, readonly EstimatedConfiguration[]>>();

function estimatedConfigurations(
  job: Job,
  signature: string,
  context: CandidateContext,
): readonly EstimatedConfiguration[] {
  let byKey = estimatedByCatalog.get(context.catalog);
  if (byKey === undefined) {
    byKey = new Map();
    estimatedByCatalog.set(context.catalog, byKey);
  }
  const key = `${signature}|${job.techniques.join(",")}|${context.instanceTypes.map((type) => type.name).join(",")}`;
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const list: EstimatedConfiguration[] = [];
  for (const technique of job.techniques) {
    for (const instance of context.instanceTypes) {
      for (const shape of shapesOf(instance)) {
        const config: Configuration = { technique, instanceType: instance.name, ...shape };
        list.push({ config, estimate: estimateThroughput(job, config, context.catalog), instance });
      }
    }
  }
  byKey.set(key, list);
  return list;
}

/** Node and GPU counts to try on one instance type. */
export function shapesOf(instance: InstanceType): { nodes: number; gpusPerNode: number }[] {
  const perNode = [...new Set([...GPUS_PER_NODE.filter((count) => count <= instance.gpus), instance.gpus])];
  const shapes: { nodes: number; gpusPerNode: number }[] = [];
  for (const gpusPerNode of perNode) {
    for (const nodes of NODE_COUNTS) {
      if (nodes > 1 && gpusPerNode !== instance.gpus) continue;
      shapes.push({ nodes, gpusPerNode });
    }
  }
  return shapes;
}

/**
 * A profile record replaces the estimate's throughput and memory; the estimate's knobs stay
 * as context. A plug-in's own estimate (`basis: plugin-estimate`) prices its configuration
 * as an estimate (`source: estimated`), so the plan never calls it measured and the
 * profiling phase may still measure it.
 */
function withProfile(
  estimate: ThroughputEstimate,
  signature: string,
  config: Configuration,
  profiles: ProfileStore,
): ThroughputEstimate {
  const record = profiles.find(signature, config);
  if (record === undefined) return estimate;
  const measured = isMeasurement(record);
  if (record.fits === false) {
    const by = measured ? "measured" : `${config.technique}'s search`;
    return {
      fits: false,
      reason: `${by}: does not fit (${record.reason ?? "out of memory"}; ${record.where}, ${record.measuredAt})`,
      peakMemoryGiBPerGpu: record.peakMemoryGiBPerGpu,
    };
  }
  return {
    fits: true,
    samplesPerSecond: record.samplesPerSecond,
    peakMemoryGiBPerGpu: record.peakMemoryGiBPerGpu,
    activationCheckpointing: estimate.fits ? estimate.activationCheckpointing : false,
    source: measured ? "measured" : "estimated",
  };
}

function priced(
  job: Job,
  config: Configuration,
  estimate: ThroughputEstimate,
  instance: InstanceType,
  context: CandidateContext,
): Candidate {
  if (!estimate.fits) return { jobId: job.id, config, estimate, runtimeSeconds: undefined, costUsd: {} };
  const runtimeSeconds = job.totalSamples / estimate.samplesPerSecond;
  // The job pays for the GPUs it occupies: its share of each instance it runs on.
  const instancesOccupied = config.nodes * (config.gpusPerNode / instance.gpus);
  const costUsd: Partial<Record<Market, number>> = {};
  for (const market of context.markets) {
    const perHour = hourlyPrice(instance, context.region, market);
    if (perHour !== undefined) costUsd[market] = (perHour * instancesOccupied * runtimeSeconds) / 3600;
  }
  return { jobId: job.id, config, estimate, runtimeSeconds, costUsd };
}
