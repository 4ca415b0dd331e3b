import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";
import { modelCosts } from "../../../lambdas/core/estimator/model-costs.ts";
import { architectureFromHuggingFaceConfig } from "../../../lambdas/core/models/hugging-face-config.ts";
import { MODEL_PRESET_NAMES, MODEL_PRESETS } from "../../../lambdas/core/models/presets.ts";
import { parseWorkload } from "../../../lambdas/core/spec/workload.ts";

const example = (name: string): unknown =>
  JSON.parse(readFileSync(`examples/hugging-face/${name}/config.json`, "utf8"));

/**
 * Parameter counts the model cards publish (billions; total, and active for MoE): Meta's
 * Llama 3.1 (8.03, 70.6, 405.9) and 3.2 (1.24, 3.21) cards' safetensors totals, Qwen2.5
 * (0.49, 1.54, 3.09, 7.61, 14.7, 32.5, 72.7), Qwen3 (0.6, 1.7, 4.0, 8.2, 14.8, 32.8;
 * 30.5 / 3.3 active, 235 / 22 active), Mixtral 8x7B (46.7 / 12.9 active, Mistral AI),
 * Gemma 2 (2.61, 9.24, 27.2), Gemma 3 (1.0; 3.88, 11.8, 27.0 for the text decoders),
 * Phi-4 (14.7).
 */
const PUBLISHED: Record<string, [number, number?]> = {
  "llama-3.1-8b": [8.03],
  "llama-3.1-70b": [70.6],
  "llama-3.1-405b": [405.9],
  "llama-3.2-1b": [1.24],
  "llama-3.2-3b": [3.21],
  "qwen2.5-0.5b": [0.49],
  "qwen2.5-7b": [7.61],
  "qwen2.5-72b": [72.7],
  "qwen2.5-32b": [32.5],
  "qwen3-0.6b": [0.6],
  "qwen3-8b": [8.2],
  "qwen3-32b": [32.8],
  "qwen3-30b-a3b": [30.5, 3.3],
  "qwen3-235b-a22b": [235, 22],
  "mixtral-8x7b": [46.7, 12.9],
  "gemma-2-2b": [2.61],
  "gemma-2-27b": [27.2],
  "gemma-3-1b": [1.0],
  "gemma-3-27b": [27.0],
  "phi-4": [14.7],
};

describe("the 2026 model presets", () => {
  it("include every model family the issue names, next to the original six", () => {
    for (const name of ["gpt2-xl", "gpt-j-6b", "llama-3-8b", "mistral-7b", "vit-g-14", "resnet-200"]) {
      expect(MODEL_PRESET_NAMES).toContain(name);
    }
    expect(MODEL_PRESET_NAMES.length).toBeGreaterThanOrEqual(6 + 30);
    for (const preset of Object.values(MODEL_PRESETS)) expect(preset.source).toMatch(/\S{8}/);
  });

  it("derive parameter counts within 2% of the published ones", () => {
    for (const [name, [total, active]] of Object.entries(PUBLISHED)) {
      const preset = MODEL_PRESETS[name as keyof typeof MODEL_PRESETS];
      expect(preset.parameters / 1e9 / total, name).toBeGreaterThan(0.98);
      expect(preset.parameters / 1e9 / total, name).toBeLessThan(1.02);
      if (active === undefined) expect(preset.activeParameters, name).toBeUndefined();
      else expect(Math.abs((preset.activeParameters ?? 0) / 1e9 / active - 1), name).toBeLessThan(0.03);
    }
  });
});

