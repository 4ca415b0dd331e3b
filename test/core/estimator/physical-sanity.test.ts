import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allReduceSeconds,
  predictedAllReduceBusBandwidth,
  topologyOf,
} from "../../../lambdas/core/estimator/communication.ts";
import { estimateThroughput, estimateWithSettings } from "../../../lambdas/core/estimator/estimate.ts";
import { achievableFlopsPerSecond } from "../../../lambdas/core/estimator/hardware-efficiency.ts";
import {
  hardwareFlopsPerSample,
  modelCosts,
  modelFlopsPerSample,
} from "../../../lambdas/core/estimator/model-costs.ts";
import type { Configuration, ThroughputEstimate } from "../../../lambdas/core/estimator/types.ts";
import { MODEL_PRESET_NAMES } from "../../../lambdas/core/models/presets.ts";
import { TECHNIQUES } from "../../../lambdas/core/spec/workload-schema.ts";
import { catalog, instanceType, jobOf } from "./job-fixtures.ts";

function fitting(estimate: ThroughputEstimate): Extract<ThroughputEstimate, { fits: true }> {
  if (!estimate.fits) throw new Error(`expected the configuration to fit, got: ${estimate.reason}`);
  return estimate;
}

const single = (technique: Configuration["technique"], type: string, gpusPerNode = 1, nodes = 1): Configuration => ({
  technique,
  instanceType: type,
  nodes,
  gpusPerNode,
});

describe("memory: what fits", () => {
  it("does not fit full fine-tuning of a 7B model with DDP on a 24 GB GPU", () => {
    const estimate = estimateThroughput(jobOf({ model: "mistral-7b" }), single("ddp", "g5.xlarge"), catalog);

    expect(estimate.fits).toBe(false);
    expect(estimate.peakMemoryGiBPerGpu).toBeGreaterThan(100);
    expect(estimate.fits ? "" : estimate.reason).toMatch(/GiB per GPU.*A10G has 24 GiB/);
  });

  it("fits LoRA of the same 7B model on one 48 GB GPU where full fine-tuning does not", () => {
    const config = single("ddp", "g6e.xlarge");

    expect(estimateThroughput(jobOf({ model: "mistral-7b" }), config, catalog).fits).toBe(false);
    expect(estimateThroughput(jobOf({ model: "mistral-7b", method: "lora" }), config, catalog).fits).toBe(true);
  });

  it("needs less memory for LoRA than for full fine-tuning at the same knobs, for every transformer preset", () => {
    const settings = { microBatchSize: 1, activationCheckpointing: false };
    for (const model of MODEL_PRESET_NAMES.filter((name) => name !== "resnet-200")) {
      for (const technique of TECHNIQUES) {
        const config = single(technique, "p4de.24xlarge", 8);
        const full = estimateWithSettings(jobOf({ model }), config, catalog, settings);
        const lora = estimateWithSettings(jobOf({ model, method: "lora" }), config, catalog, settings);
        expect(lora.peakMemoryGiBPerGpu, `${model} ${technique}`).toBeLessThan(full.peakMemoryGiBPerGpu);
      }
    }
  });

  it("refuses LoRA for a CNN, saying it is modelled for transformers only", () => {
    const estimate = estimateThroughput(
      jobOf({ model: "resnet-200", method: "lora" }),
      single("ddp", "g5.xlarge"),
      catalog,
    );

    expect(estimate.fits ? "" : estimate.reason).toMatch(/LoRA is modelled for transformers/);
  });

  it("fits FSDP on eight 40 GB A100s where DDP does not (GPT-J 6B, full)", () => {
    const job = jobOf({ model: "gpt-j-6b" });

    const ddp = estimateThroughput(job, single("ddp", "p4d.24xlarge", 8), catalog);
    const fsdp = estimateThroughput(job, single("fsdp", "p4d.24xlarge", 8), catalog);

    expect(ddp.fits).toBe(false);
    expect(fitting(fsdp).peakMemoryGiBPerGpu).toBeLessThan(40);
  });

  it("fits FSDP with CPU offload where plain FSDP does not, and runs it slower", () => {
    const job = jobOf({ model: "llama-3-8b", batchSize: 8 });
    const config = (technique: Configuration["technique"]) => single(technique, "g5.12xlarge", 4);

    expect(estimateThroughput(job, config("fsdp"), catalog).fits).toBe(false);
    const offload = fitting(estimateThroughput(job, config("fsdp-offload"), catalog));
    expect(offload.stepSeconds?.offload).toBeGreaterThan(0);

    const roomy = single("fsdp", "p4de.24xlarge", 8);
    const roomyOffload = single("fsdp-offload", "p4de.24xlarge", 8);
    expect(fitting(estimateThroughput(job, roomyOffload, catalog)).samplesPerSecond).toBeLessThan(
      fitting(estimateThroughput(job, roomy, catalog)).samplesPerSecond,
    );
  });

  it("refuses CPU offload when the host RAM cannot hold the offloaded states, and says so", () => {
    const estimate = estimateThroughput(jobOf({ model: "llama-3-8b" }), single("fsdp-offload", "g5.xlarge"), catalog);

    expect(estimate.fits).toBe(false);
    expect(estimate.fits ? "" : estimate.reason).toMatch(/host RAM per node; g5\.xlarge has 16 GiB/);
  });

  it("trades memory for time with activation checkpointing", () => {
    const job = jobOf({ model: "gpt2-xl" });
    const config = single("fsdp", "p4de.24xlarge", 8);

    const off = fitting(
      estimateWithSettings(job, config, catalog, { microBatchSize: 2, activationCheckpointing: false }),
    );
    const on = fitting(
      estimateWithSettings(job, config, catalog, { microBatchSize: 2, activationCheckpointing: true }),
    );

    expect(on.peakMemoryGiBPerGpu).toBeLessThan(off.peakMemoryGiBPerGpu);
    expect(on.samplesPerSecond).toBeLessThan(off.samplesPerSecond);
  });

  it("turns activation checkpointing on only when the job does not fit without it", () => {
    const small = fitting(estimateThroughput(jobOf({ model: "gpt2-xl" }), single("fsdp", "p4de.24xlarge", 8), catalog));
    const tight = fitting(
      estimateThroughput(jobOf({ model: "gpt-j-6b" }), single("pipeline", "p4d.24xlarge", 8), catalog),
    );

    expect(small.activationCheckpointing).toBe(false);
    expect(tight.activationCheckpointing).toBe(true);
  });
});

