/**
 * Folding observations into the record. Every fold is a set union or a minimum, so a
 * duplicated or reordered observation changes nothing twice.
 */
import type { CloudInstance } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import type { Assignment } from "../planner/plan.ts";
import type { ExecutionRecord, LaunchFailure, MeasuredThroughput, Offer, QuotaCut } from "./execution-record.ts";
import { attemptMatches, isLive } from "./plan-view.ts";
import type { ReconcileContext } from "./reconcile-context.ts";

function hasOffer(offers: readonly Offer[], offer: Offer): boolean {
  return offers.some(
    (o) => o.instanceType === offer.instanceType && o.market === offer.market && o.region === offer.region,
  );
}

/**
 * Capacity errors exclude the offer (type x market, in the failure's region) from re-plans;
 * quota errors cut the quota the planner sees, in the region of the failed launch only, to
 * what is demonstrably running now in that region, group and market (EC2 quotas are per
 * region: a refusal in us-west-2 says nothing about us-east-1).
 */
export function ingestLaunchFailures(
  record: ExecutionRecord,
  failures: readonly LaunchFailure[],
  instances: readonly CloudInstance[],
  context: ReconcileContext,
): ExecutionRecord {
  let next = record;
  for (const failure of failures) {
    if (next.failedLaunchTokens.includes(failure.clientToken)) continue;
    let excludedOffers = next.excludedOffers;
    let quotaCuts = next.quotaCuts;
    if (failure.kind === "capacity" || failure.kind === "other") {
      const offer = {
        instanceType: failure.instanceType,
        market: failure.market,
        ...(failure.region === undefined ? {} : { region: failure.region }),
      };
      if (!hasOffer(excludedOffers, offer)) excludedOffers = [...excludedOffers, offer];
    } else {
      const shape = context.instanceTypes.get(failure.instanceType);
      if (shape !== undefined) {
        const home = context.workload.region;
        const region = failure.region ?? home;
        const group = shape.quotaGroups[failure.market];
        const running = instances
          .filter((i) => isLive(i) && i.market === failure.market && (i.region ?? home) === region)
          .filter((i) => context.instanceTypes.get(i.instanceType)?.quotaGroups[failure.market] === group)
          .reduce((sum, i) => sum + (context.instanceTypes.get(i.instanceType)?.vcpus ?? 0), 0);
        quotaCuts = lowerQuota(quotaCuts, { group, market: failure.market, vcpus: running, region }, home);
      }
    }
    next = {
      ...next,
      excludedOffers,
      quotaCuts,
      failedLaunchTokens: [...next.failedLaunchTokens, failure.clientToken],
      replanRequest: next.replanRequest ?? {
        reason: `${failure.code} launching ${failure.instanceType} (${failure.market})`,
        broken: true,
        at: failure.at,
      },
    };
  }
  return next;
}

/** The region a cut holds in (cuts from before regions hold at home). */
export function cutRegion(cut: QuotaCut, home: string): string {
  return cut.region ?? home;
}

function lowerQuota(cuts: readonly QuotaCut[], cut: QuotaCut, home: string): readonly QuotaCut[] {
  const region = cutRegion(cut, home);
  const existing = cuts.find((c) => c.group === cut.group && c.market === cut.market && cutRegion(c, home) === region);
  if (existing === undefined) return [...cuts, cut];
  if (existing.vcpus <= cut.vcpus) return cuts;
  return cuts.map((c) => (c === existing ? cut : c));
}

export function ingestInterruptions(record: ExecutionRecord, instances: readonly CloudInstance[]): ExecutionRecord {
  const noticed = instances
    .filter((i) => i.interruptionNoticeAt !== undefined && !record.interruptedInstanceIds.includes(i.id))
    .map((i) => i.id);
  if (noticed.length === 0) return record;
  return { ...record, interruptedInstanceIds: [...record.interruptedInstanceIds, ...noticed] };
}

export function workerCrashes(report: JobReport | undefined): number {
  return report?.lostAttempts.filter((lost) => lost.cause === "worker-crash").length ?? 0;
}

/** Attempts of the job that an alive agent never ran (worker-events-fold.ts, `not-running`). */
export function unstartedAttempts(report: JobReport | undefined): number {
  return report?.lostAttempts.filter((lost) => lost.cause === "not-running").length ?? 0;
}

/**
 * Folds the throughput of attempts running where the plan put them into the record (one
 * entry per job and configuration, the latest wins), so re-plans see measured figures.
 */
export function ingestMeasurements(
  record: ExecutionRecord,
  reports: ReadonlyMap<string, JobReport>,
  bySlot: ReadonlyMap<string, CloudInstance>,
  now: number,
): ExecutionRecord {
  let measured: readonly MeasuredThroughput[] = record.measured;
  const assignmentOf = new Map<string, Assignment>(record.plan.assignments.map((a) => [a.jobId, a]));
  for (const report of reports.values()) {
    const rate = report.attempt?.samplesPerSecond;
    const assignment = assignmentOf.get(report.jobId);
    if (rate === undefined || assignment === undefined || !attemptMatches(report, assignment, bySlot)) continue;
    const instanceType = bySlot.get(assignment.instanceIds[0] ?? "")?.instanceType;
    if (instanceType === undefined) continue;
    const entry: MeasuredThroughput = {
      jobId: report.jobId,
      technique: assignment.technique,
      instanceType,
      nodes: assignment.instanceIds.length,
      gpusPerNode: assignment.gpusPerInstance,
      samplesPerSecond: rate,
      at: now,
    };
    const same = (m: MeasuredThroughput) =>
      m.jobId === entry.jobId &&
      m.technique === entry.technique &&
      m.instanceType === entry.instanceType &&
      m.nodes === entry.nodes &&
      m.gpusPerNode === entry.gpusPerNode;
    const existing = measured.find(same);
    if (existing?.samplesPerSecond === rate) continue;
    measured = [...measured.filter((m) => !same(m)), entry];
  }
  return measured === record.measured ? record : { ...record, measured };
}
