/**
 * The reconciler: record (desired state: plan, version, decisions so far) + observed state
 * (instances by tag, worker reports, launch failures, spend, now) -> actions that close the
 * difference, and the next record.
 *
 * Level-triggered and idempotent. Every decision is taken from what is observed now, never
 * from remembering that an action was sent:
 *   - a slot is launched only while no instance carries its tags (and the launch carries a
 *     client token derived from workload, plan version and slot, so even a launch whose
 *     result was lost returns the same instance);
 *   - a job is assigned only while no attempt of it runs, with an attempt id derived from
 *     the number of attempts the workers have seen, so a repeated start is a no-op;
 *   - progress lives in the workers' checkpoints, never in the record;
 *   - record updates are set unions and minimums (see ingest.ts).
 * Running it twice, or after a crash at any line, therefore never launches or terminates
 * twice and never loses a checkpoint. The rules are documented in docs/execution.md.
 */
import type { CloudInstance } from "../cloud/cloud-port.ts";
import { SATURN_TAGS } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import type { Assignment } from "../planner/plan.ts";
import type { Job } from "../spec/workload.ts";
import { jobDeadlineAt, objectiveBudgetUsd } from "./deadlines.ts";
import type {
  Action,
  ExecutionRecord,
  ExecutionStatus,
  ObservedState,
  ReconcileResult,
  ReplanRequest,
} from "./execution-record.ts";
import {
  cutRegion,
  ingestInterruptions,
  ingestLaunchFailures,
  ingestMeasurements,
  unstartedAttempts,
  workerCrashes,
} from "./ingest.ts";
import {
  assignmentInstances,
  attemptMatches,
  instancesBySlot,
  isLive,
  isUsable,
  launchClientToken,
  neededSlots,
  pendingAssignments,
  slotOf,
} from "./plan-view.ts";
import { liveBurnUsd, type ProjectionInput, projectedJobEnd, projectedSpendUsd } from "./projection.ts";
import type { ReconcileContext } from "./reconcile-context.ts";
import { mustLeaveSpot } from "./spot-fallback.ts";
import { chargeStartedTransfers, spentUsd, transferPrices } from "./transfer-ledger.ts";

const BUDGET_REASON = "projected spend exceeds the";

