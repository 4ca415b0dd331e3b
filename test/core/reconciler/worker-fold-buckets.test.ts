import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../../lambdas/core/protocol/worker-protocol.ts";
import type { AttemptStart } from "../../../lambdas/core/reconciler/worker-events-fold.ts";
import {
  joinWorkerFold,
  newestFoldTime,
  splitWorkerFold,
  WORKER_FOLD_ENTRIES_PER_BUCKET,
  WORKER_FOLD_MAX_BUCKETS,
  WORKER_FOLD_QUIET_SECONDS,
  type WorkerFoldParts,
  workerFoldBucketCount,
  workerFoldBucketOf,
} from "../../../lambdas/core/reconciler/worker-fold-buckets.ts";
import {
  applyToFold,
  attemptKey,
  EMPTY_WORKER_FOLD,
  lastHeardFrom,
  type WorkerFoldState,
} from "../../../lambdas/core/reconciler/worker-fold-state.ts";

const T0 = Date.parse("2026-12-01T12:00:00Z") / 1000;
const iso = (seconds: number) => new Date((T0 + seconds) * 1000).toISOString();

const start = (job: number, at: number): AttemptStart => ({
  workloadId: "w1",
  jobId: `job-${job}`,
  attemptId: `job-${job}#1`,
  instanceIds: [`i-${job}`],
  gpusPerInstance: 1,
  fromSamples: 0,
  startedAt: T0 + at,
});

function event(kind: WorkerEvent["kind"], job: number, seconds: number, id: string): WorkerEvent {
  const base = {
    protocol: WORKER_PROTOCOL,
    eventId: id,
    workloadId: "w1",
    instanceId: `i-${job}`,
    sentAt: iso(seconds),
  };
  const ids = { jobId: `job-${job}`, attemptId: `job-${job}#1` };
  switch (kind) {
    case "heartbeat":
      return { ...base, ...ids, kind, samplesDone: seconds * 2, samplesPerSecond: 2, peakGpuMemoryBytes: null };
    case "checkpoint-saved":
      return { ...base, ...ids, kind, samples: seconds * 2, uri: `s3://bucket-x/ck/${job}/${seconds}` };
    case "completed":
      return { ...base, ...ids, kind, samples: Math.max(1, seconds * 2), finalUri: null };
    case "failed":
      return { ...base, ...ids, kind, exitCode: 1, logTail: "", reason: "boom" };
    case "stopped":
      return { ...base, ...ids, kind, samples: 0, reason: "stop-order" };
    default:
      return { ...base, kind: "agent-alive", runningAttempts: [] };
  }
}

/** A state of up to 40 jobs whose events spread over 6,000 s: ended, quiet and hot entries mixed. */
const stateArb: fc.Arbitrary<WorkerFoldState> = fc
  .record({
    starts: fc.array(fc.record({ job: fc.nat(39), at: fc.nat(6000) }), { maxLength: 40 }),
    events: fc.array(
      fc.record({
        kind: fc.constantFrom("heartbeat", "checkpoint-saved", "completed", "failed", "stopped", "agent-alive"),
        job: fc.nat(39),
        seconds: fc.nat(6000),
        id: fc.nat(1_000_000),
      }),
      { maxLength: 120 },
    ),
  })
  .map(({ starts, events }) =>
    applyToFold(EMPTY_WORKER_FOLD, {
      starts: starts.map(({ job, at }) => start(job, at)),
      events: events.map(({ kind, job, seconds, id }) =>
        event(kind as WorkerEvent["kind"], job, seconds, `evt-${String(id).padStart(7, "0")}`),
      ),
    }),
  );

const bucketJson = (parts: WorkerFoldParts) =>
  new Map([...parts.buckets].map(([i, part]) => [i, JSON.stringify(part)]));

