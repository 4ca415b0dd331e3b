/**
 * How the profiling phase starts a profile run on its instances (added with the phase;
 * kept apart from `WorkerPort` so that the simulated cloud's workers stay valid). On AWS
 * it is an assignment with `profile` set in each node's orders document: the agent runs
 * the harness in profile mode and reports `throughput-measured`, then `completed`.
 */
import type { Technique } from "../spec/workload-schema.ts";

export interface StartProfileRequest {
  /** The workload job whose task the run trains. */
  readonly jobId: string;
  /** Job id on the wire (`profile:<n>`): never a workload job, so the run's events fold into no job. */
  readonly profileJobId: string;
  readonly attemptId: string;
  readonly technique: Technique;
  /** Node rank 0 first. */
  readonly instanceIds: readonly string[];
  readonly gpusPerInstance: number;
  /** The estimate the run's price was computed from. */
  readonly plannedSamplesPerSecond: number;
  readonly warmupSteps: number;
  readonly measuredSteps: number;
  readonly jobSignature: string;
}

export interface ProfileWorkerPort {
  /** Idempotent by attempt id. */
  startProfile(request: StartProfileRequest): Promise<void>;
}