export function reconcile(
  record: ExecutionRecord,
  observed: ObservedState,
  context: ReconcileContext,
): ReconcileResult {
  const actions: Action[] = [];
  const { now } = observed;
  const reports = new Map(observed.jobs.map((report) => [report.jobId, report]));
  let next = ingestLaunchFailures(record, observed.launchFailures, observed.instances, context);
  next = ingestInterruptions(next, observed.instances);
  // Before jobs settle: a job that completed since the last pass still pays its transfer.
  const prices = transferPrices(context.workload);
  next = chargeStartedTransfers(next, reports, instancesBySlot(next, observed.instances), prices, now);
  next = settleJobs(next, reports, context, now, actions);

  if (next.status === "running") next = decideTerminal(next, observed, context, actions);
  if (next.status !== "running") return { record: next, actions: teardown(next, observed, actions) };

  const jobsById = new Map(context.workload.jobs.map((job) => [job.id, job]));
  const bySlot = instancesBySlot(next, observed.instances);
  next = ingestMeasurements(next, reports, bySlot, now);
  const projection: ProjectionInput = {
    record: next,
    now,
    instances: observed.instances,
    bySlot,
    reports,
    totalSamples: new Map(context.workload.jobs.map((job) => [job.id, job.totalSamples])),
    bootSeconds: context.workload.planner.bootMinutes * 60,
    transferPrices: prices,
  };
  const requeued = new Set<string>();
  // The first reason found wins; it is folded into the record after every rule has run.
  let replanRequest: ReplanRequest | undefined = next.replanRequest;
  const requestReplan = (request: Omit<ReplanRequest, "at">) => {
    replanRequest ??= { ...request, at: now };
  };
  const requeue = (report: JobReport, reason: string) => {
    const attempt = report.attempt;
    if (attempt === undefined || requeued.has(report.jobId)) return;
    requeued.add(report.jobId);
    actions.push({ kind: "checkpoint-and-requeue", jobId: report.jobId, attemptId: attempt.attemptId, reason });
  };

  // Spot interruptions: save progress now (two-minute notice), re-plan around the loss.
  const needed = neededSlots(next);
  for (const instance of observed.instances) {
    if (!isLive(instance) || instance.interruptionNoticeAt === undefined) continue;
    for (const report of reports.values()) {
      if (report.attempt?.instanceIds.includes(instance.id)) requeue(report, `spot interruption of ${instance.id}`);
    }
    const slot = slotOf(next, instance);
    if (slot !== undefined && needed.has(slot)) {
      requestReplan({ reason: `spot interruption of ${instance.id} (${instance.instanceType})`, broken: true });
    }
  }

  // A needed slot whose instance is gone, or whose offer can no longer be launched, breaks the plan.
  for (const slot of needed) {
    const instance = bySlot.get(slot);
    const planned = next.plan.instances.find((p) => p.id === slot);
    if (instance !== undefined && !isLive(instance)) {
      requestReplan({ reason: `instance ${instance.id} for ${slot} ended (${instance.state})`, broken: true });
    } else if (instance === undefined && planned !== undefined) {
      const token = launchClientToken(next, slot);
      const excluded = next.excludedOffers.some(
        (o) =>
          o.instanceType === planned.instanceType &&
          o.market === planned.market &&
          (o.region === undefined || o.region === (planned.region ?? context.workload.region)),
      );
      if (next.failedLaunchTokens.includes(token) || excluded) {
        requestReplan({
          reason: `${slot} (${planned.instanceType} ${planned.market}) cannot be launched`,
          broken: true,
        });
      }
    }
  }

  // Attempts that are not where the current plan wants them move (with a checkpoint).
  const assignmentOf = new Map(next.plan.assignments.map((assignment) => [assignment.jobId, assignment]));
  for (const report of reports.values()) {
    if (report.attempt === undefined) continue;
    const assignment = assignmentOf.get(report.jobId);
    if (next.jobs[report.jobId]?.status !== "pending" || assignment === undefined) {
      requeue(report, `not in plan v${next.planVersion}`);
    } else if (!attemptMatches(report, assignment, bySlot)) {
      requeue(report, `plan v${next.planVersion} moves it`);
    }
  }

  next = applyDeadlineRules(next, context, projection, jobsById, requestReplan);
  next = applyThroughputRule(next, context, reports, assignmentOf, bySlot, now, requestReplan);

  const budget = objectiveBudgetUsd(next.objective);
  const spent = spentUsd(next, observed.spendUsd);
  if (
    budget !== undefined &&
    projectedSpendUsd(projection, spent, context.rules.terminationSeconds, "budget") > budget
  ) {
    // A plan adopted to get under the budget that still projects above it: re-planning again
    // would only churn; stop cleanly instead.
    const last = next.replans.at(-1);
    if (last?.adopted && last.toVersion === next.planVersion && last.reason.startsWith(BUDGET_REASON)) {
      next = {
        ...next,
        status: "stopped-for-budget",
        statusReason: `projected spend still exceeds the $${budget.toFixed(2)} budget after re-planning cheaper; stopped with $${spent.toFixed(2)} spent`,
      };
      actions.push({ kind: "stop-for-budget", reason: next.statusReason ?? "" });
      return { record: next, actions: teardown(next, observed, actions) };
    }
    requestReplan({ reason: `${BUDGET_REASON} $${budget.toFixed(2)} budget`, broken: true });
  }

  if (now - next.lastReplanAt >= context.rules.replanIntervalSeconds) {
    requestReplan({ reason: "periodic re-plan", broken: false });
  }
  next = { ...next, replanRequest };

  if (next.replanRequest !== undefined) {
    actions.push({ kind: "replan", reason: next.replanRequest.reason, broken: next.replanRequest.broken });
    actions.push(...terminateUnneeded(next, observed.instances, reports));
    return { record: next, actions };
  }

  actions.push(...launchSlots(next, observed.instances, bySlot, context, now));
  actions.push(...tagBindings(next, observed.instances));
  actions.push(...assignJobs(next, bySlot, reports, requeued, context, jobsById));
  actions.push(...terminateUnneeded(next, observed.instances, reports));
  return { record: next, actions };
}

