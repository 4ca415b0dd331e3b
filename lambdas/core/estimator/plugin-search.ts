/**
 * A plug-in technique's own answer to "does this job fit on G GPUs, and how long would it
 * take" (its `search(task, gpus)`, run by `python -m saturn_harness.search`), turned into
 * profile records with `basis: "plugin-estimate"`: the figure a plug-in configuration is
 * priced with until a measurement replaces it (docs/estimator.md, "Plug-in techniques").
 *
 * Saturn's interface gives `search` only the task and a GPU count, not the GPU: its estimate
 * is the same on every instance type. The caller therefore names the instance types the
 * estimate holds for; a record is written for each of their shapes with that GPU count.
 */
import { z } from "zod";
import type { InstanceType } from "../catalog/types.ts";
import type { Job } from "../spec/workload.ts";
import { techniqueNameSchema } from "../spec/workload-schema.ts";
import { shapesOf } from "./candidates.ts";
import { jobSignature } from "./job-signature.ts";
import type { ProfileRecord } from "./types.ts";

/** One line of `saturn_harness.search`'s output (worker/harness/saturn_harness/search.py). */
export const pluginSearchAnswerSchema = z.strictObject({
  technique: techniqueNameSchema,
  gpus: z.int().min(1),
  fits: z.boolean(),
  knobs: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).nullable(),
  estimatedSeconds: z.number().positive().finite().nullable(),
  reason: z.string().nullable(),
});
export type PluginSearchAnswer = z.infer<typeof pluginSearchAnswerSchema>;

/** GPU counts a search must answer for these types: nodes x GPUs per node of every shape. */
export function searchGpuCounts(instanceTypes: readonly InstanceType[]): number[] {
  const counts = new Set<number>();
  for (const type of instanceTypes) for (const shape of shapesOf(type)) counts.add(shape.nodes * shape.gpusPerNode);
  return [...counts].sort((a, b) => a - b);
}

export interface PluginSearchRecords {
  readonly records: readonly ProfileRecord[];
  /** GPU counts where the plug-in fits but gave no runtime: only a measurement can price them. */
  readonly withoutRuntime: readonly number[];
}

export interface PluginSearchInput {
  readonly job: Job;
  readonly technique: string;
  readonly instanceTypes: readonly InstanceType[];
  readonly answers: readonly PluginSearchAnswer[];
  /** When the search ran (ISO 8601) and where (e.g. `plugin-search:hostname`). */
  readonly measuredAt: string;
  readonly where: string;
}

export class PluginSearchAnswerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PluginSearchAnswerError";
  }
}

export function recordsFromPluginSearch(input: PluginSearchInput): PluginSearchRecords {
  const byGpus = new Map<number, PluginSearchAnswer>();
  for (const answer of input.answers) {
    if (answer.technique !== input.technique) {
      throw new PluginSearchAnswerError(
        `technique: expected answers of '${input.technique}', got '${answer.technique}' (gpus ${answer.gpus})`,
      );
    }
    byGpus.set(answer.gpus, answer);
  }
  const signature = jobSignature(input.job);
  const records: ProfileRecord[] = [];
  const withoutRuntime = new Set<number>();
  for (const type of input.instanceTypes) {
    for (const shape of shapesOf(type)) {
      const gpus = shape.nodes * shape.gpusPerNode;
      const answer = byGpus.get(gpus);
      if (answer === undefined) {
        throw new PluginSearchAnswerError(`gpus: expected an answer for ${gpus} GPU(s), got none`);
      }
      const base = {
        jobSignature: signature,
        technique: input.technique,
        instanceType: type.name,
        ...shape,
        peakMemoryGiBPerGpu: 0,
        measuredAt: input.measuredAt,
        where: input.where,
        basis: "plugin-estimate" as const,
      };
      if (!answer.fits) {
        records.push({
          ...base,
          samplesPerSecond: 0,
          fits: false,
          reason: (answer.reason ?? "the plug-in's search says it does not fit").slice(0, 500),
        });
      } else if (answer.estimatedSeconds === null) {
        withoutRuntime.add(gpus);
      } else {
        records.push({
          ...base,
          samplesPerSecond: input.job.totalSamples / answer.estimatedSeconds,
          ...(answer.knobs === null ? {} : { knobs: answer.knobs }),
        });
      }
    }
  }
  return { records, withoutRuntime: [...withoutRuntime].sort((a, b) => a - b) };
}
