import { describe, expect, it } from "vitest";
import { milpPlanners } from "../../cli/run/planners.ts";
import { runOnSimulatedCloud } from "../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import { parseWorkload } from "../../lambdas/core/spec/workload.ts";
import { testCatalog, unsettledJobs } from "./fixtures/scenario.ts";
import { OPEN_QUOTAS } from "./fixtures/workloads.ts";

describe("execution with the MILP planner", () => {
  it("plans with HiGHS, re-plans through an interruption storm and a capacity outage, and leaves nothing running", async () => {
    const workload = parseWorkload({
      name: "milp-sim",
      objective: { kind: "min-cost", deadlineHours: 10 },
      markets: ["spot", "on-demand"],
      instanceTypes: { allow: ["g5", "g6e"] },
      spot: { checkpointIntervalMinutes: 15, restartMinutes: 3 },
      planner: { timeLimitSeconds: 3, bootMinutes: 4 },
      jobs: [
        { id: "small-a", model: "gpt2-xl", batchSize: 16, work: { samples: 60000 } },
        { id: "small-b", model: "gpt2-xl", batchSize: 16, work: { samples: 90000 } },
      ],
    });
    const planners = milpPlanners({
      catalog: testCatalog(),
      quotas: OPEN_QUOTAS,
      profiles: new InMemoryProfileStore([]),
      planSeconds: 3,
      replanSeconds: 2,
    });
    const planning = await planners.initial(workload);
    const preferred = planning.plan.instances[0];
    expect(preferred).toBeDefined();
    const result = await runOnSimulatedCloud({
      workload,
      catalog: testCatalog(),
      plan: planning.plan,
      planner: planners.remaining,
      quotas: OPEN_QUOTAS,
      sim: {
        seed: 42,
        interruptionRatePerHour: () => 1.5,
        capacityOutages: [{ instanceType: preferred?.instanceType ?? "", from: 1800 }],
      },
    });
    expect(result.record.replans.length).toBeGreaterThan(0);
    expect(result.record.status).toBe("completed");
    expect(unsettledJobs(result)).toEqual([]);
    expect(result.instancesLeftRunning).toBe(0);
    const deadline = 10 * 3600;
    for (const job of Object.values(result.record.jobs))
      expect(job.finishedAt ?? Infinity).toBeLessThanOrEqual(deadline);
  });
});