function settleJobs(
  record: ExecutionRecord,
  reports: ReadonlyMap<string, JobReport>,
  context: ReconcileContext,
  now: number,
  actions: Action[],
): ExecutionRecord {
  let jobs = record.jobs;
  for (const job of context.workload.jobs) {
    const state = jobs[job.id];
    const report = reports.get(job.id);
    if (state === undefined || state.status !== "pending") continue;
    if (report?.completed) {
      jobs = { ...jobs, [job.id]: { ...state, status: "done", finishedAt: report.completedAt ?? now } };
      actions.push({ kind: "mark-done", jobId: job.id });
    } else if (workerCrashes(report) >= context.rules.maxWorkerCrashes && report?.attempt === undefined) {
      const last = report?.lostAttempts.filter((lost) => lost.cause === "worker-crash").at(-1);
      const reason = `worker crashed ${workerCrashes(report)} times (last: ${last?.message ?? "unknown"}); progress kept at ${report?.checkpointSamples ?? 0} of ${job.totalSamples} samples`;
      jobs = { ...jobs, [job.id]: { ...state, status: "failed", reason, finishedAt: now } };
      actions.push({ kind: "mark-failed", jobId: job.id, reason });
    } else if (unstartedAttempts(report) >= context.rules.maxWorkerCrashes && report?.attempt === undefined) {
      // Agents that keep ignoring the job's orders would otherwise be re-assigned forever.
      const last = report?.lostAttempts.filter((lost) => lost.cause === "not-running").at(-1);
      const reason = `agents did not run ${unstartedAttempts(report)} attempts (last: ${last?.message ?? "unknown"}); progress kept at ${report?.checkpointSamples ?? 0} of ${job.totalSamples} samples`;
      jobs = { ...jobs, [job.id]: { ...state, status: "failed", reason, finishedAt: now } };
      actions.push({ kind: "mark-failed", jobId: job.id, reason });
    }
  }
  return jobs === record.jobs ? record : { ...record, jobs };
}

function decideTerminal(
  record: ExecutionRecord,
  observed: ObservedState,
  context: ReconcileContext,
  actions: Action[],
): ExecutionRecord {
  if (record.cancelRequested) return { ...record, status: "cancelled", statusReason: "cancelled on request" };
  const states = Object.values(record.jobs);
  if (states.every((state) => state.status !== "pending")) {
    const failed = states.filter((state) => state.status === "failed").length;
    return failed === 0
      ? { ...record, status: "completed", statusReason: `all ${states.length} jobs completed` }
      : { ...record, status: "failed", statusReason: `${failed} of ${states.length} jobs failed` };
  }
  const budget = objectiveBudgetUsd(record.objective);
  const guardSeconds = context.rules.tickSeconds + context.rules.terminationSeconds;
  // Spend counts the inter-region transfer charged so far: the budget covers it too.
  const spent = spentUsd(record, observed.spendUsd);
  if (budget !== undefined && spent + liveBurnUsd(observed.instances, guardSeconds) >= budget) {
    const reason = `spend $${spent.toFixed(2)} would cross the $${budget.toFixed(2)} budget within ${guardSeconds} s; stopped all instances`;
    actions.push({ kind: "stop-for-budget", reason });
    return { ...record, status: "stopped-for-budget", statusReason: reason };
  }
  return record;
}

/** Ends everything of a finished, failed, cancelled or stopped workload; `finish` once nothing is left. */
function teardown(record: ExecutionRecord, observed: ObservedState, actions: Action[]): Action[] {
  for (const report of observed.jobs) {
    if (report.attempt !== undefined) {
      actions.push({
        kind: "checkpoint-and-requeue",
        jobId: report.jobId,
        attemptId: report.attempt.attemptId,
        reason: `workload ${record.status}`,
      });
    }
  }
  const live = observed.instances.filter(isLive).map((instance) => instance.id);
  if (live.length > 0) actions.push({ kind: "terminate", instanceIds: live, reason: `workload ${record.status}` });
  const draining = observed.instances.some((instance) => instance.state === "shutting-down");
  if (live.length === 0 && !draining) {
    actions.push({ kind: "finish", status: record.status as ExecutionStatus, reason: record.statusReason ?? "" });
  }
  return actions;
}

