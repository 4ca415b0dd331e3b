/**
 * Time discretisation (docs/plan.md, "Time discretisation"). Jobs start on a grid of
 * slots of `slotSeconds`, the first at `originSeconds` = the boot time, so that instances
 * launched at t = 0 are ready for slot 0; an instance launched for slot t starts booting
 * at slot t's start minus the boot time. A run occupies ceil(runtime / slot) whole slots
 * in the model; the decoded plan keeps the exact runtime and ends each instance with its
 * last job, so the plan's cost and makespan are at most the model's.
 */
export interface TimeGrid {
  readonly slotSeconds: number;
  /** Slots in the horizon: every run ends by originSeconds + slots * slotSeconds. */
  readonly slots: number;
  readonly originSeconds: number;
  /** Slots during which a launch boots before its first slot: ceil(boot / slot). */
  readonly bootSlots: number;
}

/**
 * The model's column count is roughly options x slots. The budget grows with the time
 * limit (COLUMNS_PER_SECOND) between these bounds: HiGHS solves a few thousand columns in
 * seconds, and tens of thousands within a minute or two on one core (docs/plan.md).
 */
export const MIN_COLUMN_BUDGET = 6_000;
export const MAX_COLUMN_BUDGET = 30_000;
export const COLUMNS_PER_SECOND = 500;
export const MIN_SLOTS = 12;
export const MAX_SLOTS = 96;
/** Slots are whole minutes: the plan reads better and billing is per second anyway. */
const SLOT_GRANULARITY_SECONDS = 60;

export interface GridRequest {
  /** Seconds from the plan's start by which every job must end. */
  readonly horizonSeconds: number;
  readonly bootSeconds: number;
  /** Options in the model (after pruning): more options, fewer slots. */
  readonly optionCount: number;
  /** The spec's planner.slotMinutes, which wins when given. */
  readonly slotMinutes: number | undefined;
  /** Solver time limit: a longer limit affords finer slots. */
  readonly timeLimitSeconds: number;
}

export function columnBudget(timeLimitSeconds: number): number {
  return Math.min(MAX_COLUMN_BUDGET, Math.max(MIN_COLUMN_BUDGET, COLUMNS_PER_SECOND * timeLimitSeconds));
}

export function chooseGrid(request: GridRequest): TimeGrid {
  const usable = Math.max(0, request.horizonSeconds - request.bootSeconds);
  let slotSeconds: number;
  if (request.slotMinutes !== undefined) {
    slotSeconds = request.slotMinutes * 60;
  } else {
    const target = Math.min(
      MAX_SLOTS,
      Math.max(MIN_SLOTS, Math.round(columnBudget(request.timeLimitSeconds) / Math.max(1, request.optionCount))),
    );
    slotSeconds = Math.max(
      SLOT_GRANULARITY_SECONDS,
      Math.ceil(usable / target / SLOT_GRANULARITY_SECONDS) * SLOT_GRANULARITY_SECONDS,
    );
  }
  return {
    slotSeconds,
    slots: Math.floor(usable / slotSeconds + 1e-9),
    originSeconds: request.bootSeconds,
    bootSlots: Math.ceil(request.bootSeconds / slotSeconds - 1e-9),
  };
}

/** Whole slots a run of `runtimeSeconds` occupies (at least one). */
export function durationSlots(grid: TimeGrid, runtimeSeconds: number): number {
  return Math.max(1, Math.ceil(runtimeSeconds / grid.slotSeconds - 1e-9));
}

/** The slot by which a run must have ended to meet `deadlineSeconds` (the horizon when undefined). */
export function lastEndSlot(grid: TimeGrid, deadlineSeconds: number | undefined): number {
  if (deadlineSeconds === undefined) return grid.slots;
  return Math.max(
    0,
    Math.min(grid.slots, Math.floor((deadlineSeconds - grid.originSeconds) / grid.slotSeconds + 1e-9)),
  );
}

export function slotStartSeconds(grid: TimeGrid, slot: number): number {
  return grid.originSeconds + slot * grid.slotSeconds;
}
