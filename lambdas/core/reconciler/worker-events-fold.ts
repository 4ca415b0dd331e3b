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
 * - the running attempt is the latest-started attempt that has not ended.
 */
import type { AttemptReport, JobReport, LostAttempt } from "../cloud/worker-port.ts";
import type { WorkerEvent } from "../protocol/worker-protocol.ts";

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
}

type AttemptEvent = Extract<WorkerEvent, { readonly jobId: string }>;

interface AttemptFacts {
  readonly attemptId: string;
  start: AttemptStart | undefined;
  readonly events: AttemptEvent[];
}

export function eventSeconds(event: { readonly sentAt: string }): number {
  return Date.parse(event.sentAt) / 1000;
}

function isAttemptEvent(event: WorkerEvent): event is AttemptEvent {
  return "jobId" in event;
}

/** Total order on events that does not depend on arrival: time, then id. */
function later(a: AttemptEvent, b: AttemptEvent): boolean {
  const ta = eventSeconds(a);
  const tb = eventSeconds(b);
  return ta !== tb ? ta > tb : a.eventId > b.eventId;
}

export function foldWorkerEvents(input: WorkerFoldInput): JobReport[] {
  const byJob = new Map<string, Map<string, AttemptFacts>>();
  const facts = (jobId: string, attemptId: string): AttemptFacts => {
    let attempts = byJob.get(jobId);
    if (attempts === undefined) {
      attempts = new Map();
      byJob.set(jobId, attempts);
    }
    let found = attempts.get(attemptId);
    if (found === undefined) {
      found = { attemptId, start: undefined, events: [] };
      attempts.set(attemptId, found);
    }
    return found;
  };
  for (const start of input.starts) {
    const entry = facts(start.jobId, start.attemptId);
    // Two records of one start can only differ by a retry's clock: keep the earliest.
    if (entry.start === undefined || start.startedAt < entry.start.startedAt) entry.start = start;
  }
  const seen = new Set<string>();
  for (const event of input.events) {
    if (!isAttemptEvent(event) || seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    facts(event.jobId, event.attemptId).events.push(event);
  }
  return input.jobIds.map((jobId) => foldJob(jobId, [...(byJob.get(jobId)?.values() ?? [])], input.endedInstances));
}

function foldJob(jobId: string, attempts: readonly AttemptFacts[], ended: ReadonlySet<string>): JobReport {
  let checkpointSamples = 0;
  let completedAt: number | undefined;
  const lost: LostAttempt[] = [];
  const running: AttemptReport[] = [];
  for (const attempt of attempts) {
    const view = attemptView(attempt);
    checkpointSamples = Math.max(checkpointSamples, attempt.start?.fromSamples ?? 0, durableSamples(attempt, view));
    let terminal = false;
    let failure: { at: number; message: string } | undefined;
    for (const event of attempt.events) {
      const at = eventSeconds(event);
      switch (event.kind) {
        case "stopped":
          terminal = true;
          break;
        case "completed":
          // Training finished: the final state is not a resume point, but nothing is left to do.
          checkpointSamples = Math.max(checkpointSamples, event.samples);
          completedAt = completedAt === undefined ? at : Math.min(completedAt, at);
          terminal = true;
          break;
        case "failed":
          terminal = true;
          if (failure === undefined || at < failure.at) {
            failure = { at, message: `exit code ${event.exitCode} on ${event.instanceId}: ${event.reason}` };
          }
          break;
        default:
          break;
      }
    }
    const stoppedOrDone = attempt.events.some((e) => e.kind === "stopped" || e.kind === "completed");
    if (failure !== undefined && !stoppedOrDone) {
      lost.push({ attemptId: attempt.attemptId, at: failure.at, cause: "worker-crash", message: failure.message });
      continue;
    }
    if (terminal) continue;
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
 * The largest sample count whose checkpoint every node of the attempt reported as uploaded
 * (`checkpoint-saved`, or `stopped` naming the samples of the checkpoint it saved); 0 if none.
 */
function durableSamples(attempt: AttemptFacts, view: AttemptReport): number {
  const nodesAt = new Map<number, Set<string>>();
  for (const event of attempt.events) {
    if (event.kind !== "checkpoint-saved" && event.kind !== "stopped") continue;
    if (event.samples === 0) continue;
    let nodes = nodesAt.get(event.samples);
    if (nodes === undefined) {
      nodes = new Set();
      nodesAt.set(event.samples, nodes);
    }
    nodes.add(event.instanceId);
  }
  let durable = 0;
  for (const [samples, nodes] of nodesAt) {
    if (samples > durable && view.instanceIds.every((id) => nodes.has(id))) durable = samples;
  }
  return durable;
}

function attemptView(attempt: AttemptFacts): AttemptReport {
  const start = attempt.start;
  const times = attempt.events.map(eventSeconds);
  const startedAt = start?.startedAt ?? Math.min(...times);
  // Without a start record (it was lost), the nodes that reported are all we know of.
  const instanceIds = start?.instanceIds ?? [...new Set(attempt.events.map((e) => e.instanceId))].sort();
  let samplesDone = start?.fromSamples ?? 0;
  let progress: Extract<AttemptEvent, { kind: "heartbeat" }> | undefined;
  for (const event of attempt.events) {
    if (event.kind === "checkpoint-saved") samplesDone = Math.max(samplesDone, event.samples);
    if (event.kind !== "heartbeat") continue;
    samplesDone = Math.max(samplesDone, event.samplesDone);
    if (
      progress === undefined ||
      event.samplesDone > progress.samplesDone ||
      (event.samplesDone === progress.samplesDone && later(event, progress))
    ) {
      progress = event;
    }
  }
  return {
    attemptId: attempt.attemptId,
    instanceIds,
    gpusPerInstance: start?.gpusPerInstance ?? 1,
    startedAt,
    samplesDone,
    samplesPerSecond: progress?.samplesPerSecond ?? undefined,
    lastHeartbeatAt: Math.max(startedAt, ...times),
  };
}
