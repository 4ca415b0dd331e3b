/**
 * The identity of a job as far as throughput goes: everything that changes samples/s or
 * memory, nothing that does not (id, learning rate, amount of work). Sweep clones share it,
 * which is what makes memoising estimates and reusing measured profiles work.
 */
import type { Job } from "../spec/workload.ts";

export function jobSignature(job: Job): string {
  const m = job.model;
  const method = job.method === "lora" ? `lora-r${job.loraRank}` : "full";
  const active = m.activeParameters === undefined ? "" : `-a${m.activeParameters}`;
  const architecture = `${m.family}-p${m.parameters}${active}-l${m.layers}-h${m.hiddenSize}-v${m.vocabularySize}-f${m.forwardFlopsPerSample}`;
  return `${job.modelName}/${method}/b${job.batchSize}/s${job.sequenceLength}/${architecture}`;
}
