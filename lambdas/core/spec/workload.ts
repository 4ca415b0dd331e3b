/**
 * Parsing and resolving a workload: text -> validated spec -> resolved jobs (sweeps
 * expanded, presets looked up, work counted in samples). Pure: the caller reads the file.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { InvalidWorkloadError } from "../errors.ts";
import { MODEL_PRESETS, type ModelArchitecture, type ModelPresetName } from "../models/presets.ts";
import { formatIssues } from "./format-issues.ts";
import {
  type Entrypoint,
  type JobSpecInput,
  type Market,
  type Objective,
  type PlannerSettings,
  type ProfilingSettings,
  type QuotaOverride,
  type SpotSettings,
  type Technique,
  type WorkloadSpec,
  workloadSchema,
} from "./workload-schema.ts";

/** A job ready for estimation and planning. */
export interface Job {
  readonly id: string;
  /** The spec job it came from (differs from `id` when a sweep expanded it). */
  readonly sourceId: string;
  readonly modelName: string;
  readonly model: ModelArchitecture;
  readonly method: "full" | "lora";
  readonly loraRank: number;
  readonly batchSize: number;
  /** Sequence length in effect (tokens for decoders, patches for ViTs, 0 for CNNs). */
  readonly sequenceLength: number;
  /** Total samples to process: the job's amount of work. */
  readonly totalSamples: number;
  readonly techniques: readonly Technique[];
  readonly checkpointable: boolean;
  readonly deadlineHours: number | undefined;
  readonly entrypoint: Entrypoint;
  readonly hyperparameters: Readonly<Record<string, number | string | boolean>>;
}

export interface Workload {
  readonly name: string;
  readonly region: string;
  readonly objective: Objective;
  readonly markets: readonly Market[];
  readonly instanceTypes: { readonly allow: readonly string[] | undefined; readonly deny: readonly string[] };
  readonly quotas: readonly QuotaOverride[];
  readonly spot: SpotSettings;
  readonly planner: PlannerSettings;
  /** The profiling phase before the run (absent: plan from estimates and stored profiles only). */
  readonly profiling?: ProfilingSettings;
  readonly jobs: readonly Job[];
}

/** Parses YAML or JSON text (JSON is YAML) into a resolved workload, or throws InvalidWorkloadError. */
export function parseWorkloadText(text: string): Workload {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos?.[0]
        ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}`
        : "(file)";
    const detail = (error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error))
      .replace(/ at line \d+, column \d+:?$/, "")
      .replace(/:$/, "");
    throw new InvalidWorkloadError([{ path: where, message: `expected valid YAML or JSON: ${detail}` }], {
      cause: error,
    });
  }
  return parseWorkload(data);
}

/** Validates a parsed document and resolves it. Throws InvalidWorkloadError listing every problem. */
export function parseWorkload(data: unknown): Workload {
  return resolveWorkload(validateWorkloadSpec(data));
}

export function validateWorkloadSpec(data: unknown): WorkloadSpec {
  const result = workloadSchema.safeParse(data);
  if (!result.success) throw new InvalidWorkloadError(formatIssues(result.error.issues, data));
  return result.data;
}

export function resolveWorkload(spec: WorkloadSpec): Workload {
  const jobs = spec.jobs.flatMap((job, index) => expandJob(job, index));
  const seen = new Map<string, string>();
  const clashes: { path: string; message: string }[] = [];
  for (const job of jobs) {
    const other = seen.get(job.id);
    if (other !== undefined) {
      clashes.push({
        path: `jobs (${job.sourceId})`,
        message: `expected unique job ids after sweep expansion, got '${job.id}' twice (from '${other}' and '${job.sourceId}')`,
      });
    }
    seen.set(job.id, job.sourceId);
  }
  if (clashes.length > 0) throw new InvalidWorkloadError(clashes);
  return {
    name: spec.name,
    region: spec.region,
    objective: spec.objective,
    markets: spec.markets,
    instanceTypes: { allow: spec.instanceTypes.allow, deny: spec.instanceTypes.deny },
    quotas: spec.quotas,
    spot: spec.spot,
    planner: spec.planner,
    ...(spec.profiling === undefined ? {} : { profiling: spec.profiling }),
    jobs,
  };
}

function expandJob(job: JobSpecInput, index: number): Job[] {
  const model: ModelArchitecture =
    typeof job.model === "string"
      ? MODEL_PRESETS[job.model as ModelPresetName]
      : { ...job.model, source: `custom model in jobs[${index}]` };
  const modelName = typeof job.model === "string" ? job.model : "custom";
  const sequenceLength = job.sequenceLength ?? model.sequenceLength;
  const work = job.work;
  const totalSamples =
    work.samples ??
    (work.steps !== undefined
      ? work.steps * job.batchSize
      : Math.ceil((work.epochs ?? 0) * (work.datasetSamples ?? 0)));
  const base: Omit<Job, "id" | "hyperparameters"> = {
    sourceId: job.id,
    modelName,
    model,
    method: job.method,
    loraRank: job.method === "lora" ? (job.loraRank ?? 16) : 0,
    batchSize: job.batchSize,
    sequenceLength,
    totalSamples,
    techniques: job.techniques,
    checkpointable: job.checkpointable,
    deadlineHours: job.deadlineHours,
    entrypoint: job.entrypoint ?? { recipe: model.family === "decoder" ? "causal-lm" : "image-classification" },
  };
  const combos = cartesian(job.sweep ?? {});
  if (combos.length === 1 && Object.keys(combos[0] ?? {}).length === 0) {
    return [{ ...base, id: job.id, hyperparameters: job.hyperparameters }];
  }
  return combos.map((combo) => ({
    ...base,
    id: `${job.id}-${Object.entries(combo)
      .map(([key, value]) => `${key}${String(value)}`)
      .join("-")}`.slice(0, 63),
    hyperparameters: { ...job.hyperparameters, ...combo },
  }));
}

function cartesian(
  sweep: Readonly<Record<string, readonly (number | string | boolean)[]>>,
): Record<string, number | string | boolean>[] {
  let combos: Record<string, number | string | boolean>[] = [{}];
  for (const [key, values] of Object.entries(sweep)) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  return combos;
}