function applyDeadlineRules(
  record: ExecutionRecord,
  context: ReconcileContext,
  projection: ProjectionInput,
  jobsById: ReadonlyMap<string, Job>,
  requestReplan: (request: Omit<ReplanRequest, "at">) => void,
): ExecutionRecord {
  let next = record;
  const { now } = projection;
  const spot = context.workload.spot;
  for (const assignment of pendingAssignments(record)) {
    const job = jobsById.get(assignment.jobId);
    const state = next.jobs[assignment.jobId];
    if (job === undefined || state === undefined) continue;
    const deadlineAt = jobDeadlineAt(job, record.objective, record.startedAt);
    if (deadlineAt === undefined) continue;
    const report = projection.reports.get(job.id);
    const attempt = report?.attempt;
    const onSpot = assignmentInstances(assignment, projection.bySlot).some((i) => i?.market === "spot");
    // Once the deadline is lost (a late plan was adopted), leaving spot cannot save it.
    if (attempt !== undefined && onSpot && job.checkpointable && !state.onDemandOnly && !record.deadlineLost) {
      const leave = mustLeaveSpot({
        now,
        deadlineAt,
        remainingSamples: job.totalSamples - attempt.samplesDone,
        samplesPerSecond: attempt.samplesPerSecond ?? assignment.samplesPerSecond,
        bootSeconds: context.workload.planner.bootMinutes * 60,
        restartSeconds: spot.restartMinutes * 60,
        checkpointIntervalSeconds: spot.checkpointIntervalMinutes * 60,
        tickSeconds: context.rules.tickSeconds,
        checkpointOnNotice: context.rules.checkpointOnNotice,
      });
      if (leave && report !== undefined) {
        // Pinned to on-demand for every plan from now on, but not stopped here: the job keeps
        // training on spot until a re-plan that moves it is adopted (the "plan moves it" rule
        // then checkpoints it). A hedge the approved money cannot pay for is declined
        // (decideAdoption), and a job stopped up front would only restart where it was,
        // paying a restart for nothing: in the 1,000-job benchmark that churn, one job after
        // another, held 15 instances past the deadline (docs/decisions.md, session 6).
        next = { ...next, jobs: { ...next.jobs, [job.id]: { ...state, onDemandOnly: true } } };
        requestReplan({ reason: `deadline: ${job.id} moves from spot to on-demand`, broken: true, hedge: true });
        continue;
      }
    }
    const end = projectedJobEnd(projection, assignment);
    // Late against the deadline and later than the current plan says: a plan that already
    // accepts lateness (the deadline could not be met) is not re-planned again for it.
    const plannedEnd = record.planOrigin + assignment.end;
    const lateAgainstPlan = end > plannedEnd + context.rules.tickSeconds;
    if (end > deadlineAt && lateAgainstPlan && state.deviationReportedInPlan !== record.planVersion) {
      next = { ...next, jobs: { ...next.jobs, [job.id]: { ...state, deviationReportedInPlan: record.planVersion } } };
      requestReplan({
        reason: `deadline: ${job.id} projected to end ${((end - deadlineAt) / 60).toFixed(0)} min late`,
        broken: true,
        late: true,
      });
    }
  }
  return next;
}

function applyThroughputRule(
  record: ExecutionRecord,
  context: ReconcileContext,
  reports: ReadonlyMap<string, JobReport>,
  assignmentOf: ReadonlyMap<string, Assignment>,
  bySlot: ReadonlyMap<string, CloudInstance>,
  now: number,
  requestReplan: (request: Omit<ReplanRequest, "at">) => void,
): ExecutionRecord {
  let next = record;
  for (const report of reports.values()) {
    const attempt = report.attempt;
    const assignment = assignmentOf.get(report.jobId);
    const state = next.jobs[report.jobId];
    if (attempt?.samplesPerSecond === undefined || assignment === undefined || state === undefined) continue;
    if (!attemptMatches(report, assignment, bySlot)) continue;
    if (now - attempt.startedAt < context.rules.throughputGraceSeconds) continue;
    if (state.throughputReportedForAttempt === attempt.attemptId) continue;
    const ratio = attempt.samplesPerSecond / assignment.samplesPerSecond;
    if (Math.abs(ratio - 1) > context.rules.throughputDeviation) {
      next = {
        ...next,
        jobs: { ...next.jobs, [report.jobId]: { ...state, throughputReportedForAttempt: attempt.attemptId } },
      };
      requestReplan({
        reason: `throughput: ${report.jobId} runs at ${(ratio * 100).toFixed(0)}% of plan`,
        broken: false,
      });
    }
  }
  return next;
}

