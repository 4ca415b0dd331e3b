/**
 * The worker fold state cut into parts that a store can write only when they change.
 *
 *   hot     the attempts and alive reports that still change from pass to pass: an attempt
 *           that has not ended (no completion, failure or stop) and heard from within
 *           `WORKER_FOLD_QUIET_SECONDS` of the state's newest time; an instance whose newest
 *           alive report is that recent. The execution record carries these inline: a
 *           running attempt's heartbeat changes it every pass, so it is written every pass
 *           wherever it lives.
 *   buckets everything else (ended or quiet), by a stable hash of the attempt key or
 *           instance id into a power-of-two count of buckets that grows with the entries
 *           (about `WORKER_FOLD_ENTRIES_PER_BUCKET` each, at most `WORKER_FOLD_MAX_BUCKETS`).
 *           An entry lands in a bucket once (when it ends or goes quiet) and changes again
 *           only on a late event, so a pass rewrites only the buckets that gained entries.
 *           When the count doubles every bucket splits in two, and that pass rewrites all.
 *
 * `splitWorkerFold` is a function of the state alone (no clock: "now" is the state's own
 * newest time), so `joinWorkerFold(splitWorkerFold(s))` equals `s` and two equal states
 * split the same way. Entries of a bucket are listed in key order, so a bucket whose entries
 * did not change serializes to the same bytes (entries a pass did not touch keep their own
 * field order: `applyToFold` passes them through unchanged).
 */
import type { AliveReport, FoldedAttempt, WorkerFoldState } from "./worker-fold-state.ts";

/**
 * Entries (attempts and instances) a bucket holds on average. A pass writes the buckets that
 * gained entries, so smaller buckets write less; a load reads them all, and smaller buckets
 * gzip worse. Over a 5,000-job run (scripts/worker-fold-writes.ts, docs/control-plane.md)
 * halving this writes about a quarter less and loads about a tenth more.
 */
export const WORKER_FOLD_ENTRIES_PER_BUCKET = 40;
/** 5,000 jobs (the spec's maximum) with an instance each make 10,000 entries: 256 buckets. */
export const WORKER_FOLD_MAX_BUCKETS = 1024;

/** An attempt or instance silent this long (relative to the state's newest time) moves to its bucket. */
export const WORKER_FOLD_QUIET_SECONDS = 900;

export interface WorkerFoldParts {
  /** How many buckets the entries were hashed into. */
  readonly count: number;
  /** What the record carries inline. */
  readonly hot: WorkerFoldState;
  /** Bucket index -> its entries; empty buckets are left out. */
  readonly buckets: ReadonlyMap<number, WorkerFoldState>;
}

/** FNV-1a (32 bit) of the key's UTF-16 code units, modulo the bucket count: stable across runs and hosts. */
export function workerFoldBucketOf(key: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % buckets;
}

/** The latest time the state knows of (seconds): the reference its quiet rule measures from. */
export function newestFoldTime(state: WorkerFoldState): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const attempt of Object.values(state.attempts)) newest = Math.max(newest, latestAt(attempt));
  for (const reports of Object.values(state.alive)) newest = Math.max(newest, reports[0]?.at ?? newest);
  return newest;
}

/** The smallest power of two that holds `entries` at about `WORKER_FOLD_ENTRIES_PER_BUCKET` each, capped. */
export function workerFoldBucketCount(entries: number): number {
  let count = 1;
  while (count < WORKER_FOLD_MAX_BUCKETS && count * WORKER_FOLD_ENTRIES_PER_BUCKET < entries) count *= 2;
  return count;
}

/** `buckets` fixes the count (measurements compare counts); default: `workerFoldBucketCount` of the settled entries. */
export function splitWorkerFold(state: WorkerFoldState, buckets?: number): WorkerFoldParts {
  if (buckets !== undefined && (!Number.isInteger(buckets) || buckets < 1)) {
    throw new RangeError(`splitWorkerFold: expected \`buckets\` to be an integer from 1 up, got ${buckets}`);
  }
  const quietBefore = newestFoldTime(state) - WORKER_FOLD_QUIET_SECONDS;
  const hot = { attempts: {} as Record<string, FoldedAttempt>, alive: {} as Record<string, readonly AliveReport[]> };
  const settledAttempts: string[] = [];
  const quietInstances: string[] = [];
  for (const key of Object.keys(state.attempts).sort()) {
    const attempt = state.attempts[key] as FoldedAttempt;
    if (ended(attempt) || latestAt(attempt) < quietBefore) settledAttempts.push(key);
    else hot.attempts[key] = attempt;
  }
  for (const instanceId of Object.keys(state.alive).sort()) {
    const reports = state.alive[instanceId] as readonly AliveReport[];
    if ((reports[0]?.at ?? Number.NEGATIVE_INFINITY) < quietBefore) quietInstances.push(instanceId);
    else hot.alive[instanceId] = reports;
  }
  const count = buckets ?? workerFoldBucketCount(settledAttempts.length + quietInstances.length);
  const parts = new Map<
    number,
    { attempts: Record<string, FoldedAttempt>; alive: Record<string, readonly AliveReport[]> }
  >();
  const bucket = (key: string) => {
    const index = workerFoldBucketOf(key, count);
    let part = parts.get(index);
    if (part === undefined) {
      part = { attempts: {}, alive: {} };
      parts.set(index, part);
    }
    return part;
  };
  for (const key of settledAttempts) bucket(key).attempts[key] = state.attempts[key] as FoldedAttempt;
  for (const instanceId of quietInstances) {
    bucket(instanceId).alive[instanceId] = state.alive[instanceId] as readonly AliveReport[];
  }
  return { count, hot, buckets: new Map([...parts.entries()].sort(([a], [b]) => a - b)) };
}

/** The state the parts were cut from. Throws if two parts hold the same attempt or instance. */
export function joinWorkerFold(hot: WorkerFoldState, buckets: Iterable<WorkerFoldState>): WorkerFoldState {
  const attempts: Record<string, FoldedAttempt> = { ...hot.attempts };
  const alive: Record<string, readonly AliveReport[]> = { ...hot.alive };
  for (const part of buckets) {
    for (const [key, attempt] of Object.entries(part.attempts)) {
      if (key in attempts) throw new Error(`joinWorkerFold: expected attempt '${key}' in one part, got it in two`);
      attempts[key] = attempt;
    }
    for (const [instanceId, reports] of Object.entries(part.alive)) {
      if (instanceId in alive) {
        throw new Error(`joinWorkerFold: expected alive reports of '${instanceId}' in one part, got them in two`);
      }
      alive[instanceId] = reports;
    }
  }
  return { attempts, alive };
}

function ended(attempt: FoldedAttempt): boolean {
  return attempt.completed !== undefined || attempt.failure !== undefined || attempt.stopped;
}

function latestAt(attempt: FoldedAttempt): number {
  return Math.max(
    attempt.lastEventAt ?? Number.NEGATIVE_INFINITY,
    attempt.start?.startedAt ?? Number.NEGATIVE_INFINITY,
  );
}
