/**
 * The folded state of a workload's worker reports: one summary per attempt (what its start
 * record and its events say) and the latest `agent-alive` reports per instance. Reconcile
 * passes keep it in the execution record with a cursor into the store's event log, and fold
 * only the events after the cursor onto it (`applyToFold`), instead of re-reading every
 * event from the start.
 *
 * Invariant: every field is a maximum, a minimum, a set union, or a top-k under a total
 * order (time, then event id), so `applyToFold(applyToFold(s, a), b)` equals
 * `applyToFold(s, a ∪ b)` for any split, any order and any duplication of the inputs. That
 * is what lets a pass read an overlap of events it already folded, and what the property
 * test checks against a full fold. The one pruning step (checkpoints below an attempt's
 * durable one) runs only where the attempt's node list is known from its start record; then
 * the durable checkpoint can only rise with more events, so a pruned entry would have been
 * pruned by a full fold too.
 */
import type { WorkerEvent } from "../protocol/worker-protocol.ts";
import type { AttemptStart } from "./worker-events-fold.ts";

/** Nodes that reported their part of a checkpoint at one sample count, and its location. */
export interface FoldedCheckpoint {
  /** Sorted, distinct. */
  readonly nodes: readonly string[];
  /** The smallest reported URI (deterministic when nodes report different ones). */
  readonly uri: string | undefined;
}

export interface FoldedAttempt {
  readonly jobId: string;
  readonly attemptId: string;
  /** The earliest start record (two records of one start differ only by a retry's clock). */
  readonly start?: AttemptStart;
  /** Earliest and latest `sentAt` (seconds) of the attempt's events. */
  readonly firstEventAt?: number;
  readonly lastEventAt?: number;
  /** instance id -> latest `sentAt` of the attempt's events from that node. */
  readonly nodeLastAt: Readonly<Record<string, number>>;
  /** Largest progress reported (heartbeat samplesDone, checkpoint-saved samples). */
  readonly samplesDone: number;
  /** The furthest heartbeat (then the latest by time and id): its rate is the attempt's. */
  readonly progress?: {
    readonly samplesDone: number;
    readonly samplesPerSecond: number | null;
    readonly at: number;
    readonly eventId: string;
  };
  /** samples (as a decimal string) -> the nodes that saved their part of that checkpoint. */
  readonly checkpoints: Readonly<Record<string, FoldedCheckpoint>>;
  readonly stopped: boolean;
  /** Earliest completion time and the largest completed sample count. */
  readonly completed?: { readonly at: number; readonly samples: number };
  /** Earliest failure (then the smallest event id). */
  readonly failure?: { readonly at: number; readonly eventId: string; readonly message: string };
}

/** One `agent-alive` report: what an instance's agent said it was running. */
export interface AliveReport {
  readonly at: number;
  readonly eventId: string;
  readonly running: readonly string[];
}

export interface WorkerFoldState {
  /** `attemptKey(jobId, attemptId)` -> summary. */
  readonly attempts: Readonly<Record<string, FoldedAttempt>>;
  /** instance id -> its latest `ALIVE_REPORTS_KEPT` alive reports, newest first. */
  readonly alive: Readonly<Record<string, readonly AliveReport[]>>;
}

/** The fold state as the execution record keeps it, with the store's cursor into its event log. */
export interface StoredWorkerFold {
  /** Opaque to core: the store adapter's position in its log (the last item read). */
  readonly cursor: string;
  readonly state: WorkerFoldState;
}

/** How many alive reports per instance the state keeps (the lost-attempt rule reads this many). */
export const ALIVE_REPORTS_KEPT = 2;

export const EMPTY_WORKER_FOLD: WorkerFoldState = { attempts: {}, alive: {} };

export interface FoldDelta {
  readonly starts: readonly AttemptStart[];
  readonly events: readonly WorkerEvent[];
}

export function attemptKey(jobId: string, attemptId: string): string {
  return `${jobId}|${attemptId}`;
}