describe("architectureFromHuggingFaceConfig", () => {
  it("reads a dense config: Llama 3.1 8B's published config.json gives its 8,030,261,248 parameters", () => {
    const model = architectureFromHuggingFaceConfig(example("llama-3.1-8b"), "config", "test");
    expect(model.parameters).toBe(8_030_261_248);
    expect(model.activeParameters).toBeUndefined();
    expect(model).toMatchObject({ family: "decoder", layers: 32, hiddenSize: 4096, vocabularySize: 128_256 });
    expect(model.sequenceLength).toBe(2048);
  });

  it("reads a mixture-of-experts config: all experts for memory, the routed ones for compute", () => {
    const model = architectureFromHuggingFaceConfig(example("qwen3-30b-a3b"), "config", "test");
    expect(model.experts).toBe(128);
    expect(model.expertsPerToken).toBe(8);
    expect(model.parameters / 1e9).toBeCloseTo(30.53, 1);
    expect((model.activeParameters ?? 0) / 1e9).toBeCloseTo(3.35, 1);
  });

  it("counts tied embeddings once", () => {
    const untied = { ...(example("llama-3.1-8b") as object), tie_word_embeddings: false };
    const tied = { ...untied, tie_word_embeddings: true };
    const difference =
      architectureFromHuggingFaceConfig(untied, "c", "t").parameters -
      architectureFromHuggingFaceConfig(tied, "c", "t").parameters;
    expect(difference).toBe(128_256 * 4096);
  });

  it("reads the decoder of a multimodal wrapper from text_config", () => {
    const wrapped = { model_type: "gemma3", text_config: example("llama-3.1-8b") };
    expect(architectureFromHuggingFaceConfig(wrapped, "c", "t").parameters).toBe(8_030_261_248);
  });

  it("names each missing or malformed key", () => {
    const { hidden_size: _, num_hidden_layers: __, ...partial } = example("llama-3.1-8b") as Record<string, unknown>;
    const broken = { ...partial, vocab_size: "big" };
    try {
      architectureFromHuggingFaceConfig(broken, "jobs[0].model.huggingFaceConfig", "t");
      expect.unreachable("a config without hidden_size is not readable");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidWorkloadError);
      expect((error as InvalidWorkloadError).issues).toEqual([
        {
          path: "jobs[0].model.huggingFaceConfig.num_hidden_layers",
          message: "expected a positive integer, got nothing (key missing)",
        },
        {
          path: "jobs[0].model.huggingFaceConfig.hidden_size",
          message: "expected a positive integer, got nothing (key missing)",
        },
        { path: "jobs[0].model.huggingFaceConfig.vocab_size", message: 'expected a positive integer, got "big"' },
      ]);
    }
  });

  it("asks for num_experts_per_tok when a config has experts", () => {
    const { num_experts_per_tok: _, ...config } = example("qwen3-30b-a3b") as Record<string, unknown>;
    expect(() => architectureFromHuggingFaceConfig(config, "c", "t")).toThrow(
      "c.num_experts_per_tok: expected a positive integer, got nothing (key missing)",
    );
  });
});

describe("a mixture of experts in the estimator", () => {
  const job = (model: unknown) =>
    parseWorkload({
      name: "moe",
      objective: { kind: "min-cost", deadlineHours: 10 },
      jobs: [{ id: "j", model, batchSize: 8, work: { samples: 8 } }],
    }).jobs[0];

  it("costs compute by active parameters and memory by all of them", () => {
    const moe = job({ huggingFaceConfig: example("qwen3-30b-a3b") as Record<string, unknown> });
    const dense = job({
      family: "decoder",
      parameters: 30_532_122_624,
      layers: 48,
      hiddenSize: 2048,
      vocabularySize: 151_936,
      sequenceLength: 2048,
    });
    if (moe === undefined || dense === undefined) throw new Error("expected one job each");
    const moeCosts = modelCosts(moe);
    const denseCosts = modelCosts(dense);
    expect(moeCosts.trainableParameters).toBe(moe.model.parameters);
    expect(moeCosts.trainableParameters).toBeCloseTo(denseCosts.trainableParameters, -6);
    // Matmul FLOPs scale with active/total (3.35 / 30.5), attention FLOPs are the same.
    expect(moeCosts.forwardFlops / denseCosts.forwardFlops).toBeLessThan(0.2);
    expect(moeCosts.forwardFlops).toBeGreaterThan(2 * (moe.model.activeParameters ?? 0) * 2048);
  });

  it("rejects a path to a config when no file reader is given (the API takes the object itself)", () => {
    expect(() => job({ huggingFaceConfig: "config.json" })).toThrow(
      "jobs[0].model.huggingFaceConfig: expected the config object itself here (files are read only by the CLI), got the path 'config.json'",
    );
  });
});
