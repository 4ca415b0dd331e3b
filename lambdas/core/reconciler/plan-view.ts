/**
 * Reading the current plan against what runs: which instance fills which plan slot, which
 * slots still have work, which instances can take work now.
 */
import { type CloudInstance, SATURN_TAGS } from "../cloud/cloud-port.ts";
import type { JobReport } from "../cloud/worker-port.ts";
import type { Assignment, PlannedInstance } from "../planner/plan.ts";
import type { ExecutionRecord } from "./execution-record.ts";

/** Pending or running: billed now or soon, and not yet on its way out. */
export function isLive(instance: CloudInstance): boolean {
  return instance.state === "pending" || instance.state === "running";
}

/** Running and not announced for reclaim: may take new work. */
export function isUsable(instance: CloudInstance): boolean {
  return instance.state === "running" && instance.interruptionNoticeAt === undefined;
}

/** The plan slot an instance fills under the record's current plan, if any. */
export function slotOf(record: ExecutionRecord, instance: CloudInstance): string | undefined {
  if (instance.tags[SATURN_TAGS.plan] === String(record.planVersion)) return instance.tags[SATURN_TAGS.slot];
  for (const [slot, id] of Object.entries(record.bindings)) if (id === instance.id) return slot;
  return undefined;
}

/** slot -> the instance filling it (a live one preferred over an ended one). */
export function instancesBySlot(
  record: ExecutionRecord,
  instances: readonly CloudInstance[],
): ReadonlyMap<string, CloudInstance> {
  const bySlot = new Map<string, CloudInstance>();
  for (const instance of instances) {
    const slot = slotOf(record, instance);
    if (slot === undefined) continue;
    const seen = bySlot.get(slot);
    if (seen === undefined || (!isLive(seen) && isLive(instance))) bySlot.set(slot, instance);
  }
  return bySlot;
}

/** Assignments of jobs the record still counts as pending, earliest planned start first. */
export function pendingAssignments(record: ExecutionRecord): Assignment[] {
  return record.plan.assignments
    .filter((assignment) => record.jobs[assignment.jobId]?.status === "pending")
    .sort((a, b) => a.start - b.start || a.jobId.localeCompare(b.jobId));
}

/** Slots that some pending job's assignment still needs. */
export function neededSlots(record: ExecutionRecord): ReadonlySet<string> {
  return new Set(pendingAssignments(record).flatMap((assignment) => assignment.instanceIds));
}

export function plannedSlot(record: ExecutionRecord, slot: string): PlannedInstance | undefined {
  return record.plan.instances.find((instance) => instance.id === slot);
}

/** The cloud ids an assignment maps to now (undefined where a slot has no instance). */
export function assignmentInstances(
  assignment: Assignment,
  bySlot: ReadonlyMap<string, CloudInstance>,
): (CloudInstance | undefined)[] {
  return assignment.instanceIds.map((slot) => bySlot.get(slot));
}

/** True when the running attempt sits exactly where the assignment wants it. */
export function attemptMatches(
  report: JobReport,
  assignment: Assignment,
  bySlot: ReadonlyMap<string, CloudInstance>,
): boolean {
  const attempt = report.attempt;
  if (attempt === undefined) return false;
  if (attempt.gpusPerInstance !== assignment.gpusPerInstance) return false;
  const wanted = assignmentInstances(assignment, bySlot).map((instance) => instance?.id);
  return wanted.length === attempt.instanceIds.length && wanted.every((id, k) => id === attempt.instanceIds[k]);
}

export function launchClientToken(record: ExecutionRecord, slot: string): string {
  return `${record.workloadName}:${record.startedAt}:v${record.planVersion}:${slot}`;
}
