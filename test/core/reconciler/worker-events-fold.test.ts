import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WORKER_PROTOCOL, type WorkerEvent } from "../../../lambdas/core/protocol/worker-protocol.ts";
import { type AttemptStart, foldWorkerEvents } from "../../../lambdas/core/reconciler/worker-events-fold.ts";

const T0 = Date.parse("2026-12-01T12:00:00Z") / 1000;
const at = (seconds: number) => new Date((T0 + seconds) * 1000).toISOString();
const base = (eventId: string, seconds: number, instanceId = "i-0aaa") => ({
  protocol: WORKER_PROTOCOL,
  eventId,
  workloadId: "w1",
  instanceId,
  sentAt: at(seconds),
});

function start(attemptId: string, instanceIds: string[], seconds: number, fromSamples = 0): AttemptStart {
  return {
    workloadId: "w1",
    jobId: "job-a",
    attemptId,
    instanceIds,
    gpusPerInstance: 2,
    fromSamples,
    startedAt: T0 + seconds,
  };
}
function heartbeat(
  eventId: string,
  attemptId: string,
  seconds: number,
  samplesDone: number,
  rate: number | null = 4,
): WorkerEvent {
  return {
    ...base(eventId, seconds),
    kind: "heartbeat",
    jobId: "job-a",
    attemptId,
    samplesDone,
    samplesPerSecond: rate,
    peakGpuMemoryBytes: null,
  };
}
function checkpoint(
  eventId: string,
  attemptId: string,
  seconds: number,
  samples: number,
  instanceId = "i-0aaa",
): WorkerEvent {
  return {
    ...base(eventId, seconds, instanceId),
    kind: "checkpoint-saved",
    jobId: "job-a",
    attemptId,
    samples,
    uri: "s3://bucket-x/ck",
  };
}
function completed(eventId: string, attemptId: string, seconds: number, samples: number): WorkerEvent {
  return { ...base(eventId, seconds), kind: "completed", jobId: "job-a", attemptId, samples, finalUri: null };
}
function failed(eventId: string, attemptId: string, seconds: number): WorkerEvent {
  return {
    ...base(eventId, seconds),
    kind: "failed",
    jobId: "job-a",
    attemptId,
    exitCode: 137,
    logTail: "OOM",
    reason: "killed",
  };
}
function stopped(
  eventId: string,
  attemptId: string,
  seconds: number,
  samples: number,
  instanceId = "i-0aaa",
): WorkerEvent {
  return {
    ...base(eventId, seconds, instanceId),
    kind: "stopped",
    jobId: "job-a",
    attemptId,
    samples,
    reason: "stop-order",
  };
}

const fold = (starts: AttemptStart[], events: WorkerEvent[], ended: string[] = []) =>
  foldWorkerEvents({ jobIds: ["job-a"], starts, events, endedInstances: new Set(ended) })[0];

