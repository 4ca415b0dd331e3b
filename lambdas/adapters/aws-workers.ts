/**
 * The worker port on AWS: orders go to each instance's orders document in S3 (s3-orders.ts),
 * reports come from the worker events the ingest stored (sqs-worker-events.ts) and the
 * attempts this adapter started, folded by core (worker-fold-state.ts, worker-events-fold.ts).
 * One instance serves one workload and one pass: it is built with the plan in force, whose
 * assignments give each job's technique and GPU indices.
 *
 * Reads are incremental: given the fold state the last pass stored with the execution
 * record (`fold`), `reports` reads only the store's event log after its cursor and folds that
 * onto it; `workerFold()` hands the result back for the pass to save with the record (so the
 * cursor moves only with the record's version). Without a stored state (the first pass, or a
 * record from before the log) it folds everything: the dedupe items and the whole log.
 *
 * Idempotent by attempt id: `startJob` adds the assignment to a document only where it is
 * missing, and records the start once; `checkpointAndStop` adds one stop order per attempt.
 * Orders are written before the start record, so a crash between them leaves an attempt the
 * agent runs and reports (never a recorded attempt that no agent was told about).
 */
import type { CloudInstance } from "../core/cloud/cloud-port.ts";
import type { ProfileWorkerPort, StartProfileRequest } from "../core/cloud/profile-worker-port.ts";
import type { JobReport, StartJobRequest, WorkerPort } from "../core/cloud/worker-port.ts";
import type { Plan } from "../core/planner/plan.ts";
import { trainingTaskOf } from "../core/protocol/training-task.ts";
import { type AssignmentMessage, assignmentSchema, bucketLayout } from "../core/protocol/worker-protocol.ts";
import { reportsOfFold } from "../core/reconciler/worker-events-fold.ts";
import {
  applyToFold,
  attemptKey,
  EMPTY_WORKER_FOLD,
  lastHeardFrom,
  type StoredWorkerFold,
} from "../core/reconciler/worker-fold-state.ts";
import { type Job, pluginOf, type Workload } from "../core/spec/workload.ts";
import type { AttemptStartStore, WorkerEventLog, WorkloadStore } from "../core/store/workload-store.ts";
import type { S3Orders } from "./s3-orders.ts";

export interface AwsWorkersOptions {
  readonly workloadId: string;
  readonly workload: Workload;
  /** The plan in force and its version (assignments name technique and GPU indices); undefined for profile runs. */
  readonly plan: Plan | undefined;
  readonly planVersion: number;
  readonly bucketName: string;
  readonly orders: S3Orders;
  readonly store: Pick<WorkloadStore, "workerEvents"> & AttemptStartStore & WorkerEventLog;
  /** The fold state the last pass stored with the execution record (`record.workerFold`). */
  readonly fold?: StoredWorkerFold;
  /** Grace before idle agents make an attempt lost (default UNSTARTED_GRACE_SECONDS). */
  readonly unstartedGraceSeconds?: number;
  /** The workload's instances (any state) and, for rendezvous, their private addresses. */
  readonly instances: () => Promise<readonly CloudInstance[]>;
  /** torchrun rendezvous port on node 0 (default 29500, torchrun's own default). */
  readonly rendezvousPort?: number;
  /** Seconds since the epoch (default: the system clock). */
  readonly now?: () => number;
}

/** A start the adapter cannot turn into a valid assignment (unknown job, no address for node 0). */
export class AssignmentError extends Error {
  override readonly name = "AssignmentError";
}

export class AwsWorkers implements WorkerPort, ProfileWorkerPort {
  readonly #options: AwsWorkersOptions;
  readonly #jobs: ReadonlyMap<string, Job>;
  readonly #now: () => number;
  /** The fold as of this instance's last `reports` (undefined before the first). */
  #fold: StoredWorkerFold | undefined;

  constructor(options: AwsWorkersOptions) {
    this.#options = options;
    this.#jobs = new Map(options.workload.jobs.map((job) => [job.id, job]));
    this.#now = options.now ?? (() => Date.now() / 1000);
  }

  async startJob(request: StartJobRequest): Promise<void> {
    const { workloadId, orders, store } = this.#options;
    const assignment = await this.#assignment(request);
    for (const instanceId of request.instanceIds) {
      await orders.update(workloadId, instanceId, (current) =>
        current.assignments.some((a) => a.attemptId === request.attemptId)
          ? undefined
          : { ...current, assignments: [...current.assignments, assignment] },
      );
    }
    await store.putAttemptStart({
      workloadId,
      jobId: request.jobId,
      attemptId: request.attemptId,
      instanceIds: [...request.instanceIds],
      gpusPerInstance: request.gpusPerInstance,
      fromSamples: request.fromSamples,
      startedAt: this.#now(),
    });
  }

