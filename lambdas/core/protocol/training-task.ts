/**
 * What the harness trains for one job (the protocol's `TrainingTask`), built the same way
 * for an attempt, a profile run and a plug-in's local search (`saturn profile`).
 */
import { MODEL_PRESET_NAMES } from "../models/presets.ts";
import type { Job } from "../spec/workload.ts";
import type { TrainingTask } from "./worker-protocol.ts";

export function trainingTaskOf(job: Job, totalSamples: number): TrainingTask {
  return {
    // A preset by name (the harness builds it from its own config); anything else as the architecture.
    model: (MODEL_PRESET_NAMES as readonly string[]).includes(job.modelName) ? job.modelName : { ...job.model },
    method: job.method,
    ...(job.method === "lora" ? { loraRank: job.loraRank } : {}),
    batchSize: job.batchSize,
    sequenceLength: job.sequenceLength,
    totalSamples,
    entrypoint: job.entrypoint,
    hyperparameters: { ...job.hyperparameters },
  };
}
