/** Jobs for estimator tests, built through the real spec parser so they match what users get. */
import { readFileSync } from "node:fs";
import { loadCatalog } from "../../../lambdas/adapters/catalog-file.ts";
import type { Catalog } from "../../../lambdas/core/catalog/types.ts";
import type { ModelPresetName } from "../../../lambdas/core/models/presets.ts";
import type { Job } from "../../../lambdas/core/spec/workload.ts";
import { parseWorkload } from "../../../lambdas/core/spec/workload.ts";

export const catalog: Catalog = loadCatalog();

export interface JobOptions {
  readonly model?: ModelPresetName;
  readonly method?: "full" | "lora";
  readonly loraRank?: number;
  readonly batchSize?: number;
  readonly samples?: number;
  readonly sweep?: Record<string, number[]>;
}

export function jobsOf(options: JobOptions = {}): Job[] {
  const workload = parseWorkload({
    name: "estimator-test",
    region: "us-east-1",
    objective: { kind: "min-cost", deadlineHours: 48 },
    jobs: [
      {
        id: "job",
        model: options.model ?? "gpt2-xl",
        method: options.method ?? "full",
        ...(options.loraRank === undefined ? {} : { loraRank: options.loraRank }),
        batchSize: options.batchSize ?? 16,
        work: { samples: options.samples ?? 10_000 },
        ...(options.sweep === undefined ? {} : { sweep: options.sweep }),
      },
    ],
  });
  return [...workload.jobs];
}

export function jobOf(options: JobOptions = {}): Job {
  const [job] = jobsOf(options);
  if (job === undefined) throw new Error("the fixture spec produced no job");
  return job;
}

export function instanceType(name: string) {
  const type = catalog.instanceTypes.find((candidate) => candidate.name === name);
  if (type === undefined) throw new Error(`fixture expects ${name} in data/catalog.json`);
  return type;
}

export function publishedThroughputDocument(): unknown {
  return JSON.parse(readFileSync(new URL("../../../data/published-throughput.json", import.meta.url), "utf8"));
}
