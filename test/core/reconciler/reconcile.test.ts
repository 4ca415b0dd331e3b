import { describe, expect, it } from "vitest";
import type { Action } from "../../../lambdas/core/reconciler/execution-record.ts";
import { reconcile } from "../../../lambdas/core/reconciler/reconcile.ts";
import {
  context,
  freshRecord,
  idleReport,
  instance,
  observed,
  runningReport,
  twoJobPlan,
  twoJobWorkload,
} from "./fixtures.ts";

function kinds(actions: readonly Action[]): string[] {
  return actions.map((action) => action.kind);
}

function launches(actions: readonly Action[]): string[] {
  return actions.flatMap((action) => (action.kind === "launch" ? [action.slot] : []));
}

describe("reconcile", () => {
  it("launches only the slots whose planned start has come", () => {
    const { actions } = reconcile(freshRecord(), observed(0), context());
    expect(launches(actions)).toEqual(["s1"]);
  });

  it("gives the same actions and launch tokens when run twice on the same observation", () => {
    const record = freshRecord();
    const first = reconcile(record, observed(3600), context());
    const second = reconcile(record, observed(3600), context());
    expect(second.actions).toEqual(first.actions);
    expect(launches(first.actions)).toEqual(["s1", "s2"]);
  });

  it("does not launch a slot again once an instance carries its tags, in any state", () => {
    const record = freshRecord();
    const pending = instance(record, "s1", { state: "pending", runningSince: undefined });
    const { actions } = reconcile(record, observed(60, { instances: [pending] }), context());
    expect(launches(actions)).toEqual([]);
    expect(kinds(actions)).not.toContain("assign");
  });

  it("assigns a job once its instance runs, with an attempt id derived from the attempts the workers saw", () => {
    const record = freshRecord();
    const jobs = [idleReport("job-1", { attemptsStarted: 2, checkpointSamples: 1200 }), idleReport("job-2")];
    const { actions } = reconcile(record, observed(300, { instances: [instance(record, "s1")], jobs }), context());
    const assign = actions.find((action) => action.kind === "assign");
    expect(assign).toEqual({
      kind: "assign",
      request: {
        jobId: "job-1",
        attemptId: "job-1#3",
        instanceIds: ["i-s1"],
        gpusPerInstance: 1,
        fromSamples: 1200,
        totalSamples: 7200,
        plannedSamplesPerSecond: 1,
        checkpointIntervalSeconds: 900,
        checkpointable: true,
      },
    });
  });

  describe("an attempt its agent never ran", () => {
    const notRunning = (n: number) => ({
      attemptId: `job-1#${n}`,
      at: 600 + n,
      cause: "not-running" as const,
      message: `the agent on i-s1 reported 2 times, the last 300 s after the order, that it is not running attempt job-1#${n}`,
    });

    it("stops the lost attempt, says why, and re-assigns the job from its last durable checkpoint", () => {
      const record = freshRecord();
      const jobs = [
        idleReport("job-1", { attemptsStarted: 1, checkpointSamples: 400, lostAttempts: [notRunning(1)] }),
        idleReport("job-2"),
      ];
      const { actions } = reconcile(record, observed(900, { instances: [instance(record, "s1")], jobs }), context());
      expect(kinds(actions)).toEqual(["checkpoint-and-requeue", "assign"]);
      expect(actions[0]).toEqual({
        kind: "checkpoint-and-requeue",
        jobId: "job-1",
        attemptId: "job-1#1",
        reason: `attempt lost: ${notRunning(1).message}; re-assigned as job-1#2 from 400 samples`,
      });
      expect(actions[1]).toMatchObject({ request: { attemptId: "job-1#2", instanceIds: ["i-s1"], fromSamples: 400 } });
    });

    it("does not stop an earlier lost attempt again when it re-assigns a later one", () => {
      const record = freshRecord();
      const jobs = [idleReport("job-1", { attemptsStarted: 2, lostAttempts: [notRunning(1)] }), idleReport("job-2")];
      const { actions } = reconcile(record, observed(900, { instances: [instance(record, "s1")], jobs }), context());
      expect(kinds(actions)).toEqual(["assign"]);
    });

    it("fails the job once its agents did not run as many attempts as the worker-crash limit allows", () => {
      const record = freshRecord();
      const lostAttempts = [notRunning(1), notRunning(2), notRunning(3)];
      const jobs = [idleReport("job-1", { attemptsStarted: 3, lostAttempts }), idleReport("job-2")];
      const result = reconcile(record, observed(900, { instances: [instance(record, "s1")], jobs }), context());
      expect(result.record.jobs["job-1"]).toMatchObject({ status: "failed" });
      expect(result.record.jobs["job-1"]?.reason).toMatch(/^agents did not run 3 attempts \(last: the agent on i-s1/);
      expect(kinds(result.actions)).not.toContain("assign");
    });
  });

  it("never starts a job whose attempt already runs", () => {
    const record = freshRecord();
    const jobs = [runningReport("job-1", ["i-s1"]), idleReport("job-2")];
    const { actions } = reconcile(record, observed(900, { instances: [instance(record, "s1")], jobs }), context());
    expect(kinds(actions)).toEqual([]);
  });

  it("terminates an instance as soon as no pending assignment needs it and records the job done", () => {
    const record = freshRecord();
    const jobs = [
      idleReport("job-1", { completed: true, completedAt: 7000, checkpointSamples: 7200 }),
      idleReport("job-2"),
    ];
    const { record: next, actions } = reconcile(
      record,
      observed(7010, { instances: [instance(record, "s1")], jobs }),
      context(),
    );
    expect(next.jobs["job-1"]?.status).toBe("done");
    expect(actions).toContainEqual({ kind: "mark-done", jobId: "job-1" });
    expect(actions).toContainEqual({
      kind: "terminate",
      instanceIds: ["i-s1"],
      reason: "no future assignment needs it",
    });
  });

  it("excludes an offer after a capacity error, asks for a re-plan, and ingests a repeated failure once", () => {
    const record = freshRecord();
    const failure = {
      clientToken: "t1",
      kind: "capacity" as const,
      code: "InsufficientInstanceCapacity",
      instanceType: "g5.xlarge",
      market: "spot" as const,
      availabilityZone: "us-east-1a",
      at: 5,
    };
    const once = reconcile(record, observed(5, { launchFailures: [failure] }), context());
    const twice = reconcile(record, observed(5, { launchFailures: [failure, failure] }), context());
    expect(once.record.excludedOffers).toEqual([{ instanceType: "g5.xlarge", market: "spot" }]);
    expect(twice.record).toEqual(once.record);
    expect(once.actions).toContainEqual({
      kind: "replan",
      reason: "InsufficientInstanceCapacity launching g5.xlarge (spot)",
      broken: true,
    });
    expect(launches(once.actions)).toEqual([]);
  });

  it("lowers the quota the planner sees to what runs after VcpuLimitExceeded", () => {
    const record = freshRecord();
    const failure = {
      clientToken: "t2",
      kind: "quota" as const,
      code: "VcpuLimitExceeded",
      instanceType: "g5.xlarge",
      market: "on-demand" as const,
      availabilityZone: undefined,
      at: 3600,
    };
    const running = instance(record, "s2", { id: "i-other" });
    const { record: next } = reconcile(
      record,
      observed(3600, { launchFailures: [failure], instances: [running] }),
      context(),
    );
    expect(next.quotaCuts).toEqual([{ group: "G", market: "on-demand", vcpus: 4, region: "us-east-1" }]);
  });

  it("checkpoints and requeues the job of an instance announced for reclaim and re-plans", () => {
    const record = freshRecord();
    const doomed = instance(record, "s1", { interruptionNoticeAt: 1000 });
    const jobs = [runningReport("job-1", ["i-s1"]), idleReport("job-2")];
    const { record: next, actions } = reconcile(record, observed(1000, { instances: [doomed], jobs }), context());
    expect(actions).toContainEqual({
      kind: "checkpoint-and-requeue",
      jobId: "job-1",
      attemptId: "job-1#1",
      reason: "spot interruption of i-s1",
    });
    expect(next.interruptedInstanceIds).toEqual(["i-s1"]);
    expect(next.replanRequest?.broken).toBe(true);
    // The instance stays until the agent has saved and stopped: the stop order is read, not run, by this pass.
    expect(kinds(actions)).not.toContain("terminate");
    const stopped = idleReport("job-1", { attemptsStarted: 1, checkpointSamples: 40 });
    const after = reconcile(
      next,
      observed(1010, { instances: [doomed], jobs: [stopped, idleReport("job-2")] }),
      context(),
    );
    expect(after.actions).toContainEqual({
      kind: "terminate",
      instanceIds: ["i-s1"],
      reason: "no future assignment needs it",
    });
  });

  it("on cancel checkpoints every running job, terminates everything, and finishes once nothing is left", () => {
    const record = { ...freshRecord(), cancelRequested: true };
    const jobs = [runningReport("job-1", ["i-s1"]), idleReport("job-2")];
    const live = reconcile(record, observed(900, { instances: [instance(record, "s1")], jobs }), context());
    expect(live.record.status).toBe("cancelled");
    expect(kinds(live.actions)).toEqual(["checkpoint-and-requeue", "terminate"]);
    const gone = instance(record, "s1", { state: "terminated" });
    const after = reconcile(live.record, observed(990, { instances: [gone] }), context());
    expect(after.actions).toEqual([{ kind: "finish", status: "cancelled", reason: "cancelled on request" }]);
    expect(Object.keys(after.record.jobs)).toEqual(["job-1", "job-2"]);
  });

  it("stops for budget before the running instances could cross it", () => {
    const workload = twoJobWorkload({ kind: "min-time", budgetUsd: 5 });
    const record = freshRecord(workload);
    const jobs = [runningReport("job-1", ["i-s1"]), idleReport("job-2")];
    const pricey = instance(record, "s1", { hourlyPriceUsd: 40 });
    const { record: next, actions } = reconcile(
      record,
      observed(900, { instances: [pricey], jobs, spendUsd: 4 }),
      context(workload),
    );
    expect(next.status).toBe("stopped-for-budget");
    expect(kinds(actions)).toEqual(["stop-for-budget", "checkpoint-and-requeue", "terminate"]);
  });

  it("projects slots not yet launched at their worst-case price against the budget", () => {
    const workload = twoJobWorkload({ kind: "min-time", budgetUsd: 50 });
    const withSpotBudget = (budgetHourlyPriceUsd: number) => {
      const plan = twoJobPlan();
      return {
        ...plan,
        instances: plan.instances.map((planned) =>
          planned.market === "spot" ? { ...planned, budgetHourlyPriceUsd } : planned,
        ),
      };
    };
    // Expected 0.42 $/h for the spot slot: far below the budget. Worst case 100 $/h: above it.
    const calm = reconcile(freshRecord(workload, withSpotBudget(0.42)), observed(0), context(workload));
    const worst = reconcile(freshRecord(workload, withSpotBudget(100)), observed(0), context(workload));
    expect(calm.record.replanRequest).toBeUndefined();
    expect(worst.record.replanRequest).toEqual({
      reason: "projected spend exceeds the $50.00 budget",
      broken: true,
      at: 0,
    });
  });

  it("keeps a spot job on spot once the deadline is lost (a late plan was adopted): moving cannot save it", () => {
    const workload = twoJobWorkload({ kind: "min-cost", deadlineHours: 2.05 });
    const record = { ...freshRecord(workload), deadlineLost: true };
    const jobs = [runningReport("job-1", ["i-s1"], { samplesDone: 1000 }), idleReport("job-2")];
    const { record: next, actions } = reconcile(
      record,
      observed(900, { instances: [instance(record, "s1")], jobs }),
      context(workload),
    );
    expect(next.jobs["job-1"]?.onDemandOnly).toBe(false);
    expect(actions.filter((action) => action.kind === "checkpoint-and-requeue")).toEqual([]);
    expect(actions.some((action) => action.kind === "replan")).toBe(false);
  });

  it("marks a projected deadline miss as late (the plan is runnable; a later, dearer candidate is kept out)", () => {
    const workload = twoJobWorkload({ kind: "min-cost", deadlineHours: 3.6 });
    const record = freshRecord(workload);
    const slow = runningReport("job-2", ["i-s2"], { startedAt: 3840, samplesDone: 100, samplesPerSecond: 0.5 });
    const { record: next } = reconcile(
      record,
      observed(4000, {
        instances: [instance(record, "s1"), instance(record, "s2")],
        jobs: [runningReport("job-1", ["i-s1"], { samplesDone: 3700 }), slow],
      }),
      context(workload),
    );
    expect(next.replanRequest).toMatchObject({ broken: true, late: true });
    expect(next.replanRequest?.reason).toMatch(/^deadline: job-2 projected to end \d+ min late$/);
  });

  it("pins a spot job to on-demand and asks for a re-plan, without stopping it, when its slack can no longer absorb an interruption", () => {
    const workload = twoJobWorkload({ kind: "min-cost", deadlineHours: 2.05 });
    const record = freshRecord(workload);
    const jobs = [runningReport("job-1", ["i-s1"], { samplesDone: 1000 }), idleReport("job-2")];
    const { record: next, actions } = reconcile(
      record,
      observed(900, { instances: [instance(record, "s1")], jobs }),
      context(workload),
    );
    expect(next.jobs["job-1"]?.onDemandOnly).toBe(true);
    // Not stopped before a plan that moves it is adopted: a declined hedge must not cost a restart.
    expect(actions.filter((action) => action.kind === "checkpoint-and-requeue")).toEqual([]);
    expect(actions).toContainEqual({
      kind: "replan",
      reason: "deadline: job-1 moves from spot to on-demand",
      broken: true,
    });
    // The hedge declined (the engine kept the plan: keepPlan clears the request): the next
    // pass leaves the job training where it is and does not ask again.
    const after = reconcile(
      { ...next, replanRequest: undefined },
      observed(960, { instances: [instance(record, "s1")], jobs }),
      context(workload),
    );
    expect(after.actions.filter((a) => a.kind === "checkpoint-and-requeue" || a.kind === "replan")).toEqual([]);
  });

  it("asks for one re-plan per attempt when measured throughput strays beyond the threshold", () => {
    const record = freshRecord();
    const jobs = [runningReport("job-1", ["i-s1"], { samplesPerSecond: 0.7 }), idleReport("job-2")];
    const first = reconcile(record, observed(1200, { instances: [instance(record, "s1")], jobs }), context());
    expect(first.record.replanRequest?.reason).toBe("throughput: job-1 runs at 70% of plan");
    const settled = { ...first.record, replanRequest: undefined };
    const again = reconcile(settled, observed(1260, { instances: [instance(record, "s1")], jobs }), context());
    expect(kinds(again.actions)).not.toContain("replan");
  });

  it("moves an attempt that sits where the current plan no longer wants it", () => {
    const record = freshRecord();
    const stray = instance(record, "s1", { id: "i-old", tags: { "saturn:workload": "sim-test", "saturn:plan": "0" } });
    const jobs = [runningReport("job-1", ["i-old"]), idleReport("job-2")];
    const { actions } = reconcile(record, observed(600, { instances: [stray], jobs }), context());
    expect(actions).toContainEqual({
      kind: "checkpoint-and-requeue",
      jobId: "job-1",
      attemptId: "job-1#1",
      reason: "plan v1 moves it",
    });
    expect(kinds(actions)).not.toContain("terminate");
    // Once the attempt has stopped (with its checkpoint), the stray instance goes.
    const stopped = idleReport("job-1", { attemptsStarted: 1, checkpointSamples: 300 });
    const after = reconcile(
      record,
      observed(610, { instances: [stray], jobs: [stopped, idleReport("job-2")] }),
      context(),
    );
    expect(after.actions).toContainEqual({
      kind: "terminate",
      instanceIds: ["i-old"],
      reason: "no future assignment needs it",
    });
  });
});
