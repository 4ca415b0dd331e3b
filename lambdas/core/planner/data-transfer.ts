/**
 * What running a job outside its home region moves across regions, and what that costs.
 * Data and checkpoints live in the home region (docs/plan.md, "Regions"): a job placed
 * elsewhere reads its dataset and the base model's weights from home once, and writes
 * every checkpoint back home, so a re-plan can resume it in any region.
 *
 *   GB in  = datasetGiB + 2 B x all parameters (bf16 weights of the model it starts from)
 *   GB out = checkpoints x (2 B x all parameters + 12 B x trainable parameters)
 *            (bf16 weights, fp32 master weights and two Adam moments per trainable
 *            parameter), checkpoints = ceil(runtime / checkpoint interval) + 1 (the last)
 *            for checkpointable jobs, else 1 (the final weights)
 *
 * Mixture-of-experts models move all their experts. GiB are counted as GB (AWS bills per
 * GB; the 7% difference is below the spread of the inputs).
 */
import { interRegionUsdPerGb } from "../catalog/transfer-prices.ts";
import { loraParameters } from "../estimator/model-costs.ts";
import type { Job } from "../spec/workload.ts";

const WEIGHT_BYTES_PER_PARAMETER = 2;
const OPTIMIZER_BYTES_PER_TRAINABLE_PARAMETER = 12;

export interface TransferEstimate {
  readonly gigabytes: number;
  readonly usd: number;
}

/** GB of one checkpoint: bf16 weights (LoRA: the adapters) plus fp32 master weights and two Adam moments per trainable parameter. */
function checkpointGigabytes(job: Job): number {
  const trainable = job.method === "lora" ? loraParameters(job) : job.model.parameters;
  return (
    (WEIGHT_BYTES_PER_PARAMETER * (job.method === "lora" ? trainable : job.model.parameters) +
      OPTIMIZER_BYTES_PER_TRAINABLE_PARAMETER * trainable) /
    1e9
  );
}

/** The job's inputs (dataset and the base model's bf16 weights), read from home once per stint. */
export function jobTransferIn(job: Job, home: string, region: string): TransferEstimate {
  if (home === region) return { gigabytes: 0, usd: 0 };
  const gigabytes = job.datasetGiB + (WEIGHT_BYTES_PER_PARAMETER * job.model.parameters) / 1e9;
  return { gigabytes, usd: gigabytes * interRegionUsdPerGb(region, home) };
}

/** One checkpoint moved between `region` and home (written home, or read back to resume). */
export function jobCheckpointTransfer(job: Job, home: string, region: string): TransferEstimate {
  if (home === region) return { gigabytes: 0, usd: 0 };
  const gigabytes = checkpointGigabytes(job);
  return { gigabytes, usd: gigabytes * interRegionUsdPerGb(region, home) };
}

export function jobTransfer(
  job: Job,
  runtimeSeconds: number,
  checkpointIntervalMinutes: number,
  home: string,
  region: string,
): TransferEstimate {
  if (home === region) return { gigabytes: 0, usd: 0 };
  const checkpoints = job.checkpointable ? Math.ceil(runtimeSeconds / (checkpointIntervalMinutes * 60)) + 1 : 1;
  const gigabytes = jobTransferIn(job, home, region).gigabytes + checkpoints * checkpointGigabytes(job);
  return { gigabytes, usd: gigabytes * interRegionUsdPerGb(region, home) };
}
