/**
 * Parsing and resolving a workload: text -> validated spec -> resolved jobs (sweeps
 * expanded, presets looked up, work counted in samples). Pure: the caller reads the file.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { InvalidWorkloadError } from "../errors.ts";
import { architectureFromHuggingFaceConfig } from "../models/hugging-face-config.ts";
import { MODEL_PRESETS, type ModelArchitecture, type ModelPresetName } from "../models/presets.ts";
import { formatIssues } from "./format-issues.ts";
import {
  type Entrypoint,
  type JobSpecInput,
  type Market,
  type Objective,
  type PlannerSettings,
  type PluginSpec,
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
  /** GiB of training data the job reads from the home region (docs/workload.md, `datasetGiB`). */
  readonly datasetGiB: number;
  readonly deadlineHours: number | undefined;
  readonly entrypoint: Entrypoint;
  readonly hyperparameters: Readonly<Record<string, number | string | boolean>>;
}

export interface Workload {
  readonly name: string;
  /** The home region: data and checkpoints live here; the only region unless `regions` says more. */
  readonly region: string;
  /** Regions the planner may run instances in, in the spec's order (at least one). */
  readonly regions: readonly string[];
  readonly objective: Objective;
  readonly markets: readonly Market[];
  readonly instanceTypes: { readonly allow: readonly string[] | undefined; readonly deny: readonly string[] };
  readonly quotas: readonly QuotaOverride[];
  readonly spot: SpotSettings;
  readonly planner: PlannerSettings;
  /** The profiling phase before the run (absent: plan from estimates and stored profiles only). */
  readonly profiling?: ProfilingSettings;
  /**
   * Plug-in techniques the jobs may list (`techniques`), with where the worker finds each
   * module. Absent or empty: built-ins only. (Optional so that workloads stored before
   * plug-ins existed still read.)
   */
  readonly plugins?: readonly PluginSpec[];
  readonly jobs: readonly Job[];
}

/**
 * How to read files a spec refers to (`model: {huggingFaceConfig: path}`): the CLI passes
 * one that reads relative to the spec file; without it only inline configs are accepted.
 */
export interface SpecFileReader {
  /** The parsed JSON at `path`; throws InvalidWorkloadError naming the path when unreadable. */
  readonly readJson: (path: string) => unknown;
}

export interface ParseOptions {
  readonly files?: SpecFileReader;
}

/** The declaration of a plug-in technique the workload names, if it is one. */
export function pluginOf(workload: Pick<Workload, "plugins">, technique: string): PluginSpec | undefined {
  return workload.plugins?.find((plugin) => plugin.name === technique);
}

/** The home region when the spec names none. */
export const DEFAULT_REGION = "us-east-1";

/** Bytes per token of tokenised text data (uint32 token ids). */
const DATASET_BYTES_PER_TOKEN = 4;
/** Bytes per image: ImageNet-1k's training set is ~147 GB for 1.28M JPEGs, ~110 KiB each. */
const DATASET_BYTES_PER_IMAGE = 110 * 1024;

/** Parses YAML or JSON text (JSON is YAML) into a resolved workload, or throws InvalidWorkloadError. */
export function parseWorkloadText(text: string, options: ParseOptions = {}): Workload {
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
  return parseWorkload(data, options);
}

/** Validates a parsed document and resolves it. Throws InvalidWorkloadError listing every problem. */
export function parseWorkload(data: unknown, options: ParseOptions = {}): Workload {
  return resolveWorkload(validateWorkloadSpec(data), options);
}

export function validateWorkloadSpec(data: unknown): WorkloadSpec {
  const result = workloadSchema.safeParse(data);
  if (!result.success) throw new InvalidWorkloadError(formatIssues(result.error.issues, data));
  return result.data;
}

export function resolveWorkload(spec: WorkloadSpec, options: ParseOptions = {}): Workload {
  const jobs = spec.jobs.flatMap((job, index) => expandJob(job, index, options));
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
  const region = spec.region ?? spec.regions?.[0] ?? DEFAULT_REGION;
  return {
    name: spec.name,
    region,
    regions: spec.regions ?? [region],
    objective: spec.objective,
    markets: spec.markets,
    instanceTypes: { allow: spec.instanceTypes.allow, deny: spec.instanceTypes.deny },
    quotas: spec.quotas,
    spot: spec.spot,
    planner: spec.planner,
    ...(spec.profiling === undefined ? {} : { profiling: spec.profiling }),
    ...(spec.plugins.length === 0 ? {} : { plugins: spec.plugins }),
    jobs,
  };
}

function expandJob(job: JobSpecInput, index: number, options: ParseOptions): Job[] {
  const { model, modelName } = resolveModel(job.model, index, options);
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
    datasetGiB: job.datasetGiB ?? defaultDatasetGiB(job, model, sequenceLength, totalSamples),
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

/** The samples a job trains on once (one epoch of its dataset, else all its samples), as stored data. */
function defaultDatasetGiB(
  job: JobSpecInput,
  model: ModelArchitecture,
  sequenceLength: number,
  totalSamples: number,
): number {
  const samples = job.work.datasetSamples ?? totalSamples;
  const bytes =
    model.family === "decoder" ? samples * sequenceLength * DATASET_BYTES_PER_TOKEN : samples * DATASET_BYTES_PER_IMAGE;
  return bytes / 2 ** 30;
}

function resolveModel(
  spec: JobSpecInput["model"],
  index: number,
  options: ParseOptions,
): { model: ModelArchitecture; modelName: string } {
  if (typeof spec === "string") return { model: MODEL_PRESETS[spec as ModelPresetName], modelName: spec };
  if ("huggingFaceConfig" in spec) {
    const where = `jobs[${index}].model.huggingFaceConfig`;
    const reference = spec.huggingFaceConfig;
    if (typeof reference !== "string") {
      return {
        model: architectureFromHuggingFaceConfig(reference, where, `Hugging Face config inline in jobs[${index}]`),
        modelName: huggingFaceModelName(reference, "hf-inline"),
      };
    }
    if (options.files === undefined) {
      throw new InvalidWorkloadError([
        {
          path: where,
          message: `expected the config object itself here (files are read only by the CLI), got the path '${reference}'`,
        },
      ]);
    }
    const config = options.files.readJson(reference);
    return {
      model: architectureFromHuggingFaceConfig(config, `${where} (${reference})`, `Hugging Face config ${reference}`),
      modelName: huggingFaceModelName(config, `hf:${reference}`),
    };
  }
  const { activeParameters, ...dense } = spec;
  const model: ModelArchitecture = {
    ...dense,
    ...(activeParameters !== undefined && activeParameters < spec.parameters ? { activeParameters } : {}),
    source: `custom model in jobs[${index}]`,
  };
  return { model, modelName: "custom" };
}

/** `_name_or_path` when the config has one (what `save_pretrained` writes), else the fallback. */
function huggingFaceModelName(config: unknown, fallback: string): string {
  const name = (config as { _name_or_path?: unknown } | null)?._name_or_path;
  return typeof name === "string" && name !== "" ? name : fallback;
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
