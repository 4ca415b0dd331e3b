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

export function jobTransfer(
  job: Job,
  runtimeSeconds: number,
  checkpointIntervalMinutes: number,
  home: string,
  region: string,
): TransferEstimate {
  if (home === region) return { gigabytes: 0, usd: 0 };
  const parameters = job.model.parameters;
  const trainable = job.method === "lora" ? loraParameters(job) : parameters;
  const weightsGb = (WEIGHT_BYTES_PER_PARAMETER * parameters) / 1e9;
  const checkpointGb =
    (WEIGHT_BYTES_PER_PARAMETER * (job.method === "lora" ? trainable : parameters) +
      OPTIMIZER_BYTES_PER_TRAINABLE_PARAMETER * trainable) /
    1e9;
  const checkpoints = job.checkpointable ? Math.ceil(runtimeSeconds / (checkpointIntervalMinutes * 60)) + 1 : 1;
  const gigabytes = job.datasetGiB + weightsGb + checkpoints * checkpointGb;
  return { gigabytes, usd: gigabytes * interRegionUsdPerGb(region, home) };
}
