/** Reading a job's candidates the way the baselines need them. */
import type { Candidate } from "../../estimator/types.ts";
import type { Job } from "../../spec/workload.ts";
import type { Market } from "../../spec/workload-schema.ts";

/** A candidate that fits, with its throughput and runtime known. */
export type FittingCandidate = Candidate & {
  readonly estimate: Extract<Candidate["estimate"], { fits: true }>;
  readonly runtimeSeconds: number;
};

export function fittingCandidates(candidates: readonly Candidate[]): FittingCandidate[] {
  return candidates.filter(
    (candidate): candidate is FittingCandidate => candidate.estimate.fits && candidate.runtimeSeconds !== undefined,
  );
}

/**
 * Per shape (instance type, nodes, GPUs per node), the technique with the highest throughput:
 * the "best technique for this many GPUs" that Saturn's baselines pick from the profiler.
 * Ties go to the technique listed first by the job.
 */
export function bestTechniquePerShape(candidates: readonly FittingCandidate[]): FittingCandidate[] {
  const best = new Map<string, FittingCandidate>();
  for (const candidate of candidates) {
    const { instanceType, nodes, gpusPerNode } = candidate.config;
    const key = `${instanceType}/${nodes}/${gpusPerNode}`;
    const incumbent = best.get(key);
    if (incumbent === undefined || candidate.estimate.samplesPerSecond > incumbent.estimate.samplesPerSecond) {
      best.set(key, candidate);
    }
  }
  return [...best.values()];
}

/** Markets the job may use: spot only for jobs that can checkpoint (an interruption would lose all work). */
export function allowedMarkets(job: Job, markets: readonly Market[]): Market[] {
  return markets.filter((market) => market !== "spot" || job.checkpointable);
}