/** The bucket indices whose serialized entries differ between two splits. */
function changedBuckets(before: WorkerFoldParts, after: WorkerFoldParts): number[] {
  const a = bucketJson(before);
  const b = bucketJson(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((i) => a.get(i) !== b.get(i)).sort((x, y) => x - y);
}

describe("workerFoldBucketOf", () => {
  it("is 32-bit FNV-1a of the key modulo the bucket count", () => {
    // FNV-1a 32 test vectors: "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    expect(workerFoldBucketOf("a", 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(workerFoldBucketOf("foobar", 2 ** 31)).toBe(0xbf9cf968 % 2 ** 31);
    expect(workerFoldBucketOf("a", 64)).toBe(0xe40c292c % 64);
  });
});

describe("workerFoldBucketCount", () => {
  it("grows in powers of two with the entries, up to its cap", () => {
    const per = WORKER_FOLD_ENTRIES_PER_BUCKET;
    expect([0, 1, per, per + 1, 4 * per, 4 * per + 1].map(workerFoldBucketCount)).toEqual([1, 1, 1, 2, 4, 8]);
    expect(workerFoldBucketCount(10_000)).toBe(256);
    expect(workerFoldBucketCount(10 ** 9)).toBe(WORKER_FOLD_MAX_BUCKETS);
  });
});

describe("splitWorkerFold", () => {
  it("cuts a state into parts that join back to it, each entry once and in its hash's bucket", () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        // The default count, and a fixed one large enough to spread these few entries.
        expect(joinWorkerFold(splitWorkerFold(state).hot, splitWorkerFold(state).buckets.values())).toEqual(state);
        const parts = splitWorkerFold(state, 16);
        expect(parts.count).toBe(16);
        expect(joinWorkerFold(parts.hot, parts.buckets.values())).toEqual(state);
        const quietBefore = newestFoldTime(state) - WORKER_FOLD_QUIET_SECONDS;
        for (const [index, part] of parts.buckets) {
          expect(Object.keys(part.attempts).length + Object.keys(part.alive).length).toBeGreaterThan(0);
          for (const key of [...Object.keys(part.attempts), ...Object.keys(part.alive)]) {
            expect(workerFoldBucketOf(key, parts.count)).toBe(index);
          }
        }
        for (const attempt of Object.values(parts.hot.attempts)) {
          expect(attempt.completed ?? attempt.failure).toBeUndefined();
          expect(attempt.stopped).toBe(false);
          expect(
            Math.max(attempt.lastEventAt ?? -Infinity, attempt.start?.startedAt ?? -Infinity),
          ).toBeGreaterThanOrEqual(quietBefore);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("changes only the bucket of an ended attempt that a late event changes, and not the hot part", () => {
    fc.assert(
      fc.property(stateArb, fc.nat(), fc.nat(1_000_000), (state, pick, id) => {
        const before = splitWorkerFold(state, 16);
        const settled = [...before.buckets.values()]
          .flatMap((part) => Object.values(part.attempts))
          .filter((a) => a.completed !== undefined || a.failure !== undefined || a.stopped);
        fc.pre(settled.length > 0);
        const attempt = settled[pick % settled.length];
        if (attempt === undefined) return;
        const job = Number(attempt.jobId.slice(4));
        // A late heartbeat, at a time the state already knows, from the attempt's node.
        const at = Math.round(newestFoldTime(state) - T0);
        const after = splitWorkerFold(
          applyToFold(state, { starts: [], events: [event("heartbeat", job, at, `late-${id}`)] }),
          16,
        );
        const index = workerFoldBucketOf(attemptKey(attempt.jobId, attempt.attemptId), after.count);
        expect(changedBuckets(before, after).every((i) => i === index)).toBe(true);
        expect(JSON.stringify(after.hot)).toBe(JSON.stringify(before.hot));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a running attempt's heartbeats in the hot part and moves the attempt to its bucket when it completes", () => {
    const running = applyToFold(EMPTY_WORKER_FOLD, {
      starts: [start(1, 0), start(2, 0), start(3, 0)],
      events: [event("heartbeat", 1, 600, "e1"), event("heartbeat", 2, 600, "e2"), event("completed", 3, 500, "e3")],
    });
    const first = splitWorkerFold(running, 16);
    expect(Object.keys(first.hot.attempts).sort()).toEqual(["job-1|job-1#1", "job-2|job-2#1"]);

    const beat = splitWorkerFold(applyToFold(running, { starts: [], events: [event("heartbeat", 1, 630, "e4")] }), 16);
    expect(changedBuckets(first, beat)).toEqual([]);
    expect(beat.hot.attempts["job-1|job-1#1"]?.samplesDone).toBe(1260);

    const done = splitWorkerFold(applyToFold(running, { starts: [], events: [event("completed", 2, 600, "e5")] }), 16);
    expect(changedBuckets(first, done)).toEqual([workerFoldBucketOf("job-2|job-2#1", 16)]);
    expect(Object.keys(done.hot.attempts)).toEqual(["job-1|job-1#1"]);
  });

  it("moves an attempt and an instance that went quiet out of the hot part", () => {
    const state = applyToFold(EMPTY_WORKER_FOLD, {
      starts: [start(1, 0), start(2, 0)],
      events: [
        event("heartbeat", 1, 100, "e1"),
        event("agent-alive", 1, 90, "e2"),
        event("heartbeat", 2, 100 + WORKER_FOLD_QUIET_SECONDS + 1, "e3"),
      ],
    });
    const parts = splitWorkerFold(state, 16);
    expect(Object.keys(parts.hot.attempts)).toEqual(["job-2|job-2#1"]);
    expect(parts.hot.alive).toEqual({});
    expect(parts.buckets.get(workerFoldBucketOf("job-1|job-1#1", 16))?.attempts["job-1|job-1#1"]).toBeDefined();
    expect(parts.buckets.get(workerFoldBucketOf("i-1", 16))?.alive["i-1"]).toBeDefined();
  });

  it("refuses a bucket count that is not a positive integer", () => {
    expect(() => splitWorkerFold(EMPTY_WORKER_FOLD, 0)).toThrow(/expected `buckets` to be an integer from 1 up, got 0/);
  });
});

describe("joinWorkerFold", () => {
  it("refuses parts that hold the same attempt twice", () => {
    const state = applyToFold(EMPTY_WORKER_FOLD, { starts: [start(1, 0)], events: [] });
    expect(() => joinWorkerFold(state, [state])).toThrow(/attempt 'job-1\|job-1#1' in one part, got it in two/);
  });
});

describe("lastHeardFrom", () => {
  it("takes each instance's latest attempt event or alive report", () => {
    const state = applyToFold(EMPTY_WORKER_FOLD, {
      starts: [start(1, 0)],
      events: [event("heartbeat", 1, 100, "e1"), event("agent-alive", 1, 250, "e2"), event("agent-alive", 2, 40, "e3")],
    });
    expect(lastHeardFrom(state)).toEqual(
      new Map([
        ["i-1", T0 + 250],
        ["i-2", T0 + 40],
      ]),
    );
  });
});
