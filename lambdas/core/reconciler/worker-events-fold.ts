/**
 * Folding what workers reported (worker-protocol events) and what the control plane started
 * (attempt starts) into the `JobReport`s the reconciler reads. Every quantity is a maximum,
 * a minimum or a set union over the inputs, so the result does not depend on their order
 * and a duplicated event changes nothing.
 *
 * Rules, per job:
 * - an attempt exists once it was started or any event names it; `attemptsStarted` counts them;
 * - it ends with a `completed`, `stopped` or `failed` event from any of its nodes, or when one
 *   of its instances ended (shutting down, terminated or gone) before such an event came;
 * - `failed` and "instance ended" attempts are lost (`worker-crash`, `instance-lost`);
 *   `stopped` ones are not (they obeyed a stop order or saved a checkpoint before a reclaim);
 * - `checkpointSamples` is the largest durable checkpoint any attempt reported. A multi-node
 *   attempt's checkpoint is durable only once every node of the attempt has reported its part
 *   at that sample count (`checkpoint-saved`, or `stopped` with those samples): each node's
 *   agent uploads only its own ranks' shards, so one node's report proves nothing of the
 *   others'. The nodes are the start record's; without one, those that reported anything;
 * - an attempt the agent never runs is lost (`not-running`): when the latest
 *   `ALIVE_REPORTS_KEPT` (2) `agent-alive` reports of its node rank 0 were all sent more
 *   than the grace period after both the order (its start record) and that node's last
 *   event for the attempt, and none lists the attempt (an idle agent sends them; a busy one
 *   does not, so a node that runs something else is never judged). Only rank 0 is judged:
 *   every node's part waits for rank 0's rendezvous, and a node > 0 that never starts its
 *   part makes rank 0's rendezvous time out, which is a `failed` event;
 * - the running attempt is the latest-started attempt that has not ended.
 *
 * The fold goes through `WorkerFoldState` (worker-fold-state.ts): `foldWorkerEvents` is the
 * full fold, `reportsOfFold` reads reports from a state that passes built incrementally.
 */
import type { AttemptReport, JobReport, LostAttempt } from "../cloud/worker-port.ts";
import type { WorkerEvent } from "../protocol/worker-protocol.ts";
import {
  ALIVE_REPORTS_KEPT,
  type AliveReport,
  applyToFold,
  attemptNodes,
  durableSamples,
  EMPTY_WORKER_FOLD,
  type FoldedAttempt,
  type WorkerFoldState,
} from "./worker-fold-state.ts";

export { eventSeconds } from "./worker-fold-state.ts";

/** What the control plane recorded when it started an attempt (the orders it wrote). */
export interface AttemptStart {
  readonly workloadId: string;
  readonly jobId: string;
  readonly attemptId: string;
  readonly instanceIds: readonly string[];
  readonly gpusPerInstance: number;
  readonly fromSamples: number;
  /** Seconds since the epoch. */
  readonly startedAt: number;
}

export interface WorkerFoldInput {
  readonly jobIds: readonly string[];
  readonly starts: readonly AttemptStart[];
  readonly events: readonly WorkerEvent[];
  /** Instances that shut down, terminated or are no longer known: attempts on them without an ending are lost. */
  readonly endedInstances: ReadonlySet<string>;
  /** Seconds after the order (and a node's last event) before idle reports count; default `UNSTARTED_GRACE_SECONDS`. */
  readonly unstartedGraceSeconds?: number;
}

/**
 * Default grace before an idle agent's reports make an attempt lost: the agent polls its
 * orders every 5 s and reports while idle every 30 s (worker/agent/agent-config.ts), so
 * after 2 minutes an attempt it was told about is running or was refused. Two idle reports
 * after the grace add a minute: detection about 3 minutes after the order.
 */
export const UNSTARTED_GRACE_SECONDS = 120;

export interface ReportOptions {
  readonly endedInstances: ReadonlySet<string>;
  readonly unstartedGraceSeconds?: number;
}

export function foldWorkerEvents(input: WorkerFoldInput): JobReport[] {
  const state = applyToFold(EMPTY_WORKER_FOLD, { starts: input.starts, events: input.events });
  return reportsOfFold(state, input.jobIds, input);
}

