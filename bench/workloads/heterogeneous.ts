/**
 * Seeded heterogeneous sweeps of 300, 1,000 and 5,000 jobs (issue 7): the kind of batch a
 * team actually runs, unlike the clone-heavy synthetic sweeps.
 *
 * A workload is a series of experiments; each experiment is one base job (model family x
 * method x batch size) cloned over learning rates (1-8 clones, a third of them alone).
 * Per experiment, drawn from the seed:
 *  - the base job: seven model families of 1.2B-70B parameters, presets and explicit
 *    architectures (FAMILIES), full fine-tuning or LoRA, batch size 8, 16, 32 or 64;
 *  - the runtime on the job's cheapest configuration (by the estimator, whole-instance
 *    bill at on-demand prices): log-uniform in 0.2-30 h; the work is set from it;
 *  - checkpointable: false with probability 0.2 (never on spot then);
 *  - its own deadline: with probability 0.3, 24-96 h (never below twice the runtime plus
 *    two hours, so that the experiment stays feasible); the plan-wide deadline is 96 h.
 * Quotas (SCALES) bind: the P5 spot quota holds few instances, and the P spot quota less
 * than the spot work would like.
 */

import { hourlyPrice, offeredInstanceTypes } from "../../lambdas/core/catalog/select.ts";
import type { Catalog } from "../../lambdas/core/catalog/types.ts";
import { enumerateCandidates } from "../../lambdas/core/estimator/candidates.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import { mulberry32 } from "../../lambdas/core/random/seeded-random.ts";
import { parseWorkload, type Workload } from "../../lambdas/core/spec/workload.ts";

interface Family {
  readonly name: string;
  readonly model: string | Record<string, unknown>;
  /** Full fine-tuning allowed (70B runs LoRA only: full needs more nodes than the quotas hold). */
  readonly full: boolean;
}

/**
 * Explicit architectures from the Hugging Face config.json of each model:
 * meta-llama/Llama-3.2-1B (16 layers, hidden 2048, vocab 128256, 1.24B parameters),
 * meta-llama/Llama-3.2-3B (28 layers, hidden 3072, 3.21B), meta-llama/Meta-Llama-3-70B
 * (80 layers, hidden 8192, vocab 128256, 70.55B).
 */
const FAMILIES: readonly Family[] = [
  {
    name: "llama1b",
    model: {
      family: "decoder",
      parameters: 1_235_814_400,
      layers: 16,
      hiddenSize: 2048,
      sequenceLength: 2048,
      vocabularySize: 128_256,
    },
    full: true,
  },
  { name: "gpt2xl", model: "gpt2-xl", full: true },
  {
    name: "llama3b",
    model: {
      family: "decoder",
      parameters: 3_212_749_824,
      layers: 28,
      hiddenSize: 3072,
      sequenceLength: 2048,
      vocabularySize: 128_256,
    },
    full: true,
  },
  { name: "gptj", model: "gpt-j-6b", full: true },
  { name: "mistral7b", model: "mistral-7b", full: true },
  { name: "llama8b", model: "llama-3-8b", full: true },
  {
    name: "llama70b",
    model: {
      family: "decoder",
      parameters: 70_553_706_496,
      layers: 80,
      hiddenSize: 8192,
      sequenceLength: 2048,
      vocabularySize: 128_256,
    },
    full: false,
  },
];

const BATCH_SIZES = [8, 16, 32, 64] as const;
export const PLAN_DEADLINE_HOURS = 96;

/** Quotas (vCPUs) per size; P5 spot and P spot bind by design. */
const SCALES = {
  300: { p: 1536, pSpot: 768, p5Spot: 192, g: 3072 },
  1000: { p: 4608, pSpot: 2304, p5Spot: 384, g: 9216 },
  5000: { p: 18432, pSpot: 9216, p5Spot: 1536, g: 36864 },
} as const;

export type HeterogeneousSize = keyof typeof SCALES;
export const HETEROGENEOUS_SIZES = Object.keys(SCALES).map(Number) as HeterogeneousSize[];

