/**
 * The control-plane benchmark's workloads: what the reconciler, the ingest and the agents
 * see is set by the number of jobs and instances and by how long the run lasts, not by
 * how large each job is. So the workloads are short in virtual time (a run of 1-2.5 h,
 * stepped at the reconcile schedule's 60 s), and every per-hour figure is per
 * workload-hour of such a run:
 *
 * - 12 jobs: Saturn's own text workload (bench/workloads/saturn-text.yaml, PVLDB 17(4)
 *   Table 3) with a 2-hour deadline instead of 36 h, so the plan runs its 12 jobs side by
 *   side instead of stretching them over a day and a half;
 * - 100 and 1,000 jobs: generated hyper-parameter sweeps of small fine-tuning jobs (each
 *   clone 40-100 s on one p4d.24xlarge's fastest 8-GPU configuration by the estimator, so
 *   minutes on the one-GPU instances the planner picks for them), with
 *   quotas and a 2-hour deadline that give a realistic fleet (tens of instances, not one
 *   per job).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Catalog } from "../../lambdas/core/catalog/types.ts";
import { enumerateCandidates } from "../../lambdas/core/estimator/candidates.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import { mulberry32 } from "../../lambdas/core/random/seeded-random.ts";
import { parseWorkload } from "../../lambdas/core/spec/workload.ts";

export interface ControlPlaneWorkload {
  readonly name: string;
  readonly jobs: number;
  readonly specText: string;
  /** One line for the docs: what the workload is. */
  readonly description: string;
}

export const CONTROL_PLANE_SIZES = [12, 100, 1000] as const;
export type ControlPlaneSize = (typeof CONTROL_PLANE_SIZES)[number];

const DEADLINE_HOURS = 2;
/** Solver seconds for the first plan (the class-based model of a few sweeps solves well within it). */
const PLAN_SECONDS = 20;

const SWEEP_BASES: readonly { readonly name: string; readonly spec: Record<string, unknown> }[] = [
  { name: "gpt2", spec: { model: "gpt2-xl", batchSize: 16 } },
  { name: "llama8b-lora", spec: { model: "llama-3-8b", method: "lora", loraRank: 16, batchSize: 32 } },
  { name: "mistral7b-lora", spec: { model: "mistral-7b", method: "lora", loraRank: 16, batchSize: 32 } },
  { name: "vitg", spec: { model: "vit-g-14", batchSize: 64 } },
  { name: "resnet200", spec: { model: "resnet-200", batchSize: 128 } },
];

/** vCPU quotas per size: room for about 1.5x the fleet the 2-hour deadline needs. */
const SWEEP_QUOTAS = {
  100: { p: 576, p5Spot: 192, g: 768 },
  1000: { p: 4608, p5Spot: 1536, g: 6144 },
} as const;

export function controlPlaneWorkload(size: ControlPlaneSize, root: string, catalog: Catalog): ControlPlaneWorkload {
  if (size === 12) {
    const spec = parseYaml(readFileSync(join(root, "bench", "workloads", "saturn-text.yaml"), "utf8")) as Record<
      string,
      unknown
    >;
    return {
      name: "saturn-text",
      jobs: 12,
      specText: JSON.stringify({
        ...spec,
        objective: { kind: "min-cost", deadlineHours: DEADLINE_HOURS },
        planner: { timeLimitSeconds: PLAN_SECONDS },
      }),
      description: `Saturn's text workload (bench/workloads/saturn-text.yaml: GPT-2 XL and GPT-J, 10 epochs of WikiText-2), deadline ${DEADLINE_HOURS} h`,
    };
  }
  return sweepWorkload(size, 20261202, catalog);
}

/** A seeded sweep: classes of one base job cloned over learning rates (10-50 clones each). */
export function sweepWorkload(size: 100 | 1000, seed: number, catalog: Catalog): ControlPlaneWorkload {
  const random = mulberry32(seed);
  const reference = catalog.instanceTypes.find((type) => type.name === "p4d.24xlarge");
  if (reference === undefined) throw new Error("expected p4d.24xlarge in the catalog to size the sweep's jobs");
  const jobs: Record<string, unknown>[] = [];
  let remaining: number = size;
  for (let index = 0; remaining > 0; index++) {
    const base = SWEEP_BASES[Math.floor(random() * SWEEP_BASES.length)] ?? SWEEP_BASES[0];
    if (base === undefined) throw new Error("expected sweep bases");
    const clones = Math.min(remaining, 10 + Math.floor(random() * 41));
    const seconds = 40 + random() * 60;
    const rate = fastestOnReference(base.spec, reference, catalog);
    jobs.push({
      id: `s${index}-${base.name}`,
      ...base.spec,
      work: { samples: Math.max(1, Math.round(seconds * rate)) },
      sweep: { lr: Array.from({ length: clones }, (_, k) => Number((1e-5 * (k + 1)).toPrecision(3))) },
    });
    remaining -= clones;
  }
  const quotas = SWEEP_QUOTAS[size];
  const spec = {
    name: `sweep-${size}`,
    region: "us-east-1",
    objective: { kind: "min-cost", deadlineHours: DEADLINE_HOURS },
    markets: ["spot", "on-demand"],
    quotas: [
      { group: "P", market: "on-demand", vcpus: quotas.p },
      { group: "P", market: "spot", vcpus: quotas.p },
      { group: "P5", market: "spot", vcpus: quotas.p5Spot },
      { group: "G", market: "on-demand", vcpus: quotas.g },
      { group: "G", market: "spot", vcpus: quotas.g },
    ],
    planner: { timeLimitSeconds: PLAN_SECONDS },
    jobs,
  };
  return {
    name: `sweep-${size}`,
    jobs: size,
    specText: JSON.stringify(spec),
    description: `${jobs.length} learning-rate sweeps (GPT-2 XL, Llama 3 8B and Mistral 7B LoRA, ViT-g, ResNet-200) of jobs of 40-100 s on a p4d.24xlarge's 8 GPUs (minutes on one GPU), deadline ${DEADLINE_HOURS} h (bench/control-plane/control-plane-workloads.ts, seed 20261202)`,
  };
}

function fastestOnReference(
  spec: Record<string, unknown>,
  reference: Catalog["instanceTypes"][number],
  catalog: Catalog,
): number {
  const probe = parseWorkload({
    name: "probe",
    objective: { kind: "min-cost", deadlineHours: 1 },
    jobs: [{ id: "probe", ...spec, work: { samples: 1 } }],
  }).jobs[0];
  if (probe === undefined) throw new Error("expected the probe job to parse");
  const rates = enumerateCandidates(probe, {
    catalog,
    region: "us-east-1",
    markets: ["on-demand"],
    instanceTypes: [reference],
    profiles: new InMemoryProfileStore([]),
  }).flatMap((candidate) =>
    candidate.estimate.fits && candidate.config.nodes === 1 && candidate.config.gpusPerNode === reference.gpus
      ? [candidate.estimate.samplesPerSecond]
      : [],
  );
  if (rates.length === 0) throw new Error(`expected ${JSON.stringify(spec)} to fit on one ${reference.name}`);
  return Math.max(...rates);
}
