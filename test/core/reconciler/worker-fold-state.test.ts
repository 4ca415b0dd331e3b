import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../../lambdas/core/protocol/worker-protocol.ts";
import {
  type AttemptStart,
  foldWorkerEvents,
  reportsOfFold,
} from "../../../lambdas/core/reconciler/worker-events-fold.ts";
import {
  applyToFold,
  EMPTY_WORKER_FOLD,
  lastHeardFrom,
  type WorkerFoldState,
} from "../../../lambdas/core/reconciler/worker-fold-state.ts";

const T0 = Date.parse("2026-12-01T12:00:00Z") / 1000;
const iso = (seconds: number) => new Date((T0 + seconds) * 1000).toISOString();
const JOBS = ["job-a", "job-b"];
const NODES = ["i-0aaa", "i-0bbb", "i-0ccc"];
/** job-a#2 is multi-node (i-0aaa + i-0bbb): its checkpoints are durable only once both nodes reported. */
const STARTS: readonly AttemptStart[] = [
  {
    workloadId: "w1",
    jobId: "job-a",
    attemptId: "job-a#1",
    instanceIds: ["i-0aaa"],
    gpusPerInstance: 1,
    fromSamples: 0,
    startedAt: T0,
  },
  {
    workloadId: "w1",
    jobId: "job-a",
    attemptId: "job-a#2",
    instanceIds: ["i-0aaa", "i-0bbb"],
    gpusPerInstance: 4,
    fromSamples: 100,
    startedAt: T0 + 400,
  },
  {
    workloadId: "w1",
    jobId: "job-b",
    attemptId: "job-b#1",
    instanceIds: ["i-0ccc"],
    gpusPerInstance: 1,
    fromSamples: 0,
    startedAt: T0 + 50,
  },
  {
    workloadId: "w1",
    jobId: "job-b",
    attemptId: "job-b#2",
    instanceIds: ["i-0ccc"],
    gpusPerInstance: 1,
    fromSamples: 0,
    startedAt: T0 + 900,
  },
];
const ATTEMPTS = STARTS.map((s) => s);

const eventArb: fc.Arbitrary<WorkerEvent> = fc
  .record({
    kind: fc.constantFrom(
      "heartbeat",
      "checkpoint-saved",
      "stopped",
      "completed",
      "failed",
      "agent-alive",
      "agent-alive",
    ),
    attempt: fc.constantFrom(...ATTEMPTS),
    node: fc.constantFrom(...NODES),
    seconds: fc.integer({ min: 0, max: 2000 }),
    samples: fc.constantFrom(0, 100, 200, 300, 400),
    rate: fc.constantFrom(null, 2, 3),
    running: fc.subarray(ATTEMPTS.map((a) => a.attemptId)),
    id: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map(({ kind, attempt, node, seconds, samples, rate, running, id }): WorkerEvent => {
    const base = {
      protocol: WORKER_PROTOCOL,
      eventId: `evt-${String(id).padStart(7, "0")}`,
      workloadId: "w1",
      instanceId: node,
      sentAt: iso(seconds),
    };
    const ids = { jobId: attempt.jobId, attemptId: attempt.attemptId };
    switch (kind) {
      case "heartbeat":
        return { ...base, ...ids, kind, samplesDone: samples, samplesPerSecond: rate, peakGpuMemoryBytes: null };
      case "checkpoint-saved":
        return { ...base, ...ids, kind, samples, uri: `s3://bucket-x/ck/${samples}/${node}` };
      case "stopped":
        return { ...base, ...ids, kind, samples, reason: "stop-order" };
      case "completed":
        return { ...base, ...ids, kind, samples: Math.max(1, samples), finalUri: null };
      case "failed":
        return { ...base, ...ids, kind, exitCode: 1, logTail: "", reason: `boom ${id}` };
      default:
        return { ...base, kind: "agent-alive", runningAttempts: running };
    }
  });

/** Keys sorted at every level, so two states compare equal whatever their insertion order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** Cuts `items` at the given fractions into consecutive slices. */
function slices<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * items.length)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const point of [...points, items.length]) {
    out.push(items.slice(from, point));
    from = point;
  }
  return out;
}

const endedSets: readonly ReadonlySet<string>[] = [new Set(), new Set(["i-0bbb"]), new Set(["i-0aaa", "i-0ccc"])];

describe("applyToFold", () => {
  it("gives the full fold's state and reports for any split, order and duplication of the inputs", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 0, maxLength: 40 }),
        fc.subarray([...STARTS]),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
        fc.infiniteStream(fc.integer()),
        fc.integer({ min: 60, max: 300 }),
        (events, starts, eventCuts, startCuts, noise, grace) => {
          // The stream as the store may hand it over: every event possibly twice, in any order.
          const noisy = [...events, ...events.filter((_, k) => k % 2 === 0)];
          const order = noisy.map((event, k) => ({ event, key: noise.next().value ?? k }));
          order.sort((a, b) => a.key - b.key);
          const shuffled = order.map((entry) => entry.event);
          const eventParts = slices(shuffled, eventCuts);
          const startParts = slices([...starts, ...starts], startCuts);
          let state: WorkerFoldState = EMPTY_WORKER_FOLD;
          for (let k = 0; k < Math.max(eventParts.length, startParts.length); k++) {
            state = applyToFold(state, { starts: startParts[k] ?? [], events: eventParts[k] ?? [] });
          }
          const full = applyToFold(EMPTY_WORKER_FOLD, { starts, events });
          expect(canonical(state)).toEqual(canonical(full));
          for (const endedInstances of endedSets) {
            expect(reportsOfFold(state, JOBS, { endedInstances, unstartedGraceSeconds: grace })).toEqual(
              foldWorkerEvents({ jobIds: JOBS, starts, events, endedInstances, unstartedGraceSeconds: grace }),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("hears from each instance last at its latest alive report or attempt event", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 0, maxLength: 40 }), (events) => {
        const expected = new Map<string, number>();
        for (const event of events) {
          if (event.kind !== "agent-alive" && !("jobId" in event)) continue;
          const at = Date.parse(event.sentAt) / 1000;
          if (at > (expected.get(event.instanceId) ?? Number.NEGATIVE_INFINITY)) expected.set(event.instanceId, at);
        }
        const state = applyToFold(EMPTY_WORKER_FOLD, { starts: STARTS, events });
        expect(lastHeardFrom(state)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("leaves the state it was given unchanged", () => {
    const start = STARTS[0] as AttemptStart;
    const before = applyToFold(EMPTY_WORKER_FOLD, { starts: [start], events: [] });
    const copy = structuredClone(before);
    applyToFold(before, {
      starts: [],
      events: [
        {
          protocol: WORKER_PROTOCOL,
          eventId: "evt-0000001",
          workloadId: "w1",
          instanceId: "i-0aaa",
          sentAt: iso(30),
          kind: "checkpoint-saved",
          jobId: "job-a",
          attemptId: "job-a#1",
          samples: 50,
          uri: "s3://bucket-x/ck/50",
        },
      ],
    });
    expect(before).toEqual(copy);
  });
});
