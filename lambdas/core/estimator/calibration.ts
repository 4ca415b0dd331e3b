/**
 * Calibration against published measurements (`data/published-throughput.json`): each row
 * is rebuilt as a job and a configuration on the same GPU, node shape and network, run
 * through the estimator with the published knobs, and compared per GPU (tokens/s for
 * transformers, images/s for CNNs).
 * Pure: the caller reads the file.
 */
import { z } from "zod";
import type { Catalog, InstanceType } from "../catalog/types.ts";
import { InvalidWorkloadError } from "../errors.ts";
import { formatIssues } from "../spec/format-issues.ts";
import type { Job } from "../spec/workload.ts";
import { TECHNIQUES } from "../spec/workload-schema.ts";
import { estimateWithSettings } from "./estimate.ts";
import type { Configuration, ThroughputEstimate } from "./types.ts";

const calibrationRowSchema = z.strictObject({
  id: z.string().min(1),
  csvRow: z.string(),
  model: z.strictObject({
    name: z.string().min(1),
    family: z.enum(["decoder", "vit", "cnn"]),
    parameters: z.number().positive(),
    /** Mixture of experts: parameters one token passes through (compute); `parameters` counts every expert (memory). */
    activeParameters: z.number().positive().optional(),
    layers: z.int().min(1),
    hiddenSize: z.int().min(1),
    vocabularySize: z.int().min(0),
    /** CNNs only (transformer FLOPs follow from the shape); 0 otherwise. */
    forwardFlopsPerSample: z.number().min(0),
    source: z.string().min(1),
  }),
  method: z.enum(["full", "lora"]),
  loraRank: z.int().min(0),
  technique: z.enum(TECHNIQUES),
  publishedParallelism: z.string().min(1),
  precision: z.string().min(1),
  /** How the run stored weights, gradients and moments: "mixed" (fp32 master, the default) or "bf16". */
  statePrecision: z.enum(["mixed", "bf16"]).default("mixed"),
  /** Catalog GPU key. */
  gpu: z.string().min(1),
  /** Catalog instance type with this GPU and node shape: intra-node bus, vCPUs, host RAM. */
  hardwareLike: z.string().min(1),
  nodes: z.int().min(1),
  gpusPerNode: z.int().min(1),
  networkGbps: z.number().positive(),
  /** RDMA-class network (EFA, InfiniBand, RoCE): NCCL reaches about line rate. */
  networkRdma: z.boolean(),
  /** Tokens per sample (0 for CNNs). */
  sequenceLength: z.int().min(0),
  /** Null: not published; the estimator picks the fastest micro-batch that fits. */
  microBatchSize: z.int().min(1).nullable(),
  globalBatchSize: z.int().min(1),
  activationCheckpointing: z.boolean(),
  measured: z.strictObject({ value: z.number().positive(), unit: z.string().min(1) }),
  /** The measured figure per GPU: tokens/s for transformers, samples/s (images/s) for CNNs. */
  measuredPerGpu: z.strictObject({ value: z.number().positive(), unit: z.enum(["tokens/s", "samples/s"]) }),
  /** Peak GPU memory per GPU where the source states it (GiB); compared, not checked. */
  measuredPeakMemoryGiBPerGpu: z.number().positive().optional(),
  conversion: z.string().min(1),
  source: z.string().min(1),
  notes: z.string(),
  /**
   * Set when the row is kept for the record but outside what the model represents; the
   * calibration table shows it, the ±35% check skips it. The reason says which assumption differs.
   */
  excludedBecause: z.string().min(1).optional(),
});

export type CalibrationRow = z.infer<typeof calibrationRowSchema>;

const calibrationFileSchema = z.strictObject({ description: z.string(), rows: z.array(calibrationRowSchema).min(1) });

export function parseCalibrationRows(data: unknown): CalibrationRow[] {
  const result = calibrationFileSchema.safeParse(data);
  if (!result.success) {
    throw new InvalidWorkloadError(formatIssues(result.error.issues, data), { subject: "calibration file" });
  }
  return result.data.rows;
}

