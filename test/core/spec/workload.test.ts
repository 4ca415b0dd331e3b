import { describe, expect, it } from "vitest";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";
import { parseWorkload, parseWorkloadText } from "../../../lambdas/core/spec/workload.ts";

const minimal = {
  name: "sweep",
  objective: { kind: "min-cost", deadlineHours: 24 },
  jobs: [{ id: "a", model: "gpt2-xl", batchSize: 16, work: { samples: 1000 } }],
};

function issuesOf(data: unknown): { path: string; message: string }[] {
  try {
    parseWorkload(data);
  } catch (error) {
    if (error instanceof InvalidWorkloadError) return [...error.issues];
    throw error;
  }
  throw new Error("expected the workload to be rejected");
}

describe("parseWorkload", () => {
  it("fills defaults for a minimal spec", () => {
    const workload = parseWorkload(minimal);
    expect(workload.region).toBe("us-east-1");
    expect(workload.markets).toEqual(["spot", "on-demand"]);
    const job = workload.jobs[0];
    expect(job?.techniques).toEqual(["ddp", "fsdp", "fsdp-offload", "pipeline"]);
    expect(job?.checkpointable).toBe(true);
    expect(job?.method).toBe("full");
    expect(job?.sequenceLength).toBe(1024);
    expect(job?.entrypoint).toEqual({ recipe: "causal-lm" });
  });

  it("counts work given as epochs over a dataset or as steps in samples", () => {
    const workload = parseWorkload({
      ...minimal,
      jobs: [
        { id: "e", model: "resnet-200", batchSize: 64, work: { epochs: 2.5, datasetSamples: 1000 } },
        { id: "s", model: "gpt2-xl", batchSize: 16, work: { steps: 100 } },
      ],
    });
    expect(workload.jobs.map((job) => job.totalSamples)).toEqual([2500, 1600]);
    expect(workload.jobs[0]?.entrypoint).toEqual({ recipe: "image-classification" });
  });

  it("expands a sweep into the cartesian product with suffixed ids", () => {
    const workload = parseWorkload({
      ...minimal,
      jobs: [{ ...minimal.jobs[0], hyperparameters: { warmup: 10 }, sweep: { lr: [0.1, 0.2], wd: [0, 1] } }],
    });
    expect(workload.jobs.map((job) => job.id)).toEqual(["a-lr0.1-wd0", "a-lr0.1-wd1", "a-lr0.2-wd0", "a-lr0.2-wd1"]);
    expect(workload.jobs[3]?.hyperparameters).toEqual({ warmup: 10, lr: 0.2, wd: 1 });
    expect(new Set(workload.jobs.map((job) => job.sourceId))).toEqual(new Set(["a"]));
  });

  it("gives LoRA jobs a default rank of 16", () => {
    const workload = parseWorkload({ ...minimal, jobs: [{ ...minimal.jobs[0], method: "lora" }] });
    expect(workload.jobs[0]?.loraRank).toBe(16);
  });

  it("accepts an explicit model architecture", () => {
    const workload = parseWorkload({
      ...minimal,
      jobs: [
        {
          ...minimal.jobs[0],
          model: { family: "decoder", parameters: 1_000_000_000, layers: 24, hiddenSize: 2048, sequenceLength: 2048 },
        },
      ],
    });
    expect(workload.jobs[0]?.model.parameters).toBe(1_000_000_000);
    expect(workload.jobs[0]?.modelName).toBe("custom");
  });

  it("names the field, the expectation and the value that came", () => {
    const issues = issuesOf({ ...minimal, jobs: [{ ...minimal.jobs[0], batchSize: "16x" }] });
    expect(issues).toEqual([{ path: "jobs[0].batchSize", message: 'expected an integer >= 1, got "16x"' }]);
  });

  it("rejects unknown keys and suggests the key that was meant", () => {
    const issues = issuesOf({ ...minimal, jobs: [{ ...minimal.jobs[0], tecniques: ["ddp"] }] });
    expect(issues).toEqual([
      { path: "jobs[0].tecniques", message: "unknown key (did you mean 'techniques'?), got a list of 1" },
    ]);
  });

  it("lists every problem at once", () => {
    const issues = issuesOf({
      name: "bad name!",
      objective: { kind: "min-costs" },
      jobs: [{ id: "a", model: "gpt3", batchSize: 0, work: { samples: 1, steps: 2 } }],
    });
    expect(issues.map((issue) => issue.path)).toEqual([
      "name",
      "objective.kind",
      "jobs[0].model",
      "jobs[0].batchSize",
      "jobs[0].work",
    ]);
    expect(issues[1]?.message).toBe('expected one of "min-cost", "min-time", "pareto", got "min-costs"');
  });

  it("reports problems inside an explicit model", () => {
    const issues = issuesOf({
      ...minimal,
      jobs: [{ ...minimal.jobs[0], model: { family: "decoder", parameters: 1e9, layers: "x", hiddenSize: 64 } }],
    });
    expect(issues).toEqual([{ path: "jobs[0].model.layers", message: 'expected an integer >= 1, got "x"' }]);
  });

  it("rejects duplicate job ids, also after sweep expansion", () => {
    expect(issuesOf({ ...minimal, jobs: [minimal.jobs[0], minimal.jobs[0]] })[0]?.path).toBe("jobs[1].id");
    const clash = issuesOf({
      ...minimal,
      jobs: [
        { ...minimal.jobs[0], id: "a-lr1" },
        { ...minimal.jobs[0], sweep: { lr: [1] } },
      ],
    });
    expect(clash[0]?.message).toContain("'a-lr1' twice");
  });

  it("rejects loraRank without method lora", () => {
    expect(issuesOf({ ...minimal, jobs: [{ ...minimal.jobs[0], loraRank: 8 }] })).toEqual([
      { path: "jobs[0].loraRank", message: "expected loraRank only with method 'lora', got 8 (number)" },
    ]);
  });

  it("rejects an on-demand quota override for the spot-only P5 group", () => {
    const issues = issuesOf({ ...minimal, quotas: [{ group: "P5", market: "on-demand", vcpus: 192 }] });
    expect(issues[0]?.path).toBe("quotas[0].group");
  });
});