function launchSlots(
  record: ExecutionRecord,
  instances: readonly CloudInstance[],
  bySlot: ReadonlyMap<string, CloudInstance>,
  context: ReconcileContext,
  now: number,
): Action[] {
  const actions: Action[] = [];
  const needed = neededSlots(record);
  const usage = new Map<string, number>();
  // Quotas are per region: usage is counted per region, group and market.
  const home = context.workload.region;
  const key = (group: string, market: string, region: string | undefined) => `${region ?? home}/${group}/${market}`;
  for (const instance of instances.filter(isLive)) {
    const shape = context.instanceTypes.get(instance.instanceType);
    if (shape === undefined) continue;
    const k = key(shape.quotaGroups[instance.market], instance.market, instance.region);
    usage.set(k, (usage.get(k) ?? 0) + shape.vcpus);
  }
  const slots = [...record.plan.instances].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  // Nodes of multi-node attempts share a zone and the cluster placement group.
  const clustered = new Set(
    record.plan.assignments.filter((a) => a.instanceIds.length > 1).flatMap((a) => a.instanceIds),
  );
  for (const planned of slots) {
    if (!needed.has(planned.id) || bySlot.has(planned.id)) continue;
    if (now < record.planOrigin + planned.start) continue;
    const token = launchClientToken(record, planned.id);
    if (record.failedLaunchTokens.includes(token)) continue;
    const shape = context.instanceTypes.get(planned.instanceType);
    if (shape === undefined) continue;
    const group = shape.quotaGroups[planned.market];
    const region = planned.region ?? home;
    const cut = record.quotaCuts.find(
      (c) => c.group === group && c.market === planned.market && cutRegion(c, home) === region,
    )?.vcpus;
    const quotas = context.quotasByRegion?.[region] ?? context.quotas;
    const quota = Math.min(quotas[group]?.[planned.market] ?? 0, cut ?? Number.POSITIVE_INFINITY);
    const used = usage.get(key(group, planned.market, planned.region)) ?? 0;
    // A late predecessor can still hold the quota the plan gave this slot: wait for it.
    if (used + shape.vcpus > quota) continue;
    usage.set(key(group, planned.market, planned.region), used + shape.vcpus);
    actions.push({
      kind: "launch",
      slot: planned.id,
      request: {
        instanceType: planned.instanceType,
        market: planned.market,
        ...(planned.region === undefined ? {} : { region: planned.region }),
        availabilityZone: planned.availabilityZone,
        tags: slotTags(record, planned.id),
        clientToken: token,
        ...(clustered.has(planned.id) ? { cluster: true } : {}),
      },
    });
  }
  return actions;
}

export function slotTags(record: ExecutionRecord, slot: string): Record<string, string> {
  return {
    [SATURN_TAGS.workload]: record.workloadName,
    [SATURN_TAGS.plan]: String(record.planVersion),
    [SATURN_TAGS.role]: "worker",
    [SATURN_TAGS.slot]: slot,
  };
}

/** Instances adopted from an earlier plan carry the current plan's tags (the truth a sweeper reads). */
function tagBindings(record: ExecutionRecord, instances: readonly CloudInstance[]): Action[] {
  const actions: Action[] = [];
  for (const [slot, id] of Object.entries(record.bindings)) {
    const instance = instances.find((i) => i.id === id);
    if (instance === undefined || !isLive(instance)) continue;
    const tags = slotTags(record, slot);
    if (Object.entries(tags).some(([k, v]) => instance.tags[k] !== v)) {
      actions.push({ kind: "tag", instanceId: id, tags });
    }
  }
  return actions;
}