export function eventSeconds(event: { readonly sentAt: string }): number {
  return Date.parse(event.sentAt) / 1000;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The state with `delta` folded in; `state` is not changed. */
export function applyToFold(state: WorkerFoldState, delta: FoldDelta): WorkerFoldState {
  const attempts: Record<string, FoldedAttempt> = { ...state.attempts };
  const alive: Record<string, readonly AliveReport[]> = { ...state.alive };
  // Summaries touched by this delta are copied once, then changed in place.
  const touched = new Map<string, Mutable<FoldedAttempt>>();
  const summary = (jobId: string, attemptId: string): Mutable<FoldedAttempt> => {
    const key = attemptKey(jobId, attemptId);
    let entry = touched.get(key);
    if (entry === undefined) {
      const existing = attempts[key];
      entry =
        existing === undefined
          ? { jobId, attemptId, nodeLastAt: {}, samplesDone: 0, checkpoints: {}, stopped: false }
          : { ...existing, nodeLastAt: { ...existing.nodeLastAt }, checkpoints: { ...existing.checkpoints } };
      touched.set(key, entry);
      attempts[key] = entry;
    }
    return entry;
  };
  for (const start of delta.starts) {
    const entry = summary(start.jobId, start.attemptId);
    if (entry.start === undefined || start.startedAt < entry.start.startedAt) entry.start = start;
  }
  for (const event of delta.events) {
    if (event.kind === "agent-alive") {
      alive[event.instanceId] = withAliveReport(alive[event.instanceId] ?? [], {
        at: eventSeconds(event),
        eventId: event.eventId,
        running: [...new Set(event.runningAttempts)].sort(),
      });
      continue;
    }
    if (!("jobId" in event)) continue;
    foldAttemptEvent(summary(event.jobId, event.attemptId), event);
  }
  for (const entry of touched.values()) pruneCheckpoints(entry);
  return { attempts, alive };
}

type AttemptEvent = Extract<WorkerEvent, { readonly jobId: string }>;

function foldAttemptEvent(entry: Mutable<FoldedAttempt>, event: AttemptEvent): void {
  const at = eventSeconds(event);
  entry.firstEventAt = entry.firstEventAt === undefined ? at : Math.min(entry.firstEventAt, at);
  entry.lastEventAt = entry.lastEventAt === undefined ? at : Math.max(entry.lastEventAt, at);
  const nodeAt = entry.nodeLastAt[event.instanceId];
  (entry.nodeLastAt as Record<string, number>)[event.instanceId] = nodeAt === undefined ? at : Math.max(nodeAt, at);
  switch (event.kind) {
    case "heartbeat": {
      entry.samplesDone = Math.max(entry.samplesDone, event.samplesDone);
      const best = entry.progress;
      if (
        best === undefined ||
        event.samplesDone > best.samplesDone ||
        (event.samplesDone === best.samplesDone && (at > best.at || (at === best.at && event.eventId > best.eventId)))
      ) {
        entry.progress = {
          samplesDone: event.samplesDone,
          samplesPerSecond: event.samplesPerSecond,
          at,
          eventId: event.eventId,
        };
      }
      return;
    }
    case "checkpoint-saved":
      entry.samplesDone = Math.max(entry.samplesDone, event.samples);
      addCheckpoint(entry, event.samples, event.instanceId, event.uri);
      return;
    case "stopped":
      entry.stopped = true;
      addCheckpoint(entry, event.samples, event.instanceId, undefined);
      return;
    case "completed":
      entry.completed =
        entry.completed === undefined
          ? { at, samples: event.samples }
          : { at: Math.min(entry.completed.at, at), samples: Math.max(entry.completed.samples, event.samples) };
      return;
    case "failed": {
      const current = entry.failure;
      if (current === undefined || at < current.at || (at === current.at && event.eventId < current.eventId)) {
        entry.failure = {
          at,
          eventId: event.eventId,
          message: `exit code ${event.exitCode} on ${event.instanceId}: ${event.reason}`,
        };
      }
      return;
    }
    default:
      return;
  }
}

function addCheckpoint(entry: Mutable<FoldedAttempt>, samples: number, instanceId: string, uri: string | undefined) {
  if (samples === 0) return;
  const key = String(samples);
  const current = entry.checkpoints[key];
  const nodes = current === undefined ? [instanceId] : [...new Set([...current.nodes, instanceId])].sort();
  const kept = current?.uri;
  const best = kept === undefined ? uri : uri === undefined || kept <= uri ? kept : uri;
  (entry.checkpoints as Record<string, FoldedCheckpoint>)[key] = { nodes, uri: best };
}

/** Newest first under (time, event id); a repeated event id is kept once. */
function withAliveReport(reports: readonly AliveReport[], report: AliveReport): readonly AliveReport[] {
  if (reports.some((r) => r.eventId === report.eventId)) return reports;
  return [...reports, report]
    .sort((a, b) => b.at - a.at || (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0))
    .slice(0, ALIVE_REPORTS_KEPT);
}

/** The nodes of an attempt: its start record's; without one, those that reported anything. */
export function attemptNodes(attempt: FoldedAttempt): readonly string[] {
  return attempt.start?.instanceIds ?? Object.keys(attempt.nodeLastAt).sort();
}

/**
 * The largest sample count whose checkpoint every node of the attempt reported as uploaded
 * (`checkpoint-saved`, or `stopped` naming the samples of the checkpoint it saved); 0 if none.
 */
export function durableSamples(attempt: FoldedAttempt): number {
  const nodes = attemptNodes(attempt);
  let durable = 0;
  for (const [key, checkpoint] of Object.entries(attempt.checkpoints)) {
    const samples = Number(key);
    if (samples > durable && nodes.every((id) => checkpoint.nodes.includes(id))) durable = samples;
  }
  return durable;
}

function pruneCheckpoints(entry: Mutable<FoldedAttempt>): void {
  if (entry.start === undefined) return;
  const durable = durableSamples(entry);
  if (durable === 0) return;
  const kept: Record<string, FoldedCheckpoint> = {};
  for (const [key, checkpoint] of Object.entries(entry.checkpoints)) {
    if (Number(key) >= durable) kept[key] = checkpoint;
  }
  entry.checkpoints = kept;
}

/**
 * instance id -> the latest report the fold holds from it (an `agent-alive`, or any event of
 * an attempt it ran): when its agent was last heard from. Instances never heard from are absent.
 */
export function lastHeardFrom(state: WorkerFoldState): Map<string, number> {
  const heard = new Map<string, number>();
  const saw = (instanceId: string, at: number) => {
    if (Number.isFinite(at) && at > (heard.get(instanceId) ?? Number.NEGATIVE_INFINITY)) heard.set(instanceId, at);
  };
  for (const [instanceId, reports] of Object.entries(state.alive)) for (const r of reports) saw(instanceId, r.at);
  for (const attempt of Object.values(state.attempts)) {
    for (const [instanceId, at] of Object.entries(attempt.nodeLastAt)) saw(instanceId, at);
  }
  return heard;
}
