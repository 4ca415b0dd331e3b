/**
 * The targets of issue 3, evaluated on measured figures. A target whose figures are missing
 * (planner failed, plan invalid) is a MISS with the reason, never a silent pass.
 */
export interface TargetRow {
  readonly workload: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
  /** For a miss: by how much, in the target's own unit. */
  readonly shortfall: string | undefined;
  /** The best any plan on the same candidates could reach (from the workload's lower bounds), where known. */
  readonly bestPossible?: string;
}

export function savingTarget(
  workload: string,
  against: string,
  minimum: number,
  saturnUsd?: number,
  baselineUsd?: number,
  boundUsd?: number,
): TargetRow {
  const target = `>= ${percent(minimum)} cheaper than ${against} at the same deadline`;
  const bestPossible =
    boundUsd === undefined || baselineUsd === undefined ? undefined : `${percent(1 - boundUsd / baselineUsd)} cheaper`;
  if (saturnUsd === undefined || baselineUsd === undefined) return { ...missing(workload, target), bestPossible };
  const saving = 1 - saturnUsd / baselineUsd;
  return {
    workload,
    target,
    measured: `${percent(saving)} cheaper ($${saturnUsd.toFixed(2)} vs $${baselineUsd.toFixed(2)})`,
    pass: saving >= minimum,
    shortfall: saving >= minimum ? undefined : `${((minimum - saving) * 100).toFixed(1)} percentage points short`,
    bestPossible,
  };
}

export function speedupTarget(
  workload: string,
  minimum: number,
  saturnSeconds?: number,
  baselineSeconds?: number,
  boundSeconds?: number,
): TargetRow {
  const target = `>= ${minimum}x shorter makespan than current practice at its budget`;
  const bestPossible =
    boundSeconds === undefined || baselineSeconds === undefined
      ? undefined
      : `at most ${(baselineSeconds / boundSeconds).toFixed(2)}x (bound ignores the budget)`;
  if (saturnSeconds === undefined || baselineSeconds === undefined)
    return { ...missing(workload, target), bestPossible };
  const speedup = baselineSeconds / saturnSeconds;
  return {
    workload,
    target,
    measured: `${speedup.toFixed(2)}x (${hours(saturnSeconds)} vs ${hours(baselineSeconds)})`,
    pass: speedup >= minimum,
    shortfall: speedup >= minimum ? undefined : `${(minimum - speedup).toFixed(2)}x short`,
    bestPossible,
  };
}

/** Not a target of issue 3: a sanity check that the planner is never beaten by a baseline that keeps the same promise. */
export function noDearerTarget(
  workload: string,
  saturnUsd?: number,
  best?: { name: string; costUsd: number },
): TargetRow {
  const target = "(sanity) no dearer than the cheapest baseline that meets the deadline";
  if (best === undefined)
    return { workload, target, measured: "no baseline meets the deadline", pass: true, shortfall: undefined };
  if (saturnUsd === undefined) return missing(workload, target);
  const pass = saturnUsd <= best.costUsd * (1 + 1e-9);
  return {
    workload,
    target,
    measured: `$${saturnUsd.toFixed(2)} vs ${best.name} $${best.costUsd.toFixed(2)}`,
    pass,
    shortfall: pass ? undefined : `${percent(saturnUsd / best.costUsd - 1)} dearer`,
  };
}

/**
 * (sanity) Every plan's `lowerBound` is at most its own figure (cost, or makespan for
 * min-time), frontier points included: the bound holds for the plan itself (issue 7).
 */
export function boundHoldsTarget(
  workload: string,
  plans: readonly { readonly label: string; readonly figure: number; readonly bound: number }[],
): TargetRow {
  const target = "(sanity) lowerBound <= the plan's own cost (makespan for min-time), every plan and frontier point";
  if (plans.length === 0) return missing(workload, target);
  const broken = plans.filter((plan) => plan.bound > plan.figure * (1 + 1e-9) + 1e-9);
  return {
    workload,
    target,
    measured:
      broken.length === 0
        ? `${plans.length} plans, least figure / bound ${Math.min(...plans.map((plan) => plan.figure / Math.max(1e-12, plan.bound))).toFixed(4)}x`
        : broken.map((plan) => `${plan.label}: bound ${plan.bound.toFixed(2)} > ${plan.figure.toFixed(2)}`).join("; "),
    pass: broken.length === 0,
    shortfall: broken.length === 0 ? undefined : `${broken.length} of ${plans.length} plans`,
  };
}

/** Saturn's figure at most `maximum` x the reference (a baseline's cost, a lower bound). */
export function ratioTarget(
  workload: string,
  target: string,
  maximum: number,
  saturn?: number,
  reference?: number,
): TargetRow {
  if (saturn === undefined || reference === undefined || !(reference > 0)) return missing(workload, target);
  const value = saturn / reference;
  return {
    workload,
    target,
    measured: `${value.toFixed(3)}x ($${saturn.toFixed(2)} vs $${reference.toFixed(2)})`,
    pass: value <= maximum + 1e-12,
    shortfall: value <= maximum + 1e-12 ? undefined : `${(value - maximum).toFixed(3)}x over`,
  };
}

export function gapTarget(workload: string, label: string, maximum: number, gap?: number): TargetRow {
  const target = `${label}: solver gap on its slotted model within ${percent(maximum)}`;
  if (gap === undefined) return missing(workload, target);
  return {
    workload,
    target,
    measured: `gap ${percent(gap, 2)}`,
    pass: gap <= maximum,
    shortfall: gap <= maximum ? undefined : `${((gap - maximum) * 100).toFixed(2)} percentage points over`,
  };
}

export function limitTarget(workload: string, what: string, unit: string, maximum: number, value?: number): TargetRow {
  const target = `${what} <= ${maximum} ${unit}`;
  if (value === undefined || Number.isNaN(value)) return missing(workload, target);
  return {
    workload,
    target,
    measured: `${value.toFixed(unit === "s" ? 1 : 0)} ${unit}`,
    pass: value <= maximum,
    shortfall:
      value <= maximum
        ? undefined
        : `${(value - maximum).toFixed(1)} ${unit} over (${((value / maximum - 1) * 100).toFixed(0)}%)`,
  };
}

function missing(workload: string, target: string): TargetRow {
  return { workload, target, measured: "no valid plan", pass: false, shortfall: "no valid plan to measure" };
}

export function percent(value: number, digits = 1): string {
  return `${(value * 100).toFixed(digits)}%`;
}

export function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(2)} h`;
}
