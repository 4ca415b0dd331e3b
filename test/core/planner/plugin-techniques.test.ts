/**
 * Plug-in techniques in the planner: their configurations are candidates exactly when a
 * profile record gives them a figure (a measurement, or the plug-in's own search estimate),
 * and the MILP then chooses among them like among the built-ins.
 */
import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../../lambdas/adapters/highs-solver.ts";
import { enumerateCandidates } from "../../../lambdas/core/estimator/candidates.ts";
import { estimateThroughput } from "../../../lambdas/core/estimator/estimate.ts";
import { jobSignature } from "../../../lambdas/core/estimator/job-signature.ts";
import { InMemoryProfileStore } from "../../../lambdas/core/estimator/profiles.ts";
import type { Configuration, ProfileRecord } from "../../../lambdas/core/estimator/types.ts";
import { planWorkload } from "../../../lambdas/core/planner/plan-workload.ts";
import { chooseProfilingRuns } from "../../../lambdas/core/planner/profiling-phase.ts";
import { validatePlan } from "../../../lambdas/core/planner/validate-plan.ts";
import { parseWorkload, type Workload } from "../../../lambdas/core/spec/workload.ts";
import { catalogOf, quotasOf, REGION } from "./fixtures.ts";

// Invented prices (test inputs, not AWS facts): one 1-GPU type.
const catalog = catalogOf([{ name: "t.small", gpus: 1, vcpus: 4, onDemand: 1, spot: 0.4 }]);
const quotas = quotasOf();
const PLUGIN = "ddp-accumulate";
// A GPT-2-small-shaped decoder (124M parameters): fits one 16 GiB GPU under ddp.
const SMALL_DECODER = {
  family: "decoder",
  parameters: 124_000_000,
  layers: 12,
  hiddenSize: 768,
  sequenceLength: 512,
  vocabularySize: 50_257,
};

function workload(): Workload {
  return parseWorkload({
    name: "plugins",
    region: REGION,
    objective: { kind: "min-cost", deadlineHours: 48 },
    markets: ["on-demand"],
    planner: { bootMinutes: 5, timeLimitSeconds: 20, mipGap: 0 },
    plugins: [{ name: PLUGIN, module: "s3://saturn-plugins/accumulation_plugin.py" }],
    jobs: [{ id: "a", model: SMALL_DECODER, batchSize: 8, work: { samples: 20_000 }, techniques: ["ddp", PLUGIN] }],
  });
}

const oneGpu = (technique: string): Configuration => ({ technique, instanceType: "t.small", nodes: 1, gpusPerNode: 1 });

function record(technique: string, samplesPerSecond: number, extra: Partial<ProfileRecord> = {}): ProfileRecord {
  const job = workload().jobs[0] as Workload["jobs"][number];
  return {
    jobSignature: jobSignature(job),
    ...oneGpu(technique),
    samplesPerSecond,
    peakMemoryGiBPerGpu: 3,
    measuredAt: "2026-12-02T05:00:00Z",
    where: "test",
    ...extra,
  };
}

/** The estimator's ddp figure on one GPU: the built-in the plug-in has to beat. */
function ddpEstimate(): number {
  const estimate = estimateThroughput(workload().jobs[0] as Workload["jobs"][number], oneGpu("ddp"), catalog);
  if (!estimate.fits) throw new Error(`test setup: ddp does not fit: ${estimate.reason}`);
  return estimate.samplesPerSecond;
}

async function plan(records: readonly ProfileRecord[]) {
  return planWorkload({
    workload: workload(),
    catalog,
    quotas,
    profiles: new InMemoryProfileStore(records),
    solver: new HighsSolver(),
  });
}

describe("plug-in candidates", () => {
  it("leave a plug-in configuration without a figure out, saying why", () => {
    const job = workload().jobs[0] as Workload["jobs"][number];
    const candidates = enumerateCandidates(job, {
      catalog,
      region: REGION,
      markets: ["on-demand"],
      instanceTypes: catalog.instanceTypes,
      profiles: new InMemoryProfileStore([]),
    });
    const plugin = candidates.filter((candidate) => candidate.config.technique === PLUGIN);
    expect(plugin.length).toBeGreaterThan(0);
    for (const candidate of plugin) {
      expect(candidate.estimate.fits).toBe(false);
      expect(candidate.estimate.fits ? "" : candidate.estimate.reason).toContain(
        `plug-in technique '${PLUGIN}' has no throughput figure`,
      );
    }
  });

  it("price a plug-in's own search estimate as an estimate, and a measurement as measured", () => {
    const job = workload().jobs[0] as Workload["jobs"][number];
    const context = {
      catalog,
      region: REGION,
      markets: ["on-demand"] as const,
      instanceTypes: catalog.instanceTypes,
    };
    const estimated = record(PLUGIN, 40, { basis: "plugin-estimate", measuredAt: "2026-12-02T06:00:00Z" });
    const measured = record(PLUGIN, 25);
    const fromEstimate = enumerateCandidates(job, { ...context, profiles: new InMemoryProfileStore([estimated]) });
    const fromBoth = enumerateCandidates(job, {
      ...context,
      profiles: new InMemoryProfileStore([estimated, measured]),
    });
    const pick = (list: typeof fromEstimate) =>
      list.find((c) => c.config.technique === PLUGIN && c.config.nodes === 1)?.estimate;
    expect(pick(fromEstimate)).toMatchObject({ fits: true, samplesPerSecond: 40, source: "estimated" });
    // The measurement wins although the estimate is newer.
    expect(pick(fromBoth)).toMatchObject({ fits: true, samplesPerSecond: 25, source: "measured" });
  });
});