/** The job reports a fold state gives (the same as a full fold of the events it folded). */
export function reportsOfFold(state: WorkerFoldState, jobIds: readonly string[], options: ReportOptions): JobReport[] {
  const byJob = new Map<string, FoldedAttempt[]>();
  for (const attempt of Object.values(state.attempts)) {
    const list = byJob.get(attempt.jobId);
    if (list === undefined) byJob.set(attempt.jobId, [attempt]);
    else list.push(attempt);
  }
  const grace = options.unstartedGraceSeconds ?? UNSTARTED_GRACE_SECONDS;
  return jobIds.map((jobId) => foldJob(jobId, byJob.get(jobId) ?? [], options.endedInstances, state, grace));
}

function foldJob(
  jobId: string,
  attempts: readonly FoldedAttempt[],
  ended: ReadonlySet<string>,
  state: WorkerFoldState,
  grace: number,
): JobReport {
  let checkpointSamples = 0;
  let completedAt: number | undefined;
  const lost: LostAttempt[] = [];
  const running: AttemptReport[] = [];
  for (const attempt of attempts) {
    const view = attemptView(attempt);
    checkpointSamples = Math.max(checkpointSamples, attempt.start?.fromSamples ?? 0, durableSamples(attempt));
    if (attempt.completed !== undefined) {
      // Training finished: the final state is not a resume point, but nothing is left to do.
      checkpointSamples = Math.max(checkpointSamples, attempt.completed.samples);
      completedAt = completedAt === undefined ? attempt.completed.at : Math.min(completedAt, attempt.completed.at);
    }
    const stoppedOrDone = attempt.stopped || attempt.completed !== undefined;
    if (attempt.failure !== undefined && !stoppedOrDone) {
      lost.push({
        attemptId: attempt.attemptId,
        at: attempt.failure.at,
        cause: "worker-crash",
        message: attempt.failure.message,
      });
      continue;
    }
    if (stoppedOrDone) continue;
    const gone = view.instanceIds.find((id) => ended.has(id));
    if (gone !== undefined) {
      lost.push({
        attemptId: attempt.attemptId,
        at: view.lastHeartbeatAt,
        cause: "instance-lost",
        message: `instance ${gone} ended before attempt ${attempt.attemptId} reported an ending`,
      });
      continue;
    }
    const unstarted = notRunning(attempt, state, grace);
    if (unstarted !== undefined) {
      lost.push(unstarted);
      continue;
    }
    running.push(view);
  }
  const completed = completedAt !== undefined;
  running.sort((a, b) => b.startedAt - a.startedAt || (a.attemptId < b.attemptId ? 1 : -1));
  lost.sort((a, b) => a.at - b.at || (a.attemptId < b.attemptId ? -1 : 1));
  return {
    jobId,
    checkpointSamples,
    completed,
    completedAt,
    attempt: completed ? undefined : running[0],
    attemptsStarted: attempts.length,
    lostAttempts: lost,
  };
}

/**
 * The attempt is lost when its rank-0 node's agent keeps reporting, idle, that it runs
 * something else: its kept alive reports (2) all came more than `grace` seconds after the
 * order and after the node's last event for the attempt, and none names the attempt. Only
 * attempts with a start record are judged (the order's time is the start's).
 */
function notRunning(attempt: FoldedAttempt, state: WorkerFoldState, grace: number): LostAttempt | undefined {
  const start = attempt.start;
  const node = start?.instanceIds[0];
  if (start === undefined || node === undefined) return undefined;
  const reports = state.alive[node] ?? [];
  if (reports.length < ALIVE_REPORTS_KEPT) return undefined;
  const since = Math.max(start.startedAt, attempt.nodeLastAt[node] ?? Number.NEGATIVE_INFINITY) + grace;
  if (!reports.every((report) => report.at > since && !report.running.includes(attempt.attemptId))) return undefined;
  const latest = reports[0] as AliveReport;
  return {
    attemptId: attempt.attemptId,
    at: latest.at,
    cause: "not-running",
    message: `the agent on ${node} reported ${reports.length} times, the last ${Math.round(latest.at - start.startedAt)} s after the order, that it is not running attempt ${attempt.attemptId}`,
  };
}

function attemptView(attempt: FoldedAttempt): AttemptReport {
  const start = attempt.start;
  const startedAt = start?.startedAt ?? attempt.firstEventAt ?? 0;
  return {
    attemptId: attempt.attemptId,
    instanceIds: attemptNodes(attempt),
    gpusPerInstance: start?.gpusPerInstance ?? 1,
    startedAt,
    samplesDone: Math.max(start?.fromSamples ?? 0, attempt.samplesDone),
    samplesPerSecond: attempt.progress?.samplesPerSecond ?? undefined,
    lastHeartbeatAt: Math.max(startedAt, attempt.lastEventAt ?? Number.NEGATIVE_INFINITY),
  };
}
