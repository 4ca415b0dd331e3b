/**
 * The worker port: how the control plane starts, checkpoints and stops jobs on instances,
 * and reads what workers report. On AWS the agent on each GPU instance polls its queue and
 * writes heartbeats and checkpoint markers (S3); the simulated cloud plays the workers.
 */
export interface StartJobRequest {
  readonly jobId: string;
  /** Unique per attempt; makes start, checkpoint and stop idempotent. */
  readonly attemptId: string;
  readonly instanceIds: readonly string[];
  readonly gpusPerInstance: number;
  /** Resume from this many samples (the last checkpoint). */
  readonly fromSamples: number;
  readonly totalSamples: number;
  /** The plan's throughput figure for this configuration. */
  readonly plannedSamplesPerSecond: number;
  readonly checkpointIntervalSeconds: number;
  readonly checkpointable: boolean;
}

/** What the workers last reported for one job. */
export interface JobReport {
  readonly jobId: string;
  /** Samples saved in the job's latest durable checkpoint. */
  readonly checkpointSamples: number;
  readonly completed: boolean;
  readonly completedAt: number | undefined;
  /** The attempt now running, if any. */
  readonly attempt: AttemptReport | undefined;
  /** How many attempts were ever started (the next attempt's id derives from it). */
  readonly attemptsStarted: number;
  /** Attempts that ended without completing and without being stopped. */
  readonly lostAttempts: readonly LostAttempt[];
}

export interface LostAttempt {
  readonly attemptId: string;
  readonly at: number;
  /**
   * `worker-crash`: the job process died; `instance-lost`: an instance under it went away;
   * `not-running`: the agent of one of its instances is alive and keeps reporting that it
   * does not run it (it never started it: worker-events-fold.ts).
   */
  readonly cause: "worker-crash" | "instance-lost" | "not-running";
  readonly message: string;
}

export interface AttemptReport {
  readonly attemptId: string;
  readonly instanceIds: readonly string[];
  readonly gpusPerInstance: number;
  readonly startedAt: number;
  readonly samplesDone: number;
  /** Measured samples per second since the attempt started (undefined before the first report). */
  readonly samplesPerSecond: number | undefined;
  readonly lastHeartbeatAt: number;
}

import type { StoredWorkerFold } from "../reconciler/worker-fold-state.ts";

export interface WorkerPort {
  /** Idempotent by attemptId. */
  startJob(request: StartJobRequest): Promise<void>;
  /** Saves a checkpoint at the current progress and stops the attempt; idempotent by attemptId. */
  checkpointAndStop(jobId: string, attemptId: string): Promise<void>;
  /** Reports for the given jobs. */
  reports(jobIds: readonly string[]): Promise<readonly JobReport[]>;
  /**
   * Tells the agents on these instances to stop everything and shut down (the orders'
   * `shutdown`), before the engine terminates them: an agent that outlives a failed
   * terminate stops itself. Idempotent. Optional: the simulated cloud's workers end with
   * their instances.
   */
  shutdown?(instanceIds: readonly string[]): Promise<void>;
  /**
   * The worker fold state as of the last `reports` (with its cursor into the store's event
   * log), for a driver that keeps nothing between passes to save with the record. Optional:
   * ports that keep their reports in memory (the simulated cloud) have none.
   */
  workerFold?(): StoredWorkerFold | undefined;
  /**
   * instance id -> when its agent last reported anything (seconds), as of the last
   * `reports`; only instances heard from at all. Optional: the simulated cloud's workers
   * always boot and have no per-instance reports (the silence rule is off there).
   */
  lastHeardFrom?(): ReadonlyMap<string, number> | undefined;
}
