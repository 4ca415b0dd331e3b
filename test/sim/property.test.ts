import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InfeasibleWorkloadError } from "../../lambdas/core/errors.ts";
import { runScenario, testCatalog, unsettledJobs } from "./fixtures/scenario.ts";
import { planWithStub, STUB_THROUGHPUT } from "./fixtures/stub-planner.ts";
import { OPEN_QUOTAS, smallWorkload } from "./fixtures/workloads.ts";

const offerTypes = Object.keys(STUB_THROUGHPUT);

const caseArbitrary = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  jobs: fc.integer({ min: 1, max: 5 }),
  samples: fc.integer({ min: 1800, max: 14_400 }),
  budgetMode: fc.boolean(),
  /** Deadline or budget as a multiple of what the first plan needs. */
  slack: fc.double({ min: 1.02, max: 3, noNaN: true }),
  checkpointable: fc.boolean(),
  interruptionRate: fc.constantFrom(0, 0.05, 0.5, 2),
  outageType: fc.option(fc.constantFrom(...offerTypes), { nil: undefined }),
  throughputBias: fc.double({ min: 0.6, max: 1.3, noNaN: true }),
  crashRate: fc.constantFrom(0, 0.2),
  chaos: fc.boolean(),
  crashEveryNthPass: fc.option(fc.integer({ min: 2, max: 5 }), { nil: undefined }),
  cancelAfterHours: fc.option(fc.double({ min: 0.1, max: 3, noNaN: true }), { nil: undefined }),
});

describe("execution under random workloads and faults", () => {
  it("never leaves an instance running and never spends above the budget (120 seeds)", async () => {
    let budgetRuns = 0;
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const base = smallWorkload({ jobs: c.jobs, samples: c.samples, checkpointable: c.checkpointable });
        const firstPlan = planWithStub({ workload: base, excludedOffers: [], quotas: OPEN_QUOTAS }, testCatalog());
        const objective = c.budgetMode
          ? { kind: "min-time" as const, budgetUsd: firstPlan.totals.expectedCostUsd * c.slack }
          : { kind: "min-cost" as const, deadlineHours: (firstPlan.totals.makespanSeconds / 3600) * c.slack };
        const workload = smallWorkload({
          jobs: c.jobs,
          samples: c.samples,
          checkpointable: c.checkpointable,
          objective,
        });
        let plan: ReturnType<typeof planWithStub>;
        try {
          plan = planWithStub({ workload, excludedOffers: [], quotas: OPEN_QUOTAS }, testCatalog());
        } catch (error) {
          expect(error).toBeInstanceOf(InfeasibleWorkloadError);
          return;
        }
        const result = await runScenario(workload, {
          plan,
          sim: {
            seed: c.seed,
            interruptionRatePerHour: () => c.interruptionRate,
            capacityOutages: c.outageType === undefined ? [] : [{ instanceType: c.outageType }],
            throughputBias: c.throughputBias,
            workerCrashRatePerHour: c.crashRate,
            duplicateEventProbability: c.chaos ? 0.5 : 0,
            shuffleEvents: c.chaos,
          },
          ...(c.crashEveryNthPass === undefined
            ? {}
            : { crashBeforeSave: (pass: number) => pass % (c.crashEveryNthPass ?? 2) === 0 }),
          ...(c.cancelAfterHours === undefined ? {} : { cancelAfterSeconds: c.cancelAfterHours * 3600 }),
        });
        expect(result.instancesLeftRunning).toBe(0);
        expect(result.hitHorizon).toBe(false);
        if (result.record.status === "completed") expect(unsettledJobs(result)).toEqual([]);
        if (objective.kind === "min-time") {
          budgetRuns++;
          expect(result.spendUsd).toBeLessThanOrEqual(objective.budgetUsd);
        }
      }),
      { numRuns: 120, seed: 20_261_127 },
    );
    expect(budgetRuns).toBeGreaterThan(20);
  });
});
