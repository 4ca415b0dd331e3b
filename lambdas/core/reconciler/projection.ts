/**
 * Projections from what is known now: when each pending job will finish, and what the
 * workload will have cost when everything planned has run. Measured throughput replaces
 * the planned figure as soon as an attempt reports one.
 */
import type { PriceBasis } from "../catalog/select.ts";
import { billedCostUsd } from "../cloud/billing.ts";
import type { CloudInstance } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import type { Assignment } from "../planner/plan.ts";
import type { ExecutionRecord } from "./execution-record.ts";
import { assignmentInstances, isLive, isUsable, pendingAssignments, slotOf } from "./plan-view.ts";
import { type TransferPrices, transferToComeUsd } from "./transfer-ledger.ts";

export interface ProjectionInput {
  readonly record: ExecutionRecord;
  readonly now: number;
  readonly instances: readonly CloudInstance[];
  readonly bySlot: ReadonlyMap<string, CloudInstance>;
  readonly reports: ReadonlyMap<string, JobReport>;
  readonly totalSamples: ReadonlyMap<string, number>;
  readonly bootSeconds: number;
  /** Transfer prices, so a re-planned job's transfer to come is counted as it will be charged. */
  readonly transferPrices?: TransferPrices;
}

/** Projected end of a pending job under the current plan. */
export function projectedJobEnd(input: ProjectionInput, assignment: Assignment): number {
  const { record, now } = input;
  const total = input.totalSamples.get(assignment.jobId) ?? 0;
  const report = input.reports.get(assignment.jobId);
  const attempt = report?.attempt;
  if (attempt !== undefined) {
    const rate = attempt.samplesPerSecond ?? assignment.samplesPerSecond;
    return now + Math.max(0, total - attempt.samplesDone) / Math.max(rate, 1e-9);
  }
  const remaining = Math.max(0, total - (report?.checkpointSamples ?? 0));
  const runSeconds = remaining / Math.max(assignment.samplesPerSecond, 1e-9);
  // Instances still booting are up by launch + boot allowance; slots not launched need a whole boot.
  const instances = assignmentInstances(assignment, input.bySlot);
  const upAt = instances.map((instance) =>
    instance === undefined
      ? now + input.bootSeconds
      : isUsable(instance)
        ? now
        : instance.launchedAt + input.bootSeconds,
  );
  const earliest = Math.max(now, ...upAt);
  return Math.max(earliest, record.planOrigin + assignment.start) + runSeconds;
}

/** When each slot with pending work will be released: the last projected end of its jobs. */
export function projectedSlotRelease(input: ProjectionInput): Map<string, number> {
  const release = new Map<string, number>();
  for (const assignment of pendingAssignments(input.record)) {
    const end = projectedJobEnd(input, assignment);
    for (const slot of assignment.instanceIds) release.set(slot, Math.max(release.get(slot) ?? 0, end));
  }
  return release;
}

/**
 * Spend so far plus what every live instance costs until its projected release, plus every
 * slot not yet launched for its projected lifetime, plus the inter-region transfer of the
 * pending assignments not charged yet (transfer-ledger.ts). `spendUsd` is what was spent,
 * transfer charged included. Instances with no future work count until their termination
 * completes.
 *
 * Live instances cost what the cloud bills them. A slot not yet launched costs its plan's
 * price on `basis`: "expected" (the plan's `hourlyPriceUsd`, to compare plans) or "budget"
 * (`budgetHourlyPriceUsd`: spot at the highest zone price, which the launch may meet), which
 * the budget check must use so that the budget stays a hard limit.
 */
export function projectedSpendUsd(
  input: ProjectionInput,
  spendUsd: number,
  terminationSeconds: number,
  basis: PriceBasis = "expected",
): number {
  const { record, now } = input;
  const release = projectedSlotRelease(input);
  let total = spendUsd;
  const launchedSlots = new Set<string>();
  for (const instance of input.instances) {
    if (!isLive(instance)) continue;
    const slot = slotOf(record, instance);
    if (slot !== undefined) launchedSlots.add(slot);
    const until = slot !== undefined && release.has(slot) ? (release.get(slot) ?? now) : now + terminationSeconds;
    // The 60-second minimum of a just-launched instance is owed whether or not it runs on.
    const end = Math.max(until, instance.launchedAt + 60);
    total += (Math.max(0, end - now) * instance.hourlyPriceUsd) / 3600;
  }
  for (const planned of record.plan.instances) {
    if (launchedSlots.has(planned.id) || input.bySlot.has(planned.id)) continue;
    const until = release.get(planned.id);
    if (until === undefined) continue;
    const start = Math.max(now, record.planOrigin + planned.start);
    const price =
      basis === "budget" ? (planned.budgetHourlyPriceUsd ?? planned.hourlyPriceUsd) : planned.hourlyPriceUsd;
    total += billedCostUsd(start, Math.max(until, record.planOrigin + planned.end), price);
  }
  const prices = input.transferPrices;
  return (
    total +
    transferToComeUsd(
      record,
      prices === undefined ? undefined : { prices, reports: input.reports, bySlot: input.bySlot, now },
    )
  );
}

/** Cost of running every live instance for `seconds` more. */
export function liveBurnUsd(instances: readonly CloudInstance[], seconds: number): number {
  return instances.filter(isLive).reduce((sum, instance) => sum + (instance.hourlyPriceUsd * seconds) / 3600, 0);
}