describe("foldWorkerEvents", () => {
  it("reports a started attempt before its first heartbeat, at its resume point", () => {
    const report = fold([start("job-a#1", ["i-0aaa"], 10, 300)], []);
    expect(report).toMatchObject({ checkpointSamples: 300, completed: false, attemptsStarted: 1, lostAttempts: [] });
    expect(report?.attempt).toMatchObject({
      attemptId: "job-a#1",
      samplesDone: 300,
      startedAt: T0 + 10,
      samplesPerSecond: undefined,
      gpusPerInstance: 2,
    });
  });

  it("takes progress as the maximum and the rate of the furthest heartbeat", () => {
    const report = fold(
      [start("job-a#1", ["i-0aaa"], 0)],
      [
        heartbeat("hb-000002", "job-a#1", 120, 500, 5),
        heartbeat("hb-000001", "job-a#1", 60, 200, 3),
        checkpoint("ck-000001", "job-a#1", 100, 400),
      ],
    );
    expect(report?.attempt).toMatchObject({ samplesDone: 500, samplesPerSecond: 5, lastHeartbeatAt: T0 + 120 });
    expect(report?.checkpointSamples).toBe(400);
  });

  it("ends an attempt on completion and keeps the earliest completion time", () => {
    const report = fold(
      [start("job-a#1", ["i-0aaa"], 0)],
      [completed("done-0002", "job-a#1", 900, 1000), completed("done-0001", "job-a#1", 800, 1000)],
    );
    expect(report).toMatchObject({
      completed: true,
      completedAt: T0 + 800,
      checkpointSamples: 1000,
      attempt: undefined,
    });
  });

  it("counts a failed attempt as lost to a worker crash and starts counting the next", () => {
    const report = fold(
      [start("job-a#1", ["i-0aaa"], 0), start("job-a#2", ["i-0aaa"], 500, 200)],
      [checkpoint("ck-000001", "job-a#1", 100, 200), failed("fail-0001", "job-a#1", 300)],
    );
    expect(report?.lostAttempts).toEqual([
      { attemptId: "job-a#1", at: T0 + 300, cause: "worker-crash", message: "exit code 137 on i-0aaa: killed" },
    ]);
    expect(report).toMatchObject({ attemptsStarted: 2, checkpointSamples: 200, attempt: { attemptId: "job-a#2" } });
  });

  it("does not count a stopped attempt as lost", () => {
    const report = fold([start("job-a#1", ["i-0aaa"], 0)], [stopped("stop-0001", "job-a#1", 300, 250)]);
    expect(report).toMatchObject({ attempt: undefined, lostAttempts: [], checkpointSamples: 250, attemptsStarted: 1 });
  });

  it("counts an attempt whose instance ended without an ending event as lost with the instance", () => {
    const report = fold(
      [start("job-a#1", ["i-0aaa", "i-0bbb"], 0)],
      [heartbeat("hb-000001", "job-a#1", 60, 100)],
      ["i-0bbb"],
    );
    expect(report?.attempt).toBeUndefined();
    expect(report?.lostAttempts).toMatchObject([{ attemptId: "job-a#1", cause: "instance-lost", at: T0 + 60 }]);
  });

  it("keeps the start record's node list for multi-node attempts", () => {
    const report = fold([start("job-a#1", ["i-0aaa", "i-0bbb"], 0)], [heartbeat("hb-000001", "job-a#1", 60, 100)]);
    expect(report?.attempt?.instanceIds).toEqual(["i-0aaa", "i-0bbb"]);
  });

  it("counts a multi-node checkpoint as durable only once every node reported its part", () => {
    const nodes = ["i-0aaa", "i-0bbb"];
    const first = [checkpoint("ck-000001", "job-a#1", 100, 200, "i-0aaa")];
    expect(fold([start("job-a#1", nodes, 0)], first)?.checkpointSamples).toBe(0);
    const both = [...first, checkpoint("ck-000002", "job-a#1", 101, 200, "i-0bbb")];
    expect(fold([start("job-a#1", nodes, 0)], both)?.checkpointSamples).toBe(200);
    // A later checkpoint only node 0 uploaded leaves the resume point at the last complete one.
    const later = [...both, checkpoint("ck-000003", "job-a#1", 200, 400, "i-0aaa")];
    expect(fold([start("job-a#1", nodes, 0)], later)?.checkpointSamples).toBe(200);
  });

  it("takes a stopped multi-node attempt's resume point from the checkpoint every node saved", () => {
    const nodes = ["i-0aaa", "i-0bbb"];
    const events = [
      checkpoint("ck-000001", "job-a#1", 100, 200, "i-0aaa"),
      checkpoint("ck-000002", "job-a#1", 100, 200, "i-0bbb"),
      checkpoint("ck-000003", "job-a#1", 300, 450, "i-0aaa"),
      stopped("stop-0001", "job-a#1", 301, 450, "i-0aaa"),
      // Node 1's upload of the stop checkpoint failed: it reports its last durable one.
      stopped("stop-0002", "job-a#1", 302, 200, "i-0bbb"),
    ];
    expect(fold([start("job-a#1", nodes, 0)], events)).toMatchObject({ checkpointSamples: 200, attempt: undefined });
    const uploaded = [...events.slice(0, 4), stopped("stop-0003", "job-a#1", 302, 450, "i-0bbb")];
    expect(fold([start("job-a#1", nodes, 0)], uploaded)?.checkpointSamples).toBe(450);
  });

  it("gives the same reports for any order and any duplication of the same inputs", () => {
    const starts = [start("job-a#1", ["i-0aaa"], 0), start("job-a#2", ["i-0aaa"], 500, 200)];
    const events = [
      heartbeat("hb-000001", "job-a#1", 60, 100),
      checkpoint("ck-000001", "job-a#1", 100, 200),
      failed("fail-0001", "job-a#1", 300),
      heartbeat("hb-000002", "job-a#2", 560, 260, 6),
      heartbeat("hb-000003", "job-a#2", 620, 320, 7),
      checkpoint("ck-000002", "job-a#2", 640, 320),
    ];
    const expected = fold(starts, events);
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...events, ...events], { minLength: 2 * events.length, maxLength: 2 * events.length }),
        fc.shuffledSubarray([...starts, ...starts], { minLength: 4, maxLength: 4 }),
        (shuffledEvents, shuffledStarts) => {
          expect(fold(shuffledStarts, shuffledEvents)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reports a job nothing is known about as never started", () => {
    expect(fold([], [])).toEqual({
      jobId: "job-a",
      checkpointSamples: 0,
      completed: false,
      completedAt: undefined,
      attempt: undefined,
      attemptsStarted: 0,
      lostAttempts: [],
    });
  });

  describe("attempts an alive agent does not run", () => {
    const alive = (eventId: string, seconds: number, running: string[] = [], instanceId = "i-0aaa"): WorkerEvent => ({
      ...base(eventId, seconds, instanceId),
      kind: "agent-alive",
      runningAttempts: running,
    });
    const order = start("job-a#1", ["i-0aaa"], 0, 200);

    it("counts the attempt as lost once the node's two latest idle reports come after the grace period", () => {
      const report = fold([order], [alive("al-000001", 150), alive("al-000002", 180)]);
      expect(report?.attempt).toBeUndefined();
      expect(report?.checkpointSamples).toBe(200);
      expect(report?.lostAttempts).toEqual([
        {
          attemptId: "job-a#1",
          at: T0 + 180,
          cause: "not-running",
          message:
            "the agent on i-0aaa reported 2 times, the last 180 s after the order, that it is not running attempt job-a#1",
        },
      ]);
    });

    it("keeps waiting while one of the two latest reports is within the grace period", () => {
      const report = fold([order], [alive("al-000001", 60), alive("al-000002", 180)]);
      expect(report?.attempt?.attemptId).toBe("job-a#1");
      expect(report?.lostAttempts).toEqual([]);
    });

    it("keeps the attempt while its agent lists it as running", () => {
      const report = fold([order], [alive("al-000001", 150, ["job-a#1"]), alive("al-000002", 180, ["job-a#1"])]);
      expect(report?.attempt?.attemptId).toBe("job-a#1");
    });

    it("counts the grace period from the node's last event for the attempt", () => {
      const events = [heartbeat("hb-000001", "job-a#1", 100, 250), alive("al-000001", 150), alive("al-000002", 180)];
      expect(fold([order], events)?.attempt?.attemptId).toBe("job-a#1");
      const later = [...events, alive("al-000003", 230), alive("al-000004", 260)];
      expect(fold([order], later)?.lostAttempts.map((lost) => lost.cause)).toEqual(["not-running"]);
    });

    it("judges only node rank 0 of a multi-node attempt", () => {
      const multi = start("job-a#1", ["i-0aaa", "i-0bbb"], 0);
      const idleNodeOne = [alive("al-000001", 150, [], "i-0bbb"), alive("al-000002", 180, [], "i-0bbb")];
      expect(fold([multi], idleNodeOne)?.attempt?.attemptId).toBe("job-a#1");
      expect(fold([multi], [alive("al-000003", 150), alive("al-000004", 180)])?.attempt).toBeUndefined();
    });

    it("does not judge an attempt that already ended", () => {
      const events = [stopped("st-000001", "job-a#1", 20, 200), alive("al-000001", 150), alive("al-000002", 180)];
      expect(fold([order], events)?.lostAttempts).toEqual([]);
    });
  });
});
