/**
 * List scheduling of single-instance jobs on a fixed pool of identical instances (serial
 * schedule generation): jobs are placed one by one, in the given priority order, at the
 * earliest moment some instance has enough free GPUs for the job's whole runtime; ties go
 * to the fullest such instance (best fit), then the lowest index. Later jobs may fill gaps
 * left before earlier ones (backfilling), which is what a real FIFO queue with GPU packing does.
 */
import { UsageProfile } from "./usage-profile.ts";

export interface PoolJob {
  readonly jobId: string;
  readonly gpus: number;
  readonly durationSeconds: number;
}

export interface PoolPlacement {
  readonly jobId: string;
  readonly instanceIndex: number;
  readonly start: number;
  readonly end: number;
}

export interface Pool {
  readonly instanceCount: number;
  readonly gpusPerInstance: number;
  /** When the instances are booted and can take work. */
  readonly readyAt: number;
}

export function schedulePool(jobs: readonly PoolJob[], pool: Pool): PoolPlacement[] {
  const instances = Array.from({ length: pool.instanceCount }, () => new UsageProfile(pool.gpusPerInstance));
  return jobs.map((job) => {
    let best: { instanceIndex: number; start: number; load: number } | undefined;
    instances.forEach((profile, instanceIndex) => {
      const start = profile.earliestFit(pool.readyAt, job.durationSeconds, job.gpus);
      if (start === undefined) return;
      const load = profile.peak(start, start + job.durationSeconds);
      if (
        best === undefined ||
        start < best.start - 1e-9 ||
        (Math.abs(start - best.start) <= 1e-9 && load > best.load)
      ) {
        best = { instanceIndex, start, load };
      }
    });
    if (best === undefined) {
      throw new RangeError(
        `expected job ${job.jobId} to need at most ${pool.gpusPerInstance} GPUs of one instance, got ${job.gpus}`,
      );
    }
    const chosen: { instanceIndex: number; start: number } = best;
    const end = chosen.start + job.durationSeconds;
    instances[chosen.instanceIndex]?.add(chosen.start, end, job.gpus);
    return { jobId: job.jobId, instanceIndex: chosen.instanceIndex, start: chosen.start, end };
  });
}

export function poolMakespan(placements: readonly PoolPlacement[]): number {
  return Math.max(0, ...placements.map((placement) => placement.end));
}
