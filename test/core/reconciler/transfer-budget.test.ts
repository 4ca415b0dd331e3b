/** The budget during a run counts the inter-region transfer of jobs placed outside the home region. */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import { runOnSimulatedCloud } from "../../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { InfeasibleWorkloadError } from "../../../lambdas/core/errors.ts";
import type { Plan } from "../../../lambdas/core/planner/plan.ts";
import { reconcile } from "../../../lambdas/core/reconciler/reconcile.ts";
import {
  chargeStartedTransfers,
  spentUsd,
  type TransferPrices,
  transferPrices,
  transferToComeUsd,
} from "../../../lambdas/core/reconciler/transfer-ledger.ts";
import { OPEN_QUOTAS } from "../../sim/fixtures/workloads.ts";
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

/**
 * Instances at their budget prices: s1 7,440 s x 0.42 $/h = $0.87, s2 9,400 s x 1.006 $/h
 * = $2.63, $3.49 in all. job-1 runs in us-west-2 and moves $4 of data and checkpoints home.
 */
const TRANSFER_USD = 4;
const BUDGET_USD = 5;

function awayPlan(transferUsd: number | undefined): Plan {
  const plan = twoJobPlan();
  return {
    ...plan,
    objective: "min-time",
    instances: plan.instances.map((slot) =>
      slot.id === "s1" ? { ...slot, region: "us-west-2", availabilityZone: undefined } : slot,
    ),
    assignments: plan.assignments.map((assignment) =>
      assignment.jobId === "job-1" && transferUsd !== undefined ? { ...assignment, transferUsd } : assignment,
    ),
    totals: { ...plan.totals, ...(transferUsd === undefined ? {} : { transferCostUsd: transferUsd }) },
  };
}

const workload = {
  ...twoJobWorkload({ kind: "min-time", budgetUsd: BUDGET_USD }),
  regions: ["us-east-1", "us-west-2"],
};

describe("the budget check with inter-region transfer", () => {
  it("re-plans a plan whose instances fit the budget but whose transfer takes it over", () => {
    const { actions } = reconcile(freshRecord(workload, awayPlan(TRANSFER_USD)), observed(0), context(workload));
    expect(actions.find((action) => action.kind === "replan")).toMatchObject({
      reason: `projected spend exceeds the $${BUDGET_USD.toFixed(2)} budget`,
      broken: true,
    });
    expect(actions.some((action) => action.kind === "launch")).toBe(false);
  });

  it("launches the same plan when it moves no data", () => {
    const { actions } = reconcile(freshRecord(workload, awayPlan(undefined)), observed(0), context(workload));
    expect(actions.some((action) => action.kind === "replan")).toBe(false);
    expect(actions.filter((action) => action.kind === "launch")).toHaveLength(1);
  });

  it("stops every instance once billed spend plus transfer charged nears the budget", () => {
    const record = freshRecord(workload, awayPlan(TRANSFER_USD));
    const charged = {
      ...record,
      jobs: {
        ...record.jobs,
        "job-1": {
          ...(record.jobs["job-1"] ?? pendingJobState()),
          status: "done" as const,
          transferUsd: TRANSFER_USD,
          transferChargedInPlan: 1,
        },
      },
    };
    const s2 = instance(charged, "s2", { launchedAt: 3600, runningSince: 3800 });
    const state = observed(4000, { instances: [s2], jobs: [idleReport("job-2")], spendUsd: 1 });
    const stopped = reconcile(charged, state, context(workload));
    expect(stopped.record.status).toBe("stopped-for-budget");
    expect(stopped.record.statusReason).toContain("spend $5.00");
    const uncharged = reconcile(
      { ...charged, jobs: { ...charged.jobs, "job-1": { ...pendingJobState(), status: "done" } } },
      state,
      context(workload),
    );
    expect(uncharged.record.status).toBe("running");
  });
});

