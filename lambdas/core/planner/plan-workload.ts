/**
 * Entry point of the planner: workload -> plan. Enumerates the candidates of every job
 * (once per distinct job shape: sweep clones share them) over the allowed instance types,
 * then runs the pipeline in `plan-from-candidates.ts`. Throws InfeasibleWorkloadError
 * (naming the binding constraint and a way out) when no plan exists.
 */
import { offeredInstanceTypes } from "../catalog/select.ts";
import { enumerateCandidates, jobSignature } from "../estimator/candidates.ts";
import type { Candidate } from "../estimator/types.ts";
import type { Workload } from "../spec/workload.ts";
import type { PlanningInput, PlanningResult } from "./api.ts";
import { type PlannerTuning, type PlanningOutcome, planFromCandidates } from "./plan-from-candidates.ts";

export async function planWorkload(input: PlanningInput, tuning: PlannerTuning = {}): Promise<PlanningResult> {
  return planWorkloadWithReports(input, tuning);
}

/** `planWorkload` plus the size and status of every model solved (for the CLI and benchmarks). */
export async function planWorkloadWithReports(
  input: PlanningInput,
  tuning: PlannerTuning = {},
): Promise<PlanningOutcome> {
  const { workload, catalog, profiles } = input;
  const instanceTypes = offeredInstanceTypes(catalog, workload);
  const context = { catalog, region: workload.region, markets: workload.markets, instanceTypes, profiles };
  return planFromCandidates(input, { instanceTypes, candidates: candidatesByJob(workload, context) }, tuning);
}

/** Every job's candidates, enumerated once per job shape (jobs of one shape share the list). */
export function candidatesByJob(
  workload: Workload,
  context: Parameters<typeof enumerateCandidates>[1],
): Map<string, readonly Candidate[]> {
  const byShape = new Map<string, Candidate[]>();
  const candidates = new Map<string, readonly Candidate[]>();
  for (const job of workload.jobs) {
    // Everything the candidates depend on: throughput (signature), work, techniques.
    const shape = `${jobSignature(job)}|${job.totalSamples}|${job.techniques.join("+")}`;
    let list = byShape.get(shape);
    if (list === undefined) {
      list = enumerateCandidates(job, context);
      byShape.set(shape, list);
    }
    candidates.set(job.id, list);
  }
  return candidates;
}