export interface CalibrationResult {
  readonly row: CalibrationRow;
  readonly estimate: ThroughputEstimate;
  /** Estimated figure per GPU in the unit of `row.measuredPerGpu`; undefined when it does not fit. */
  readonly estimatedPerGpu: number | undefined;
  /** (estimated − measured) / measured; undefined when it does not fit. */
  readonly relativeError: number | undefined;
}

export function calibrate(row: CalibrationRow, catalog: Catalog): CalibrationResult {
  const base = catalog.instanceTypes.find((type) => type.name === row.hardwareLike);
  if (base === undefined) {
    throw new InvalidWorkloadError(
      [
        {
          path: `rows[${row.id}].hardwareLike`,
          message: `expected a catalog instance type, got '${row.hardwareLike}'`,
        },
      ],
      { subject: "calibration file" },
    );
  }
  if (base.gpuModel !== row.gpu) {
    throw new InvalidWorkloadError(
      [{ path: `rows[${row.id}].gpu`, message: `expected ${base.name}'s GPU '${base.gpuModel}', got '${row.gpu}'` }],
      { subject: "calibration file" },
    );
  }
  const instance: InstanceType = {
    ...base,
    name: `calibration.${row.id}`,
    networkGbps: row.networkGbps,
    efa: row.networkRdma,
  };
  const hardware: Catalog = { ...catalog, instanceTypes: [instance] };
  const job = calibrationJob(row);
  const config: Configuration = {
    technique: row.technique,
    instanceType: instance.name,
    nodes: row.nodes,
    gpusPerNode: row.gpusPerNode,
  };
  const estimate = bestWithPublishedKnobs(job, config, hardware, row);
  const gpus = row.nodes * row.gpusPerNode;
  const perSample = row.measuredPerGpu.unit === "tokens/s" ? row.sequenceLength : 1;
  const estimatedPerGpu = estimate.fits ? (estimate.samplesPerSecond * perSample) / gpus : undefined;
  const measured = row.measuredPerGpu.value;
  return {
    row,
    estimate,
    estimatedPerGpu,
    relativeError: estimatedPerGpu === undefined ? undefined : (estimatedPerGpu - measured) / measured,
  };
}

/** The published micro-batch when there is one, else the fastest that fits. */
function bestWithPublishedKnobs(
  job: Job,
  config: Configuration,
  catalog: Catalog,
  row: CalibrationRow,
): ThroughputEstimate {
  const activationCheckpointing = row.activationCheckpointing;
  if (row.microBatchSize !== null) {
    return estimateWithSettings(
      job,
      config,
      catalog,
      { microBatchSize: row.microBatchSize, activationCheckpointing },
      row.statePrecision,
    );
  }
  let best: ThroughputEstimate | undefined;
  for (let microBatchSize = 1; microBatchSize <= row.globalBatchSize; microBatchSize *= 2) {
    const estimate = estimateWithSettings(
      job,
      config,
      catalog,
      { microBatchSize, activationCheckpointing },
      row.statePrecision,
    );
    if (best === undefined || (estimate.fits && (!best.fits || estimate.samplesPerSecond > best.samplesPerSecond))) {
      best = estimate;
    }
  }
  return best as ThroughputEstimate;
}

export function calibrationJob(row: CalibrationRow): Job {
  return {
    id: row.id,
    sourceId: row.id,
    modelName: row.model.name,
    model: { ...row.model, sequenceLength: row.sequenceLength },
    method: row.method,
    loraRank: row.loraRank,
    batchSize: row.globalBatchSize,
    sequenceLength: row.sequenceLength,
    totalSamples: row.globalBatchSize,
    techniques: [row.technique],
    checkpointable: true,
    datasetGiB: 0,
    deadlineHours: undefined,
    entrypoint: { recipe: row.model.family === "decoder" ? "causal-lm" : "image-classification" },
    hyperparameters: {},
  };
}