describe("time: physical limits", () => {
  it("never exceeds peak FLOP/s, nor the achievable share of it, on any type and technique", () => {
    for (const model of MODEL_PRESET_NAMES) {
      for (const method of ["full", "lora"] as const) {
        const job = jobOf({ model, method, batchSize: 64 });
        const costs = modelCosts(job);
        for (const type of catalog.instanceTypes) {
          const gpu = catalog.gpus[type.gpuModel];
          if (gpu === undefined) throw new Error(`catalog lacks ${type.gpuModel}`);
          for (const technique of TECHNIQUES) {
            const config = single(technique, type.name, type.gpus);
            const estimate = estimateThroughput(job, config, catalog);
            if (!estimate.fits) continue;
            const perGpu = estimate.samplesPerSecond / type.gpus;
            expect(perGpu * modelFlopsPerSample(costs)).toBeLessThanOrEqual(gpu.peakTflops * 1e12);
            expect(perGpu * hardwareFlopsPerSample(costs, estimate.activationCheckpointing)).toBeLessThanOrEqual(
              achievableFlopsPerSecond(gpu, job.model.family) * (1 + 1e-9),
            );
          }
        }
      }
    }
  });

  it("never scales DDP better than linearly in the GPU count", () => {
    const types = ["p4d.24xlarge", "p5.48xlarge", "g5.48xlarge", "g6e.12xlarge", "g4dn.12xlarge"];
    fc.assert(
      fc.property(
        fc.constantFrom(...MODEL_PRESET_NAMES),
        fc.constantFrom("full" as const, "lora" as const),
        fc.integer({ min: 8, max: 256 }),
        fc.constantFrom(...types),
        (model, method, batchSize, type) => {
          const job = jobOf({ model, method, batchSize });
          const gpus = instanceType(type).gpus;
          const shapes = [1, 2, 4, 8]
            .filter((count) => count <= gpus)
            .map((count) => ({ nodes: 1, gpusPerNode: count }));
          shapes.push({ nodes: 2, gpusPerNode: gpus }, { nodes: 4, gpusPerNode: gpus });
          let best = Number.POSITIVE_INFINITY;
          for (const shape of shapes) {
            const estimate = estimateThroughput(job, { technique: "ddp", instanceType: type, ...shape }, catalog);
            if (!estimate.fits) continue;
            const perGpu = estimate.samplesPerSecond / (shape.nodes * shape.gpusPerNode);
            expect(perGpu).toBeLessThanOrEqual(best * (1 + 1e-9));
            best = Math.min(best, perGpu);
          }
        },
      ),
      { numRuns: 60, seed: 20261127 },
    );
  });

  it("never scales FSDP better than linearly at fixed knobs", () => {
    const job = jobOf({ model: "gpt2-xl", batchSize: 128 });
    const settings = { microBatchSize: 1, activationCheckpointing: true };
    const perGpu = [1, 2, 4, 8, 16, 32, 64].map((gpus) => {
      const shape = gpus <= 8 ? { nodes: 1, gpusPerNode: gpus } : { nodes: gpus / 8, gpusPerNode: 8 };
      const estimate = fitting(
        estimateWithSettings(job, { technique: "fsdp", instanceType: "p4de.24xlarge", ...shape }, catalog, settings),
      );
      return estimate.samplesPerSecond / gpus;
    });
    for (let index = 1; index < perGpu.length; index++) {
      expect(perGpu[index]).toBeLessThanOrEqual((perGpu[index - 1] ?? 0) * (1 + 1e-9));
    }
  });

  it("charges multi-node DDP over a slow network for the all-reduce it cannot hide", () => {
    const job = jobOf({ model: "gpt2-xl", batchSize: 64 });

    const overTcp = fitting(estimateThroughput(job, single("ddp", "g6e.xlarge", 1, 8), catalog));
    const onOneNode = fitting(estimateThroughput(job, single("ddp", "g6e.48xlarge", 8), catalog));

    expect(overTcp.stepSeconds?.communication).toBeGreaterThan(1);
    expect(overTcp.samplesPerSecond).toBeLessThan(onOneNode.samplesPerSecond);
  });

  it("shrinks the pipeline bubble as micro-batches grow in number", () => {
    const job = jobOf({ model: "gpt-j-6b", batchSize: 32 });
    const config = single("pipeline", "p4de.24xlarge", 8);
    const rate = (microBatchSize: number) =>
      fitting(estimateWithSettings(job, config, catalog, { microBatchSize, activationCheckpointing: true }))
        .samplesPerSecond;

    expect(rate(1)).toBeGreaterThan(rate(4));
    expect(rate(4)).toBeGreaterThan(rate(32));
  });

  it("reports fp16 on GPUs without bf16 and bf16 elsewhere", () => {
    const job = jobOf({ model: "gpt2-xl", method: "lora" });

    expect(fitting(estimateThroughput(job, single("ddp", "g4dn.xlarge"), catalog)).precision).toBe("fp16");
    expect(fitting(estimateThroughput(job, single("ddp", "g6e.xlarge"), catalog)).precision).toBe("bf16");
  });
});