describe("parseWorkload profiling", () => {
  it("leaves profiling out when the spec has none and fills its defaults when it has", () => {
    expect(parseWorkload(minimal).profiling).toBeUndefined();
    expect(parseWorkload({ ...minimal, profiling: { budgetUsd: 20, maxMinutes: 30 } }).profiling).toEqual({
      budgetUsd: 20,
      maxMinutes: 30,
      marginPercent: 15,
      warmupSteps: 10,
      measuredSteps: 20,
    });
  });

  it("names the profiling field that is wrong, what was expected and what came", () => {
    const issues = issuesOf({
      ...minimal,
      profiling: { budgetUsd: -1, maxMinutes: 30, measuredSteps: 0, marginPercent: "x" },
    });
    expect(issues).toEqual([
      { path: "profiling.budgetUsd", message: "expected a number > 0, got -1 (number)" },
      { path: "profiling.marginPercent", message: 'expected a number between 0 and 1000, got "x"' },
      { path: "profiling.measuredSteps", message: "expected an integer >= 1, got 0 (number)" },
    ]);
  });

  it("rejects an unknown key inside profiling", () => {
    const issues = issuesOf({ ...minimal, profiling: { budgetUsd: 5, maxMinutes: 10, budget: 3 } });
    expect(issues.map((issue) => issue.path)).toEqual(["profiling.budget"]);
  });
});

describe("parseWorkloadText", () => {
  it("reads YAML and JSON", () => {
    const yaml = parseWorkloadText(
      "name: s\nobjective: {kind: min-time, budgetUsd: 100}\njobs:\n  - {id: a, model: mistral-7b, method: lora, batchSize: 8, work: {steps: 10}}\n",
    );
    expect(yaml.objective).toEqual({ kind: "min-time", budgetUsd: 100 });
    expect(parseWorkloadText(JSON.stringify(minimal)).name).toBe("sweep");
  });

  it("reports a syntax error with its line and column", () => {
    expect(() => parseWorkloadText("name: [\n")).toThrow(/line \d+, column \d+: expected valid YAML or JSON/);
  });

  it("rejects duplicate keys, which YAML would otherwise let the last one win", () => {
    expect(() => parseWorkloadText("name: a\nname: b\n")).toThrow(InvalidWorkloadError);
  });
});
