/**
 * Seeded synthetic sweeps of 100 and 1,000 jobs for the planner's scale targets.
 *
 * A workload is a series of classes; each class is one base job (model, method, batch)
 * cloned over learning rates, as a hyper-parameter sweep is. Per class, drawn from the seed:
 * the base job (from BASE_JOBS), the number of clones (5-20) and the amount of work, set so
 * that one clone takes `hours` (0.25-3 h) on one p4d.24xlarge with its fastest 8-GPU
 * configuration by the estimator; that keeps every class feasible and runs of realistic
 * length whatever the model. Deadline and quotas scale with the job count (SCALES).
 */
import type { Catalog } from "../../lambdas/core/catalog/types.ts";
import { enumerateCandidates } from "../../lambdas/core/estimator/candidates.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import { mulberry32 } from "../../lambdas/core/random/seeded-random.ts";
import { parseWorkload, type Workload } from "../../lambdas/core/spec/workload.ts";

interface BaseJob {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

const BASE_JOBS: readonly BaseJob[] = [
  { name: "gpt2", spec: { model: "gpt2-xl", batchSize: 16 } },
  { name: "gpt2-b32", spec: { model: "gpt2-xl", batchSize: 32 } },
  { name: "gptj", spec: { model: "gpt-j-6b", batchSize: 16 } },
  { name: "llama8b", spec: { model: "llama-3-8b", batchSize: 32 } },
  { name: "llama8b-lora", spec: { model: "llama-3-8b", method: "lora", loraRank: 16, batchSize: 32 } },
  { name: "mistral7b-lora", spec: { model: "mistral-7b", method: "lora", loraRank: 16, batchSize: 32 } },
  { name: "vitg", spec: { model: "vit-g-14", batchSize: 64 } },
  { name: "resnet200", spec: { model: "resnet-200", batchSize: 128 } },
];

/** Quotas (vCPUs) and deadline per size: room for the work within the deadline with a margin. */
const SCALES = {
  100: { deadlineHours: 48, p: 768, p5Spot: 384, g: 1536 },
  1000: { deadlineHours: 120, p: 3072, p5Spot: 1536, g: 6144 },
} as const;

export type SyntheticSize = keyof typeof SCALES;

export function syntheticWorkload(size: SyntheticSize, seed: number, catalog: Catalog): Workload {
  return parseWorkload(syntheticSpec(size, seed, catalog));
}

/** The synthetic workload as a spec document (what `POST /workloads` takes). */
export function syntheticSpec(size: SyntheticSize, seed: number, catalog: Catalog): Record<string, unknown> {
  const random = mulberry32(seed);
  const scale = SCALES[size];
  const reference = catalog.instanceTypes.find((type) => type.name === "p4d.24xlarge");
  if (reference === undefined) throw new Error("expected p4d.24xlarge in the catalog to size synthetic jobs");
  const jobs: Record<string, unknown>[] = [];
  let remaining: number = size;
  let classIndex = 0;
  while (remaining > 0) {
    const base = BASE_JOBS[Math.floor(random() * BASE_JOBS.length)] as BaseJob;
    const clones = Math.min(remaining, 5 + Math.floor(random() * 16));
    const hours = 0.25 + random() * 2.75;
    const samplesPerSecond = fastestOnReference(base, reference, catalog);
    jobs.push({
      id: `c${classIndex}-${base.name}`,
      ...base.spec,
      work: { samples: Math.max(1, Math.round(hours * 3600 * samplesPerSecond)) },
      sweep: { lr: Array.from({ length: clones }, (_, index) => Number((1e-5 * (index + 1)).toPrecision(3))) },
    });
    remaining -= clones;
    classIndex++;
  }
  return {
    name: `synthetic-${size}`,
    region: "us-east-1",
    objective: { kind: "min-cost", deadlineHours: scale.deadlineHours },
    markets: ["spot", "on-demand"],
    quotas: [
      { group: "P", market: "on-demand", vcpus: scale.p },
      { group: "P", market: "spot", vcpus: scale.p },
      { group: "P5", market: "spot", vcpus: scale.p5Spot },
      { group: "G", market: "on-demand", vcpus: scale.g },
      { group: "G", market: "spot", vcpus: scale.g },
    ],
    jobs,
  };
}

function fastestOnReference(base: BaseJob, reference: Catalog["instanceTypes"][number], catalog: Catalog): number {
  const probe = parseWorkload({
    name: "probe",
    objective: { kind: "min-cost", deadlineHours: 1 },
    jobs: [{ id: "probe", ...base.spec, work: { samples: 1 } }],
  }).jobs[0];
  if (probe === undefined) throw new Error("expected the probe job to parse");
  const candidates = enumerateCandidates(probe, {
    catalog,
    region: "us-east-1",
    markets: ["on-demand"],
    instanceTypes: [reference],
    profiles: new InMemoryProfileStore([]),
  });
  const rates = candidates.flatMap((candidate) =>
    candidate.estimate.fits && candidate.config.nodes === 1 && candidate.config.gpusPerNode === reference.gpus
      ? [candidate.estimate.samplesPerSecond]
      : [],
  );
  if (rates.length === 0) throw new Error(`expected ${base.name} to fit on one ${reference.name}`);
  return Math.max(...rates);
}