function assignJobs(
  record: ExecutionRecord,
  bySlot: ReadonlyMap<string, CloudInstance>,
  reports: ReadonlyMap<string, JobReport>,
  requeued: ReadonlySet<string>,
  context: ReconcileContext,
  jobsById: ReadonlyMap<string, Job>,
): Action[] {
  const actions: Action[] = [];
  const free = new Map<string, number>();
  for (const instance of bySlot.values()) {
    free.set(instance.id, context.instanceTypes.get(instance.instanceType)?.gpus ?? 0);
  }
  for (const report of reports.values()) {
    for (const id of report.attempt?.instanceIds ?? []) {
      free.set(id, (free.get(id) ?? 0) - (report.attempt?.gpusPerInstance ?? 0));
    }
  }
  const spot = context.workload.spot;
  // A job the deadline rule forbids on spot is still started on a ready spot instance: the
  // running-attempt rule (applyDeadlineRules) moves it with a checkpoint on the next run.
  // Planned order is kept on shared GPUs: a job that cannot start yet reserves its GPUs, so a
  // later job never overtakes it there.
  for (const assignment of pendingAssignments(record)) {
    const report = reports.get(assignment.jobId);
    const job = jobsById.get(assignment.jobId);
    if (job === undefined || report?.attempt !== undefined || requeued.has(assignment.jobId)) continue;
    if (report?.completed) continue;
    const targets = assignmentInstances(assignment, bySlot);
    const ready = targets.every(
      (instance) =>
        instance !== undefined && isUsable(instance) && (free.get(instance.id) ?? 0) >= assignment.gpusPerInstance,
    );
    for (const instance of targets) {
      if (instance !== undefined) free.set(instance.id, (free.get(instance.id) ?? 0) - assignment.gpusPerInstance);
    }
    if (!ready) continue;
    const attemptId = `${job.id}#${(report?.attemptsStarted ?? 0) + 1}`;
    // The job's last attempt was never run by its agent: its order stays in the instance's
    // document, so a stop order makes sure a late agent does not start it beside the new
    // one (an agent never starts a stopped attempt id), and the audit trail says why.
    const unstarted = report?.lostAttempts.find(
      (lost) => lost.cause === "not-running" && lost.attemptId === `${job.id}#${report.attemptsStarted}`,
    );
    if (unstarted !== undefined) {
      actions.push({
        kind: "checkpoint-and-requeue",
        jobId: job.id,
        attemptId: unstarted.attemptId,
        reason: `attempt lost: ${unstarted.message}; re-assigned as ${attemptId} from ${report?.checkpointSamples ?? 0} samples`,
      });
    }
    actions.push({
      kind: "assign",
      request: {
        jobId: job.id,
        attemptId,
        instanceIds: targets.map((instance) => instance?.id ?? ""),
        gpusPerInstance: assignment.gpusPerInstance,
        fromSamples: report?.checkpointSamples ?? 0,
        totalSamples: job.totalSamples,
        plannedSamplesPerSecond: assignment.samplesPerSecond,
        checkpointIntervalSeconds: spot.checkpointIntervalMinutes * 60,
        checkpointable: job.checkpointable,
      },
    });
  }
  return actions;
}

/**
 * Teardown as soon as no future assignment needs an instance: live instances that fill no
 * needed slot and run no attempt. An attempt this pass moves with a checkpoint keeps its
 * instances until it has ended: on AWS the stop order is a document the agent reads within
 * seconds, and terminating in the same pass lost the checkpoint (the attempt resumed from
 * its last periodic one, or from 0), even within a spot notice's two minutes.
 */
function terminateUnneeded(
  record: ExecutionRecord,
  instances: readonly CloudInstance[],
  reports: ReadonlyMap<string, JobReport>,
): Action[] {
  const needed = neededSlots(record);
  const busy = new Set<string>();
  for (const report of reports.values()) {
    for (const id of report.attempt?.instanceIds ?? []) busy.add(id);
  }
  const idle = instances.filter((instance) => {
    if (!isLive(instance) || busy.has(instance.id)) return false;
    if (instance.interruptionNoticeAt !== undefined) return true;
    const slot = slotOf(record, instance);
    return slot === undefined || !needed.has(slot);
  });
  if (idle.length === 0) return [];
  return [
    {
      kind: "terminate",
      instanceIds: idle.map((instance) => instance.id),
      reason: "no future assignment needs it",
    },
  ];
}