describe("configurations that cannot run", () => {
  it("refuses a data-parallel job whose global batch is smaller than its GPU count", () => {
    const estimate = estimateThroughput(jobOf({ batchSize: 4 }), single("ddp", "p4d.24xlarge", 8), catalog);

    expect(estimate.fits ? "" : estimate.reason).toMatch(/global batch 4 is smaller than 8/);
  });

  it("refuses a pipeline on one GPU, and one with more stages than layers", () => {
    const oneGpu = estimateThroughput(jobOf(), single("pipeline", "p4d.24xlarge", 1), catalog);
    const tooDeep = estimateThroughput(
      jobOf({ model: "gpt-j-6b", batchSize: 64 }),
      single("pipeline", "p4d.24xlarge", 8, 8),
      catalog,
    );

    expect(oneGpu.fits ? "" : oneGpu.reason).toMatch(/at least 2 GPUs/);
    expect(tooDeep.fits ? "" : tooDeep.reason).toMatch(/at least 64 layers; the model has 28/);
  });

  it("names an unknown instance type and an impossible GPU count", () => {
    const unknown = estimateThroughput(jobOf(), single("ddp", "x9.huge"), catalog);
    const tooMany = estimateThroughput(jobOf(), single("ddp", "g5.xlarge", 4), catalog);

    expect(unknown.fits ? "" : unknown.reason).toMatch(/x9\.huge is not in the catalog/);
    expect(tooMany.fits ? "" : tooMany.reason).toMatch(/g5\.xlarge has 1 GPU\(s\), the configuration asks for 4/);
  });
});

describe("communication model", () => {
  // Measured NCCL all_reduce_perf busbw (published-throughput.md, 'Measured all-reduce
  // bandwidth'; aws-samples/awsome-distributed-training micro-benchmarks/nccl-tests/README.md
  // @0162aacd5da07d424e13f44bef8dd2c4cfcc66e4).
  it.each([
    ["p4de.24xlarge", 2 * 1024 ** 3, 78.33e9],
    ["p5.48xlarge", 2 * 1024 ** 3, 443.72e9],
  ])("predicts the measured 2-node all-reduce bandwidth of %s within 35%%, never above it", (type, bytes, measured) => {
    const predicted = predictedAllReduceBusBandwidth(bytes, topologyOf(instanceType(type), 2, 8));

    expect(Math.abs(predicted - measured) / measured).toBeLessThanOrEqual(0.35);
    expect(predicted).toBeLessThanOrEqual(measured);
  });

  it("takes no time to all-reduce on one GPU", () => {
    expect(allReduceSeconds(1e9, topologyOf(instanceType("p4d.24xlarge"), 1, 1))).toBe(0);
  });
});

describe("optimizer state precision", () => {
  it("halves the state bytes and the CPU optimizer traffic with bf16 states", () => {
    const job = jobOf({ model: "llama-3-8b", batchSize: 8 });
    const config = single("fsdp-offload", "p4de.24xlarge", 8);
    const settings = { microBatchSize: 1, activationCheckpointing: true };

    const mixed = fitting(estimateWithSettings(job, config, catalog, settings, "mixed"));
    const bf16 = fitting(estimateWithSettings(job, config, catalog, settings, "bf16"));

    expect(bf16.hostMemoryGiBPerNode).toBeCloseTo((mixed.hostMemoryGiBPerNode ?? 0) / 2, 6);
    expect(bf16.stepSeconds?.offload).toBeLessThan(mixed.stepSeconds?.offload ?? 0);
    expect(bf16.stepSeconds?.compute).toBe(mixed.stepSeconds?.compute);
  });
});