describe("planning with a plug-in technique", () => {
  it("chooses a plug-in whose measured throughput beats the built-ins", async () => {
    const ddp = ddpEstimate();
    const { plan: chosen } = await plan([record("ddp", ddp), record(PLUGIN, 3 * ddp)]);
    expect(chosen.assignments.map((a) => [a.jobId, a.technique, a.throughputSource])).toEqual([
      ["a", PLUGIN, "measured"],
    ]);
    expect(validatePlan(chosen, { workload: workload(), catalog, quotas })).toEqual([]);
    const considered = chosen.considered[0]?.candidates ?? [];
    expect(considered.find((c) => c.chosen)?.config).toEqual(oneGpu(PLUGIN));
    // The plug-in's shapes without a figure are listed with the reason.
    const unfigured = considered.filter((c) => c.config.technique === PLUGIN && c.config.nodes > 1);
    expect(unfigured.length).toBeGreaterThan(0);
    expect(unfigured.every((c) => !c.fits && (c.reason ?? "").includes("no throughput figure"))).toBe(true);
  }, 60_000);

  it("does not choose a plug-in whose search says it does not fit, nor one without a figure", async () => {
    const ddp = ddpEstimate();
    const notFitting = record(PLUGIN, 0, {
      fits: false,
      reason: "batch 8 does not split evenly over 3 GPUs",
      basis: "plugin-estimate",
    });
    const plans = [];
    for (const records of [[notFitting], []]) {
      const { plan: chosen } = await plan(records);
      expect(chosen.assignments.map((a) => a.technique)).toEqual(["ddp"]);
      expect(chosen.assignments[0]?.samplesPerSecond).toBeCloseTo(ddp, 6);
      plans.push(chosen);
    }
    const reason = plans[0]?.considered[0]?.candidates.find(
      (c) => c.config.technique === PLUGIN && c.config.nodes === 1,
    )?.reason;
    expect(reason).toContain(`${PLUGIN}'s search: does not fit (batch 8 does not split evenly over 3 GPUs`);
  }, 60_000);

  it("lets the profiling phase measure a plug-in configuration priced by its own estimate", async () => {
    const ddp = ddpEstimate();
    const estimate = record(PLUGIN, 3 * ddp, { basis: "plugin-estimate" });
    const { plan: chosen } = await plan([estimate]);
    expect(chosen.assignments[0]).toMatchObject({ technique: PLUGIN, throughputSource: "estimated" });
    const choice = chooseProfilingRuns(
      chosen,
      workload(),
      new InMemoryProfileStore([estimate]),
      { budgetUsd: 5, maxMinutes: 60, marginPercent: 0, warmupSteps: 2, measuredSteps: 5 },
      catalog,
    );
    expect(choice.runs.map((run) => [run.config, run.because])).toEqual([[oneGpu(PLUGIN), "chosen"]]);
  }, 60_000);

  it("lets the profiling phase measure a plug-in configuration without a figure on the chosen shape", async () => {
    const { plan: chosen } = await plan([]);
    expect(chosen.assignments[0]?.technique).toBe("ddp");
    const choice = chooseProfilingRuns(
      chosen,
      workload(),
      new InMemoryProfileStore([]),
      { budgetUsd: 5, maxMinutes: 60, marginPercent: 0, warmupSteps: 2, measuredSteps: 5 },
      catalog,
    );
    // Equal prices; the order among equals is by key.
    const runs = [...choice.runs].sort((a, b) => a.because.localeCompare(b.because));
    expect(runs.map((run) => [run.config, run.because])).toEqual([
      [oneGpu("ddp"), "chosen"],
      [oneGpu(PLUGIN), "plug-in-without-figure"],
    ]);
    // Priced at the step time of the configuration whose shape it shares.
    expect(runs[1]?.estimatedSamplesPerSecond).toBe(runs[0]?.estimatedSamplesPerSecond);
    expect(runs[1]?.costUsd).toBe(runs[0]?.costUsd);
  }, 60_000);
});