/** `size` jobs; sizes other than 300, 1,000 and 5,000 (tests) take the 300-job quotas. */
export function heterogeneousWorkload(size: number, seed: number, catalog: Catalog): Workload {
  const random = mulberry32(seed);
  const scale = SCALES[size as HeterogeneousSize] ?? SCALES[300];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const rates = new Map<string, number>();
  const jobs: Record<string, unknown>[] = [];
  let remaining: number = size;
  for (let index = 0; remaining > 0; index++) {
    const family = pick(FAMILIES);
    const lora = !family.full || random() < 0.5;
    const batchSize = pick(BATCH_SIZES);
    const base = {
      model: family.model,
      batchSize,
      ...(lora ? { method: "lora", loraRank: pick([8, 16, 64]) } : {}),
    };
    const key = JSON.stringify(base);
    let rate = rates.get(key);
    if (rate === undefined) {
      rate = cheapestRate(base, catalog);
      rates.set(key, rate);
    }
    const hours = 0.2 * (30 / 0.2) ** random();
    const clones = Math.min(remaining, random() < 1 / 3 ? 1 : 2 + Math.floor(random() * 7));
    const checkpointable = random() >= 0.2;
    const ownDeadline = random() < 0.3 ? 24 + random() * 72 : undefined;
    const deadlineHours =
      ownDeadline === undefined ? undefined : Math.min(PLAN_DEADLINE_HOURS, Math.max(ownDeadline, 2 * hours + 2));
    jobs.push({
      id: `e${index}-${family.name}${lora ? "-lora" : ""}-b${batchSize}`,
      ...base,
      work: { samples: Math.max(1, Math.round(hours * 3600 * rate)) },
      checkpointable,
      ...(deadlineHours === undefined ? {} : { deadlineHours: Math.round(deadlineHours) }),
      ...(clones > 1
        ? { sweep: { lr: Array.from({ length: clones }, (_, k) => Number((1e-5 * (k + 1)).toPrecision(3))) } }
        : {}),
    });
    remaining -= clones;
  }
  return parseWorkload({
    name: `heterogeneous-${size}`,
    region: "us-east-1",
    objective: { kind: "min-cost", deadlineHours: PLAN_DEADLINE_HOURS },
    markets: ["spot", "on-demand"],
    quotas: [
      { group: "P", market: "on-demand", vcpus: scale.p },
      { group: "P", market: "spot", vcpus: scale.pSpot },
      { group: "P5", market: "spot", vcpus: scale.p5Spot },
      { group: "G", market: "on-demand", vcpus: scale.g },
      { group: "G", market: "spot", vcpus: scale.g },
    ],
    jobs,
  });
}

/** Samples per second of the job's cheapest configuration (whole-instance bill on demand). */
function cheapestRate(base: Record<string, unknown>, catalog: Catalog): number {
  const workload = parseWorkload({
    name: "probe",
    objective: { kind: "min-cost", deadlineHours: 1 },
    jobs: [{ id: "probe", ...base, work: { samples: 1_000_000 } }],
  });
  const probe = workload.jobs[0];
  if (probe === undefined) throw new Error("expected the probe job to parse");
  const types = offeredInstanceTypes(catalog, workload);
  const candidates = enumerateCandidates(probe, {
    catalog,
    region: "us-east-1",
    markets: ["on-demand"],
    instanceTypes: types,
    profiles: new InMemoryProfileStore([]),
  });
  let best: { bill: number; rate: number } | undefined;
  for (const candidate of candidates) {
    if (!candidate.estimate.fits || candidate.runtimeSeconds === undefined) continue;
    const type = types.find((entry) => entry.name === candidate.config.instanceType);
    const price = type === undefined ? undefined : hourlyPrice(type, "us-east-1", "on-demand");
    if (price === undefined) continue;
    const bill = candidate.config.nodes * price * candidate.runtimeSeconds;
    if (best === undefined || bill < best.bill) best = { bill, rate: candidate.estimate.samplesPerSecond };
  }
  if (best === undefined) throw new Error(`expected ${JSON.stringify(base)} to fit somewhere`);
  return best.rate;
}
