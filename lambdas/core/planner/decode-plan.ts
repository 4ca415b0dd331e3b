/**
 * Slotted schedule -> concrete plan (docs/plan.md, "The decode").
 *
 * Per pool, slot by slot: instances whose bundle ended become free; if fewer instances
 * should be alive than are, free ones stop; if more, new ones launch (booting before the
 * slot); each bundle starting in the slot takes `nodes` free instances and keeps them for
 * its whole run. Because (2) counts whole instances and a free instance is always
 * available when (2) holds, no running job ever moves (decode is exact).
 *
 * Times are exact, not slotted, and compacted: an instance launches `boot` before the slot
 * of its first bundle; each bundle then starts as soon as all its instances are booted and
 * free (the previous bundle on each of them ended), in the slotted order per instance, as
 * the reconciler would start it. So no job starts later than its slot, no GPU is used twice
 * (bundles on one instance keep their order and never overlap), every instance ends with
 * its last job (never later than in the slotted schedule, so the quota rows still hold at
 * every moment) and an instance that never got a job is not launched at all. Cost is
 * recomputed from these lifetimes (per-second billing, 60 s minimum), so it is at most the
 * model's.
 */
import type { Assignment, Plan, PlannedInstance } from "./plan.ts";
import { bundleAssignments, instanceId, plannedInstance, planTotals, sortPlanParts } from "./plan-parts.ts";
import type { PlanningProblem } from "./planning-problem.ts";
import type { ScheduledBundle, SlotSchedule } from "./slot-schedule.ts";
import { slotStartSeconds, type TimeGrid } from "./time-grid.ts";

export interface DecodeContext {
  readonly problem: PlanningProblem;
  readonly grid: TimeGrid;
  readonly lowerBound: number;
  readonly gap: number;
  readonly solveSeconds: number;
  readonly modelObjective: number;
  readonly solverStatus: string;
  readonly considered: Plan["considered"];
}

interface LiveInstance {
  readonly id: string;
  /** The instance launches to be ready for its first job, even if the model had it alive earlier. */
  firstJobSlot: number | undefined;
  /** Slot from which the slotted schedule has it free again. */
  busyUntil: number;
  /** End of its last job in the slotted schedule (which free instance stops first). */
  lastSlottedEnd: number;
  /** Exact (compacted) end of its last job: when it is free, and when it terminates. */
  lastJobEnd: number;
  jobs: number;
  stopped: boolean;
}

/** A bundle with the instances the slot-by-slot pass gave it. */
interface PlacedBundle {
  readonly bundle: ScheduledBundle;
  readonly hosts: readonly LiveInstance[];
}

export function decodePlan(schedule: SlotSchedule, context: DecodeContext): Plan {
  const { problem, grid } = context;
  const instances: PlannedInstance[] = [];
  const assignments: Assignment[] = [];
  const nextJob = new Map(problem.classes.map((jobClass) => [jobClass.index, 0]));
  let counter = 0;

  for (const pool of problem.pools) {
    const alive = schedule.alive[pool.index] ?? [];
    const starting = schedule.bundles
      .filter((bundle) => bundle.option.poolIndex === pool.index)
      .sort((a, b) => a.slot - b.slot || b.option.nodes - a.option.nodes || a.option.index - b.option.index);
    if (starting.length === 0) continue;
    const live: LiveInstance[] = [];
    const all: LiveInstance[] = [];
    const placed: PlacedBundle[] = [];
    let next = 0;
    // Pass 1, on the grid: which instances each bundle runs on, and in what order.
    for (let slot = 0; slot < grid.slots; slot++) {
      const running = live.filter((instance) => !instance.stopped);
      const free = running.filter((instance) => instance.busyUntil <= slot);
      const bundlesNow: typeof starting = [];
      while (next < starting.length && (starting[next] as (typeof starting)[number]).slot === slot) {
        bundlesNow.push(starting[next] as (typeof starting)[number]);
        next++;
      }
      const needed = bundlesNow.reduce((sum, bundle) => sum + bundle.option.nodes, 0);
      // The model's alive count, but never fewer than the bundles need (guards against rounding).
      const target = Math.max(alive[slot] ?? 0, running.length - free.length + needed);
      // Stop surplus free instances, the ones idle longest first.
      free.sort((a, b) => a.lastSlottedEnd - b.lastSlottedEnd);
      let current = running.length;
      while (current > target && free.length > 0) {
        (free.shift() as LiveInstance).stopped = true;
        current--;
      }
      for (; current < target; current++) {
        const instance: LiveInstance = {
          id: instanceId(++counter, pool, problem.workload.region),
          firstJobSlot: undefined,
          busyUntil: slot,
          lastSlottedEnd: 0,
          lastJobEnd: 0,
          jobs: 0,
          stopped: false,
        };
        live.push(instance);
        all.push(instance);
        free.push(instance);
      }
      for (const bundle of bundlesNow) {
        const hosts = free.splice(0, bundle.option.nodes);
        placed.push({ bundle, hosts });
        for (const host of hosts) {
          host.busyUntil = slot + bundle.option.slots;
          host.lastSlottedEnd = Math.max(
            host.lastSlottedEnd,
            slotStartSeconds(grid, slot) + bundle.option.runtimeSeconds,
          );
          host.jobs++;
          host.firstJobSlot ??= slot;
        }
      }
    }
    // Pass 2, exact times: in slotted order, each bundle starts once all its hosts are booted
    // and free. By induction no start is later than its slot's start: a host's first bundle
    // starts at its slot (the host boots just for it) and a later one after an earlier end.
    for (const { bundle, hosts } of placed) {
      const start = Math.max(
        ...hosts.map((host) =>
          host.lastJobEnd > 0 ? host.lastJobEnd : slotStartSeconds(grid, host.firstJobSlot ?? bundle.slot),
        ),
      );
      const end = start + bundle.option.runtimeSeconds;
      const ids = hosts.map((host) => host.id);
      assignments.push(...bundleAssignments(problem, bundle.option, bundle.jobs, ids, start, end, nextJob));
      for (const host of hosts) host.lastJobEnd = end;
    }
    for (const instance of all) {
      if (instance.jobs === 0) continue;
      const start = slotStartSeconds(grid, instance.firstJobSlot ?? 0) - problem.bootSeconds;
      instances.push(plannedInstance(instance.id, pool, start, instance.lastJobEnd));
    }
  }

  sortPlanParts(instances, assignments);
  // Unmarked: the planner marks the chosen configurations once, on the plan it returns.
  const considered = context.considered;

  return {
    schemaVersion: 1,
    workload: problem.workload.name,
    objective: problem.workload.objective.kind,
    instances,
    assignments,
    totals: planTotals(instances, assignments),
    lowerBound: context.lowerBound,
    gap: context.gap,
    solveSeconds: context.solveSeconds,
    discretisation: {
      slotSeconds: grid.slotSeconds,
      slots: grid.slots,
      originSeconds: grid.originSeconds,
      modelObjective: context.modelObjective,
      solverStatus: context.solverStatus,
    },
    considered,
  };
}