  /**
   * A profile run: the job's task with `profile` set, under the run's own job id (so its
   * events fold into no job of the workload), its work just the warm-up and measured steps.
   * No attempt start is recorded: the profiling phase reads the run's events itself.
   */
  async startProfile(request: StartProfileRequest): Promise<void> {
    const { workloadId, orders } = this.#options;
    const job = this.#jobs.get(request.jobId);
    if (job === undefined) {
      throw new AssignmentError(`startProfile: expected a job of workload ${workloadId}, got '${request.jobId}'`);
    }
    const steps = request.warmupSteps + request.measuredSteps;
    const assignment = this.#validated(request.attemptId, {
      ...(await this.#message(
        job,
        {
          jobId: request.profileJobId,
          attemptId: request.attemptId,
          instanceIds: request.instanceIds,
          gpusPerInstance: request.gpusPerInstance,
          fromSamples: 0,
          totalSamples: Math.max(1, steps * job.batchSize),
          plannedSamplesPerSecond: request.plannedSamplesPerSecond,
          checkpointIntervalSeconds: 3600,
          checkpointable: false,
        },
        request.technique,
        Array.from({ length: request.gpusPerInstance }, (_, index) => index),
      )),
      profile: {
        warmupSteps: request.warmupSteps,
        measuredSteps: request.measuredSteps,
        jobSignature: request.jobSignature,
      },
    });
    for (const instanceId of request.instanceIds) {
      await orders.update(workloadId, instanceId, (current) =>
        current.assignments.some((a) => a.attemptId === request.attemptId)
          ? undefined
          : { ...current, assignments: [...current.assignments, assignment] },
      );
    }
  }

  async checkpointAndStop(jobId: string, attemptId: string): Promise<void> {
    const { workloadId, orders } = this.#options;
    const state = (await this.#current()).state;
    const attempt = state.attempts[attemptKey(jobId, attemptId)];
    const instanceIds = new Set([...(attempt?.start?.instanceIds ?? []), ...Object.keys(attempt?.nodeLastAt ?? {})]);
    for (const instanceId of instanceIds) {
      await orders.update(workloadId, instanceId, (current) =>
        current.stops.some((stop) => stop.attemptId === attemptId)
          ? undefined
          : {
              ...current,
              stops: [...current.stops, { attemptId, mode: "checkpoint", reason: "the reconciler moves the job" }],
            },
      );
    }
  }

  async shutdown(instanceIds: readonly string[]): Promise<void> {
    const { workloadId, orders } = this.#options;
    for (const instanceId of instanceIds) {
      await orders.update(workloadId, instanceId, (current) =>
        current.shutdown ? undefined : { ...current, shutdown: true },
      );
    }
  }

  async reports(jobIds: readonly string[]): Promise<readonly JobReport[]> {
    const [fold, instances] = await Promise.all([this.#read(), this.#options.instances()]);
    const known = new Map(instances.map((instance) => [instance.id, instance]));
    const ended = new Set<string>();
    for (const instance of instances) {
      if (instance.state === "shutting-down" || instance.state === "terminated") ended.add(instance.id);
    }
    // An instance an attempt ran on that the cloud no longer lists has ended too.
    for (const attempt of Object.values(fold.state.attempts)) {
      for (const id of attempt.start?.instanceIds ?? []) if (!known.has(id)) ended.add(id);
    }
    return reportsOfFold(fold.state, jobIds, {
      endedInstances: ended,
      ...(this.#options.unstartedGraceSeconds === undefined
        ? {}
        : { unstartedGraceSeconds: this.#options.unstartedGraceSeconds }),
    });
  }

  /** When each instance's agent was last heard from, as of the last `reports` (the silence rule). */
  lastHeardFrom(): ReadonlyMap<string, number> | undefined {
    const fold = this.#fold ?? this.#options.fold;
    return fold === undefined ? undefined : lastHeardFrom(fold.state);
  }

  /** The fold state after this instance's reads, for the pass to store with the record. */
  workerFold(): StoredWorkerFold | undefined {
    return this.#fold ?? this.#options.fold;
  }

  /** The fold with everything logged since the last read folded in. */
  async #read(): Promise<StoredWorkerFold> {
    const { workloadId, store } = this.#options;
    const prior = this.#fold ?? this.#options.fold;
    if (prior !== undefined) {
      const slice = await store.workerLogSince(workloadId, prior.cursor);
      this.#fold = { cursor: slice.cursor, state: applyToFold(prior.state, slice) };
      return this.#fold;
    }
    // No stored state: the dedupe items hold everything stored before the log existed.
    const [starts, events, slice] = await Promise.all([
      store.attemptStarts(workloadId),
      store.workerEvents(workloadId),
      store.workerLogSince(workloadId, ""),
    ]);
    const state = applyToFold(EMPTY_WORKER_FOLD, {
      starts: [...starts, ...slice.starts],
      events: [...events, ...slice.events],
    });
    this.#fold = { cursor: slice.cursor, state };
    return this.#fold;
  }

  /** The fold as last read (a pass reads it in observe); read now if it was not. */
  async #current(): Promise<StoredWorkerFold> {
    return this.#fold ?? (await this.#read());
  }

  async #assignment(request: StartJobRequest): Promise<AssignmentMessage> {
    const { workload, plan } = this.#options;
    const job = this.#jobs.get(request.jobId);
    if (job === undefined) {
      throw new AssignmentError(`startJob: expected a job of workload ${workload.name}, got '${request.jobId}'`);
    }
    const planned = plan?.assignments.find((a) => a.jobId === request.jobId);
    return this.#validated(
      request.attemptId,
      await this.#message(
        job,
        request,
        planned?.technique ?? job.techniques[0],
        planned?.gpuIndices ?? Array.from({ length: request.gpusPerInstance }, (_, index) => index),
      ),
    );
  }

  async #message(
    job: Job,
    request: StartJobRequest,
    technique: string | undefined,
    gpuIndices: readonly number[],
  ): Promise<Record<string, unknown>> {
    const { workloadId, planVersion, bucketName } = this.#options;
    const checkpointPrefix = `s3://${bucketName}/${bucketLayout.checkpointPrefix(workloadId, job.id)}`;
    const resumeFrom =
      request.fromSamples > 0 && job.checkpointable
        ? {
            uri: (await this.#checkpointUri(job.id, request.fromSamples)) ?? checkpointPrefix,
            samples: request.fromSamples,
          }
        : null;
    return {
      workloadId,
      jobId: request.jobId,
      attemptId: request.attemptId,
      planVersion: Math.max(1, planVersion),
      technique,
      instanceIds: [...request.instanceIds],
      gpusPerInstance: request.gpusPerInstance,
      gpuIndices: [...gpuIndices],
      rendezvous: request.instanceIds.length > 1 ? await this.#rendezvous(request) : null,
      task: trainingTaskOf(job, request.totalSamples),
      checkpoint: { prefix: checkpointPrefix, intervalSeconds: request.checkpointIntervalSeconds, resumeFrom },
      checkpointable: request.checkpointable,
      plannedSamplesPerSecond: request.plannedSamplesPerSecond,
      profile: null,
      // A plug-in technique travels with its declaration, so the agent can fetch its module.
      plugin: technique === undefined ? null : (pluginOf(this.#options.workload, technique) ?? null),
    };
  }

  #validated(attemptId: string, message: Record<string, unknown>): AssignmentMessage {
    const parsed = assignmentSchema.safeParse(message);
    if (!parsed.success) {
      throw new AssignmentError(
        `startJob ${attemptId}: the assignment fails the worker protocol: ${parsed.error.issues
          .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
          .join("; ")}`,
      );
    }
    return parsed.data;
  }

  async #rendezvous(request: StartJobRequest): Promise<{ endpoint: string; id: string }> {
    const nodeZero = request.instanceIds[0] ?? "";
    const address = (await this.#options.instances()).find((i) => i.id === nodeZero)?.privateIpAddress;
    if (address === undefined) {
      throw new AssignmentError(
        `startJob ${request.attemptId}: expected a private address for node 0 (${nodeZero}) to rendezvous, got none`,
      );
    }
    return { endpoint: `${address}:${this.#options.rendezvousPort ?? 29500}`, id: request.attemptId };
  }

  /** The checkpoint a resume starts from: the one saved at exactly `samples`, else the largest below it. */
  async #checkpointUri(jobId: string, samples: number): Promise<string | undefined> {
    const state = (await this.#current()).state;
    let best: { samples: number; uri: string } | undefined;
    for (const attempt of Object.values(state.attempts)) {
      if (attempt.jobId !== jobId) continue;
      for (const [key, checkpoint] of Object.entries(attempt.checkpoints)) {
        const at = Number(key);
        if (checkpoint.uri === undefined || at > samples) continue;
        if (best === undefined || at > best.samples || (at === best.samples && checkpoint.uri < best.uri)) {
          best = { samples: at, uri: checkpoint.uri };
        }
      }
    }
    return best?.uri;
  }
}