describe("chargeStartedTransfers", () => {
  const record = freshRecord(workload, awayPlan(TRANSFER_USD));
  const s1 = instance(record, "s1");
  const bySlot = new Map([["s1", s1]]);

  it("charges a job's transfer once when it runs on its assignment, and never twice for one plan version", () => {
    const reports = new Map([["job-1", runningReport("job-1", [s1.id])]]);
    const once = chargeStartedTransfers(record, reports, bySlot);
    const twice = chargeStartedTransfers(once, reports, bySlot);
    expect(once.jobs["job-1"]?.transferUsd).toBe(TRANSFER_USD);
    expect(twice.jobs["job-1"]?.transferUsd).toBe(TRANSFER_USD);
    expect(spentUsd(twice, 1)).toBe(1 + TRANSFER_USD);
    expect(transferToComeUsd(record)).toBe(TRANSFER_USD);
    expect(transferToComeUsd(twice)).toBe(0);
  });

  it("charges a job that completed between two passes", () => {
    const reports = new Map([["job-1", idleReport("job-1", { completed: true, completedAt: 7000 })]]);
    expect(chargeStartedTransfers(record, reports, bySlot).jobs["job-1"]?.transferUsd).toBe(TRANSFER_USD);
  });

  /** $1 of inputs, $0.50 a checkpoint, one every 15 minutes. */
  const prices: TransferPrices = {
    inUsd: () => 1,
    checkpointUsd: () => 0.5,
    checkpointIntervalSeconds: () => 900,
  };

  it("tops up, instead of charging again, an attempt a re-plan keeps where it runs", () => {
    const reports = new Map([["job-1", runningReport("job-1", [s1.id], { startedAt: 240 })]]);
    const first = chargeStartedTransfers(record, reports, bySlot, prices, 300);
    expect(first.jobs["job-1"]?.transferUsd).toBe(TRANSFER_USD);
    expect(first.jobs["job-1"]?.transferStint).toEqual({
      attemptId: "job-1#1",
      region: "us-west-2",
      startedAt: 240,
      chargedUsd: TRANSFER_USD,
    });
    // A re-plan (version 2) keeps job-1 on s1 with a $4 assignment for the rest of its run.
    // 1,760 s have passed: one checkpoint written, so the stint may move $1 + $0.50 + $3 now.
    const replanned = { ...first, planVersion: 2 };
    const input = { prices, reports, bySlot, now: 2000 };
    expect(transferToComeUsd(replanned, input)).toBeCloseTo(0.5, 9);
    const second = chargeStartedTransfers(replanned, reports, bySlot, prices, 2000);
    expect(second.jobs["job-1"]?.transferUsd).toBeCloseTo(TRANSFER_USD + 0.5, 9);
    // Without prices each version is charged in full, as before.
    expect(chargeStartedTransfers(replanned, reports, bySlot).jobs["job-1"]?.transferUsd).toBe(2 * TRANSFER_USD);
  });

  it("charges a new attempt on new instances in full, plus the checkpoint it resumes from", () => {
    const reports = new Map([["job-1", runningReport("job-1", [s1.id], { startedAt: 240 })]]);
    const first = chargeStartedTransfers(record, reports, bySlot, prices, 300);
    const replacement = instance(record, "s1", { id: "i-replacement" });
    const resumed = new Map([
      [
        "job-1",
        {
          ...runningReport("job-1", [replacement.id], { attemptId: "job-1#2", startedAt: 3000 }),
          checkpointSamples: 500,
        },
      ],
    ]);
    const moved = chargeStartedTransfers(
      { ...first, planVersion: 2 },
      resumed,
      new Map([["s1", replacement]]),
      prices,
      3100,
    );
    expect(moved.jobs["job-1"]?.transferUsd).toBeCloseTo(2 * TRANSFER_USD + 0.5, 9);
    expect(moved.jobs["job-1"]?.transferStint).toMatchObject({ attemptId: "job-1#2", chargedUsd: TRANSFER_USD + 0.5 });
  });

  it("prices a workload's pieces from its jobs: nothing at home, inputs and checkpoints away", () => {
    const workloadPrices = transferPrices(workload);
    expect(workloadPrices.inUsd("job-1", "us-east-1")).toBe(0);
    expect(workloadPrices.inUsd("job-1", "us-west-2")).toBeGreaterThan(0);
    expect(workloadPrices.checkpointUsd("job-1", "us-west-2")).toBeGreaterThan(0);
    expect(workloadPrices.checkpointIntervalSeconds("job-1")).toBe(workload.spot.checkpointIntervalMinutes * 60);
  });

  it("charges nothing for a job that has not started", () => {
    const reports = new Map([["job-1", idleReport("job-1")]]);
    expect(chargeStartedTransfers(record, reports, bySlot)).toBe(record);
  });
});

describe("a run on the simulated cloud whose transfer would break the budget", () => {
  it("launches nothing and stops for the budget when no re-plan fits", async () => {
    const catalog = loadCatalog();
    const result = await runOnSimulatedCloud({
      workload,
      catalog,
      plan: awayPlan(TRANSFER_USD),
      quotas: OPEN_QUOTAS,
      planner: async () => {
        throw new InfeasibleWorkloadError("budget", "no plan within the budget");
      },
    });
    expect(result.record.status).toBe("stopped-for-budget");
    expect(result.actions.some(({ action }) => action.kind === "launch")).toBe(false);
    expect(result.spendUsd).toBe(0);
  });
});

function pendingJobState() {
  return {
    status: "pending" as const,
    reason: undefined,
    finishedAt: undefined,
    onDemandOnly: false,
    deviationReportedInPlan: undefined,
    throughputReportedForAttempt: undefined,
  };
}
