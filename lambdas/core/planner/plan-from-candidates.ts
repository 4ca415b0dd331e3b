/**
 * The planner's pipeline once every job has its candidates:
 *   problem (classes, pools, options) -> grid -> pruning -> greedy incumbent -> MILP
 *   -> decode -> validate.
 * The best plan found within the time limit is returned with its gap; the greedy plan is
 * the fallback when the solver finds nothing better. Every returned plan has passed
 * `validatePlan`. Objectives: min-cost (deadline), min-time (budget), pareto (min-cost
 * at several deadlines between the fastest and the cheapest plan).
 */
import type { InstanceType } from "../catalog/types.ts";
import { InfeasibleWorkloadError } from "../errors.ts";
import type { Candidate } from "../estimator/types.ts";
import { type AlternativePlan, alternativePlans } from "./alternative-plans.ts";
import type { MilpSolution, PlanningInput, PlanningResult } from "./api.ts";
import { costLowerBound, keepsSpotRule, makespanLowerBound } from "./bounds.ts";
import { decodePlan } from "./decode-plan.ts";
import { greedySchedule } from "./greedy-schedule.ts";
import { budgetError, capacityError, deadlineError, noPlanFoundError, unplaceableError } from "./infeasibility.ts";
import { lpGuidedPlan, lpGuidedWithinBudget } from "./lp-guided-schedule.ts";
import { buildPlanModel, type ModelObjective, START_TIE_BREAK_USD } from "./milp-model.ts";
import type { ConsideredCandidate, Plan, PlanSource } from "./plan.ts";
import { budgetSpendUsd, expectedSpendUsd, markChosen } from "./plan-parts.ts";
import { buildPlanningProblem, type PlanningProblem } from "./planning-problem.ts";
import { DEFAULT_MAX_OPTIONS_PER_CLASS, pruneOptions, type SlottedOption } from "./prune-options.ts";
import { type SlotSchedule, slottedCostUsd, slottedMakespanSlots } from "./slot-schedule.ts";
import { chooseGrid, MAX_COLUMN_BUDGET, MIN_SLOTS, type TimeGrid } from "./time-grid.ts";
import { validatePlan } from "./validate-plan.ts";

/** Share of a solve's time limit the LP relaxation may take (it guides the greedy incumbent). */
const LP_SHARE_OF_LIMIT = 0.2;
/** Share of the time limit kept for decoding, validating and comparing after the last solve. */
const WALL_RESERVE_SHARE = 0.15;
/** The least a MILP is given, even when the limit is spent (it returns its incumbent at once). */
const MIN_SOLVE_SECONDS = 0.5;
/**
 * ... and never less than this share of what it asked for: on small workloads with short
 * limits (synthetic-100: 7 s) the work around the MILP would otherwise leave it nothing,
 * and its gap is a target of its own.
 */
const MIN_SOLVE_SHARE = 0.5;
/** Pareto mode without a budget: min-time still needs a finite budget row. */
const UNBOUNDED_BUDGET_USD = 1e9;
/** Pareto: how far below a plan's makespan the next deadline is tried. */
const PARETO_STEP_SECONDS = 60;
/** Share of a solve's time limit the model-free bound's LP may take (at most BOUND_LP_MAX_SECONDS). */
const BOUND_LP_SHARE = 0.1;
const BOUND_LP_MAX_SECONDS = 10;
/** Share of a min-cost solve's time limit the LP-guided plan's LPs may take (at most LP_GUIDED_MAX_SECONDS). */
const LP_GUIDED_SHARE = 0.2;
const LP_GUIDED_MAX_SECONDS = 20;
/** Share of a min-time solve's limit the LP-guided search within the budget may take (all its steps). */
const MIN_TIME_GUIDED_SHARE = 0.25;

export interface PlannerTuning {
  /** P3 in prune-options.ts; Infinity keeps every undominated option (exact). */
  readonly maxOptionsPerClass?: number;
  /** Overrides the grid choice (tests use it to fix the discretisation). */
  readonly grid?: (problem: PlanningProblem, horizonSeconds: number) => TimeGrid;
}

export interface CandidateInput {
  readonly instanceTypes: readonly InstanceType[];
  readonly candidates: ReadonlyMap<string, readonly Candidate[]>;
}

/** Statistics of the last model solved, for benchmarks and the CLI. */
export interface SolveReport {
  readonly classes: number;
  readonly options: number;
  readonly columns: number;
  readonly integerColumns: number;
  readonly rows: number;
  readonly slots: number;
  readonly slotSeconds: number;
  readonly status: string;
}

export interface PlanningOutcome extends PlanningResult {
  readonly reports: readonly SolveReport[];
}

interface Attempt {
  readonly plan: Plan;
  readonly modelObjective: number;
  readonly source: PlanSource;
  /** The solver's bound on the slotted objective. */
  readonly slottedBound: number;
}

export async function planFromCandidates(
  input: PlanningInput,
  candidateInput: CandidateInput,
  tuning: PlannerTuning = {},
): Promise<PlanningOutcome> {
  const clock = input.clock;
  const started = clock?.() ?? 0;
  const { workload } = input;
  const problem = buildPlanningProblem({
    workload,
    quotas: input.quotas,
    ...(input.quotasByRegion === undefined ? {} : { quotasByRegion: input.quotasByRegion }),
    instanceTypes: candidateInput.instanceTypes,
    candidates: candidateInput.candidates,
    ...(input.excludedOffers === undefined ? {} : { excludedOffers: input.excludedOffers }),
  });
  if (problem.unplaceable.length > 0) throw unplaceableError(problem);
  input.onProgress?.(
    `planning problem: ${problem.classes.length} job classes, ${problem.options.length} options, ${problem.pools.length} pools`,
  );

  const warnings: string[] = [];
  const reports: SolveReport[] = [];
  const considered = consideredCandidates(problem);
  const timeLimit = workload.planner.timeLimitSeconds;
  let solverSeconds = 0;
  /** Seconds spent so far: the wall clock where there is one (compared plans and decodes count too), else the solver's. */
  const spentSeconds = (): number => (clock === undefined ? solverSeconds : clock() - started);
  /**
   * `planner.timeLimitSeconds` bounds the whole solve where a clock is given, not only the
   * solver's share: a MILP gets at most what is left of it, less a reserve for decoding,
   * validating and comparing its plan (WALL_RESERVE_SHARE of the limit), and never less
   * than MIN_SOLVE_SHARE of its own share or MIN_SOLVE_SECONDS. Without a clock only the
   * solver's own seconds count.
   */
  const wallLimit = (limitSeconds: number): number => {
    if (clock === undefined) return limitSeconds;
    const left = timeLimit * (1 - WALL_RESERVE_SHARE) - spentSeconds();
    return Math.max(MIN_SOLVE_SECONDS, MIN_SOLVE_SHARE * limitSeconds, Math.min(limitSeconds, left));
  };
  const maxOptions = tuning.maxOptionsPerClass ?? DEFAULT_MAX_OPTIONS_PER_CLASS;
  // Min-time and pareto look for fast plans: P3 keeps the fastest option of every pool too.
  // Min-cost keeps them too once a model without them proved infeasible (binding quotas need
  // faster options than the cheapest few; see slottedMinCost).
  let fastPools = workload.objective.kind !== "min-cost";
  // Pruning depends on the grid only; the horizon searches below ask for the same grid often.
  const prunedByGrid = new Map<string, SlottedOption[]>();
  const prune = (grid: TimeGrid): SlottedOption[] => {
    const key = `${grid.slots}|${grid.slotSeconds}|${grid.originSeconds}|${grid.bootSlots}|${fastPools}`;
    let options = prunedByGrid.get(key);
    if (options === undefined) {
      options = pruneOptions(problem, grid, maxOptions, fastPools);
      prunedByGrid.set(key, options);
    }
    return options;
  };
  /** Pruning note of the last grid modelled (one line, not one per solve). */
  let prunedNote: string | undefined;

  const gridWith = (horizonSeconds: number, optionCount: number): TimeGrid =>
    chooseGrid({
      horizonSeconds,
      bootSeconds: problem.bootSeconds,
      optionCount,
      slotMinutes: workload.planner.slotMinutes,
      timeLimitSeconds: timeLimit,
    });
  const gridFor = (horizonSeconds: number): TimeGrid => {
    const fixed = tuning.grid?.(problem, horizonSeconds);
    if (fixed !== undefined) return fixed;
    const estimate = gridWith(horizonSeconds, Math.min(problem.options.length, problem.classes.length * maxOptions));
    if (!fastPools) return estimate;
    // The fastest option per pool makes the option count depend on the grid (P1 drops pools
    // too slow for the horizon): size the grid by the count its first guess keeps.
    return gridWith(horizonSeconds, Math.max(1, prune(estimate).length));
  };

  /** Prunes on `grid`; throws the deadline error when a class has no option left. */
  const optionsOn = (grid: TimeGrid): SlottedOption[] => {
    const options = prune(grid);
    const pruned = problem.options.length - options.length;
    prunedNote =
      pruned > 0
        ? `${pruned} of ${problem.options.length} options were pruned before modelling (dominated, too slow for the deadline, or beyond the ${maxOptions} best per job class${fastPools ? " and the fastest per pool" : ""})`
        : undefined;
    for (const jobClass of problem.classes) {
      if (!options.some((option) => option.classIndex === jobClass.index)) {
        throw deadlineError(problem, grid, jobClass.index, undefined);
      }
    }
    return options;
  };

  const solveOn = async (
    grid: TimeGrid,
    options: readonly SlottedOption[],
    objective: ModelObjective,
    start: SlotSchedule | undefined,
    limitSeconds: number,
  ): Promise<{ schedule: SlotSchedule | undefined; solution: MilpSolution }> => {
    const model = buildPlanModel(problem, grid, options, objective, start);
    limitSeconds = wallLimit(limitSeconds);
    input.onProgress?.(
      `solving ${objective.kind}: ${problem.classes.length} job classes, ${options.length} options, ` +
        `${grid.slots} slots of ${grid.slotSeconds / 60} min, ${model.columns.length} columns, ${model.rows} rows` +
        (start === undefined
          ? ", no greedy start"
          : `, greedy start $${slottedCostUsd(problem, grid, start.alive).toFixed(2)}`),
    );
    const solution = await input.solver.solve(model, {
      timeLimitSeconds: limitSeconds,
      mipGap: workload.planner.mipGap,
    });
    solverSeconds += solution.seconds;
    reports.push({
      classes: problem.classes.length,
      options: options.length,
      columns: model.columns.length,
      integerColumns: model.integerColumns,
      rows: model.rows,
      slots: grid.slots,
      slotSeconds: grid.slotSeconds,
      status: solution.status,
    });
    const usable = (solution.status === "optimal" || solution.status === "time-limit") && solution.values.size > 0;
    if (solution.status === "time-limit") {
      pushOnce(
        warnings,
        `the solver stopped at its ${round(limitSeconds)} s limit; the plan is the best found, with the gap shown`,
      );
    }
    if (solution.status === "error")
      pushOnce(warnings, `solver error, greedy plan used: ${solution.message ?? "unknown"}`);
    return { schedule: usable ? model.read(solution.values) : undefined, solution };
  };

  const finish = (
    grid: TimeGrid,
    schedule: SlotSchedule,
    solution: MilpSolution | undefined,
    objective: ModelObjective,
    source: PlanSource,
    status: string = solution?.status ?? "greedy",
  ): Attempt => {
    const modelObjective =
      objective.kind === "min-cost"
        ? slottedCostUsd(problem, grid, schedule.alive)
        : grid.originSeconds + slottedMakespanSlots(schedule.alive) * grid.slotSeconds;
    const lowerBound = boundOf(solution, objective, grid, modelObjective);
    const plan = decodePlan(schedule, {
      problem,
      grid,
      lowerBound,
      gap: modelObjective > 0 ? Math.max(0, (modelObjective - lowerBound) / modelObjective) : 0,
      solveSeconds: 0,
      modelObjective,
      solverStatus: status,
      considered,
    });
    return { plan, modelObjective, source, slottedBound: lowerBound };
  };

  const isValid = (attempt: Attempt, objective: ModelObjective): boolean => {
    const violations = validatePlan(attempt.plan, {
      workload: validationWorkload(workload, objective),
      catalog: input.catalog,
      quotas: input.quotas,
      ...(input.quotasByRegion === undefined ? {} : { quotasByRegion: input.quotasByRegion }),
      bootSeconds: problem.bootSeconds,
    });
    if (violations.length > 0) {
      warnings.push(`a candidate plan was rejected by the validator: ${violations.slice(0, 3).join("; ")}`);
    }
    return violations.length === 0;
  };

  /** Solves one objective on one grid; the better of the MILP's and the greedy schedule wins. */
  const planOn = async (
    grid: TimeGrid,
    objective: ModelObjective,
    limitSeconds: number,
  ): Promise<{ attempt: Attempt | undefined; solution: MilpSolution }> => {
    const options = optionsOn(grid);
    let greedy: SlotSchedule | undefined;
    let left = limitSeconds;
    let lpBound: number | undefined;
    if (objective.kind === "min-cost") {
      // The LP relaxation says which options a good plan uses; a greedy restricted to them
      // first is often far closer to the optimum than the plain one, and a close incumbent
      // lets the solver stop at the gap sooner.
      const unstarted = buildPlanModel(problem, grid, options, objective, undefined);
      const relaxed = await input.solver.solve(unstarted.relaxation, {
        timeLimitSeconds: Math.max(0.5, limitSeconds * LP_SHARE_OF_LIMIT),
        mipGap: 0,
      });
      solverSeconds += relaxed.seconds;
      left = Math.max(0.5, limitSeconds - relaxed.seconds);
      if (relaxed.status === "optimal" && relaxed.objective !== undefined) {
        // The relaxation's objective bounds the MILP's; minus the most the start-slot
        // tie-break can add (one charge per job at the last slot), it bounds the cost.
        const jobs = problem.classes.reduce((sum, jobClass) => sum + jobClass.jobs.length, 0);
        lpBound = relaxed.objective - START_TIE_BREAK_USD * grid.slots * jobs;
      }
      const preferred = relaxed.status === "optimal" ? unstarted.usedOptions(relaxed.values) : undefined;
      const starts = [
        greedySchedule(problem, grid, options, "cost"),
        preferred === undefined ? undefined : greedySchedule(problem, grid, options, "cost", preferred),
      ].filter((schedule): schedule is SlotSchedule => schedule !== undefined);
      greedy = starts.sort(
        (a, b) => slottedCostUsd(problem, grid, a.alive) - slottedCostUsd(problem, grid, b.alive),
      )[0];
    } else {
      const budget = objective.budgetUsd;
      greedy = [greedySchedule(problem, grid, options, "time"), greedySchedule(problem, grid, options, "cost")].find(
        (schedule) => schedule !== undefined && slottedCostUsd(problem, grid, schedule.alive, "budget") <= budget,
      );
    }
    if (greedy !== undefined && lpBound !== undefined) {
      const cost = slottedCostUsd(problem, grid, greedy.alive);
      if (cost - lpBound <= workload.planner.mipGap * cost) {
        // The greedy plan is already within the gap of the LP bound: no MILP needed.
        const proof: MilpSolution = {
          status: "optimal",
          values: new Map(),
          objective: cost,
          bound: lpBound,
          seconds: 0,
          message: undefined,
        };
        reports.push({
          classes: problem.classes.length,
          options: options.length,
          columns: 0,
          integerColumns: 0,
          rows: 0,
          slots: grid.slots,
          slotSeconds: grid.slotSeconds,
          status: "greedy-within-gap",
        });
        const attempt = finish(grid, greedy, proof, objective, "slotted-greedy", "greedy-within-gap");
        if (isValid(attempt, objective)) return { attempt, solution: proof };
      }
    }
    const { schedule, solution } = await solveOn(grid, options, objective, greedy, left);
    const candidates: Attempt[] = [];
    if (schedule !== undefined) candidates.push(finish(grid, schedule, solution, objective, "milp"));
    if (greedy !== undefined) candidates.push(finish(grid, greedy, solution, objective, "slotted-greedy"));
    const valid = candidates.filter((attempt) => isValid(attempt, objective));
    valid.sort((a, b) => a.modelObjective - b.modelObjective || score(a.plan, objective) - score(b.plan, objective));
    return { attempt: valid[0], solution };
  };

  let plan: Plan;
  let frontier: Plan[] | undefined;
  const objective = workload.objective;
  if (objective.kind === "min-cost") {
    const result = await minCost(objective.deadlineHours * 3600, timeLimit);
    plan = result;
  } else if (objective.kind === "min-time") {
    plan = await minTime(objective.budgetUsd, timeLimit);
  } else {
    frontier = await pareto(objective.deadlineHours, objective.budgetUsd, objective.points, timeLimit);
    plan = frontier[0] as Plan;
  }

  /** The plans compared with the slotted one (docs/plan.md, "Plans compared"), valid for this solve only. */
  /** The validator's verdict on a compared plan for one solve (its deadline or budget). */
  function solveValidator(objective: ModelObjective, deadlineSeconds: number | undefined): (plan: Plan) => boolean {
    const solveWorkload = workloadOfSolve(workload, objective, deadlineSeconds);
    return (plan) =>
      validatePlan(plan, {
        workload: solveWorkload,
        catalog: input.catalog,
        quotas: input.quotas,
        ...(input.quotasByRegion === undefined ? {} : { quotasByRegion: input.quotasByRegion }),
        bootSeconds: problem.bootSeconds,
      }).length === 0;
  }

  function comparedPlans(objective: ModelObjective, deadlineSeconds: number | undefined): AlternativePlan[] {
    const solveWorkload = workloadOfSolve(workload, objective, deadlineSeconds);
    const plans = alternativePlans({
      problem,
      workload: solveWorkload,
      catalog: input.catalog,
      quotas: input.quotas,
      ...(input.quotasByRegion === undefined ? {} : { quotasByRegion: input.quotasByRegion }),
      instanceTypes: candidateInput.instanceTypes,
      candidates: candidateInput.candidates,
      deadlineSeconds,
      considered,
      compareBy: objective.kind === "min-cost" ? "cost" : "makespan",
      isValid: solveValidator(objective, deadlineSeconds),
    });
    input.onProgress?.(
      `compared plans for ${objective.kind}${deadlineSeconds === undefined ? "" : ` by ${(deadlineSeconds / 3600).toFixed(1)} h`}: ` +
        (plans.length === 0
          ? "none valid"
          : plans
              .map(
                (entry) =>
                  `${entry.source} $${entry.plan.totals.expectedCostUsd.toFixed(2)} / ${(entry.plan.totals.makespanSeconds / 3600).toFixed(2)} h`,
              )
              .join(", ")),
    );
    return plans;
  }

  /**
   * The best of the slotted plan and the compared ones for the objective (cost, ties by
   * makespan; or makespan, ties by cost); the slotted plan wins ties. Sets the model-free
   * bound, the gap against it, and `chosenFrom`.
   */
  function choose(
    kind: ModelObjective["kind"],
    slotted: Entry | undefined,
    alternatives: readonly AlternativePlan[],
    bound: number,
    failure: string | undefined,
  ): Plan {
    const entries: Entry[] = [...(slotted === undefined ? [] : [slotted]), ...alternatives];
    // Cost includes inter-region transfer, as in the MILP's objective.
    const value = (plan: Plan) => (kind === "min-cost" ? expectedSpendUsd(plan) : plan.totals.makespanSeconds);
    const tie = (plan: Plan) => (kind === "min-cost" ? plan.totals.makespanSeconds : expectedSpendUsd(plan));
    let best = entries[0] as Entry;
    for (const entry of entries.slice(1)) {
      const a = value(entry.plan);
      const b = value(best.plan);
      if (
        a < b - 1e-9 * Math.max(1, b) ||
        (Math.abs(a - b) <= 1e-9 * Math.max(1, b) && tie(entry.plan) < tie(best.plan) - 1e-9)
      ) {
        best = entry;
      }
    }
    const show = (plan: Plan) =>
      kind === "min-cost"
        ? `$${plan.totals.expectedCostUsd.toFixed(2)}`
        : `${(plan.totals.makespanSeconds / 3600).toFixed(2)} h`;
    const runnerUp = entries.filter((entry) => entry !== best).sort((a, b) => value(a.plan) - value(b.plan))[0];
    let reason: string;
    if (best === slotted) {
      reason = `the ${best.source === "milp" ? "MILP's schedule" : best.source === "slotted-greedy" ? "slotted greedy schedule" : `${best.source} plan`} (${show(best.plan)}) is the best of ${entries.length} valid plans compared${runnerUp === undefined ? "" : `; next: ${runnerUp.source} ${show(runnerUp.plan)}`}`;
    } else if (slotted === undefined) {
      reason = `${failure?.startsWith("skipped") ? "the slotted model was not solved" : "the slotted model gave no plan"} (${failure ?? "none found"}); ${best.source} (${show(best.plan)}) is the best of ${entries.length} valid plans compared`;
    } else {
      const status = slotted.plan.discretisation?.solverStatus;
      reason = `${best.source} (${show(best.plan)}) beats the slotted model's best schedule (${show(slotted.plan)}, solver ${status ?? "n/a"}, ${slotted.plan.discretisation?.slots ?? "?"} slots of ${(slotted.plan.discretisation?.slotSeconds ?? 0) / 60} min): its exact runtimes avoid the slot rounding`;
    }
    const achieved = value(best.plan);
    const discretisation = slotted?.plan.discretisation;
    return {
      ...best.plan,
      objective: workload.objective.kind,
      lowerBound: bound,
      gap: achieved > 0 ? Math.max(0, (achieved - bound) / achieved) : 0,
      ...(discretisation === undefined
        ? {}
        : { discretisation: { ...discretisation, lowerBound: slotted?.slottedBound ?? 0 } }),
      chosenFrom: {
        source: best.source,
        reason,
        compared: entries.map((entry) => ({
          source: entry.source,
          costUsd: entry.plan.totals.expectedCostUsd,
          makespanSeconds: entry.plan.totals.makespanSeconds,
        })),
      },
    };
  }

  /**
   * Why the slotted model is skipped for min-cost, if it is: a compared plan is already
   * within `planner.mipGap` of the model-free bound, which holds for the slotted plan too
   * (it keeps the spot rule), so no MILP could improve on it by more than the gap.
   */
  function withinGapOfBound(alternatives: readonly AlternativePlan[], bound: number): string | undefined {
    if (alternatives.length === 0 || tuning.grid !== undefined || !(bound > 0)) return undefined;
    const best = alternatives.reduce((a, b) => (expectedSpendUsd(b.plan) < expectedSpendUsd(a.plan) ? b : a));
    const cost = expectedSpendUsd(best.plan);
    return cost - bound <= workload.planner.mipGap * cost
      ? `skipped: the ${best.source} plan ($${cost.toFixed(2)}) is within the ${round(100 * workload.planner.mipGap)}% gap of the lower bound ($${bound.toFixed(2)})`
      : undefined;
  }

  /**
   * Why the slotted model is skipped, if it is: even at the fewest slots (MIN_SLOTS) it would
   * need more than twice the largest column budget, and a valid compared plan exists. At that
   * size its slots are hours long and its plans lose to exact runtimes (docs/plan.md, "Where
   * the cost goes at scale"), while building and solving it takes minutes and gigabytes.
   */
  function oversized(alternatives: readonly AlternativePlan[]): string | undefined {
    if (alternatives.length === 0 || tuning.grid !== undefined) return undefined;
    const columns = Math.min(problem.options.length, problem.classes.length * maxOptions) * MIN_SLOTS;
    return columns > 2 * MAX_COLUMN_BUDGET
      ? `skipped: at least ${columns} columns at ${MIN_SLOTS} slots, above twice the ${MAX_COLUMN_BUDGET}-column budget`
      : undefined;
  }

  async function minCost(deadlineSeconds: number, limitSeconds: number): Promise<Plan> {
    const boundLimit = Math.max(0.5, Math.min(BOUND_LP_MAX_SECONDS, limitSeconds * BOUND_LP_SHARE));
    // The bound for plans that keep the spot rule (every plan the planner builds); a chosen
    // plan that breaks it (a baseline's late spot run) gets the bound for any plan below.
    const bound = await costLowerBound(problem, input.solver, deadlineSeconds, boundLimit, "spot-rule");
    const alternatives = comparedPlans({ kind: "min-cost" }, deadlineSeconds);
    const guided = await lpGuidedPlan({
      problem,
      solver: input.solver,
      deadlineSeconds,
      considered,
      timeLimitSeconds: Math.max(0.5, Math.min(LP_GUIDED_MAX_SECONDS, limitSeconds * LP_GUIDED_SHARE)),
      isValid: solveValidator({ kind: "min-cost" }, deadlineSeconds),
    });
    if (guided.plan !== undefined) alternatives.push({ source: "lp-guided", plan: guided.plan });
    input.onProgress?.(
      `bound $${bound.usd.toFixed(2)} by ${(deadlineSeconds / 3600).toFixed(1)} h; LP-guided plan ` +
        (guided.plan === undefined
          ? "none"
          : `$${guided.plan.totals.expectedCostUsd.toFixed(2)} / ${(guided.plan.totals.makespanSeconds / 3600).toFixed(2)} h`),
    );
    let slotted: Entry | undefined;
    let failure = oversized(alternatives) ?? withinGapOfBound(alternatives, bound.usd);
    try {
      if (failure === undefined)
        slotted = await slottedMinCost(deadlineSeconds, Math.max(0.5, limitSeconds - bound.seconds - guided.seconds));
    } catch (error) {
      if (!isInfeasible(error) || alternatives.length === 0) throw error;
      failure = (error as Error).message;
    }
    const chosen = choose("min-cost", slotted, alternatives, bound.usd, failure);
    if (keepsSpotRule(chosen, problem, deadlineSeconds)) return chosen;
    const any = await costLowerBound(problem, input.solver, deadlineSeconds, boundLimit, "any");
    const cost = expectedSpendUsd(chosen);
    return { ...chosen, lowerBound: any.usd, gap: cost > 0 ? Math.max(0, (cost - any.usd) / cost) : 0 };
  }

  async function slottedMinCost(deadlineSeconds: number, limitSeconds: number): Promise<Entry> {
    let grid = gridFor(deadlineSeconds);
    let probe = greedySchedule(problem, grid, optionsOn(grid), "cost");
    if (probe === undefined && !fastPools && tuning.grid === undefined) {
      // No greedy schedule on the cheapest options: quotas bind, keep the fastest ones too.
      fastPools = true;
      grid = gridFor(deadlineSeconds);
      probe = greedySchedule(problem, grid, optionsOn(grid), "cost");
    }
    // A finer grid when the deadline is far beyond what the work needs (docs/plan.md, "Horizon").
    if (probe !== undefined && tuning.grid === undefined) {
      const needed = grid.originSeconds + 2 * slottedMakespanSlots(probe.alive) * grid.slotSeconds;
      if (needed < 0.75 * deadlineSeconds) {
        const finer = gridFor(Math.max(needed, grid.originSeconds + grid.slotSeconds));
        if (greedySchedule(problem, finer, prune(finer), "cost") !== undefined) grid = finer;
      }
    }
    let { attempt, solution } = await planOn(grid, { kind: "min-cost" }, limitSeconds);
    if (attempt === undefined && solution.status === "infeasible" && !fastPools && tuning.grid === undefined) {
      // Infeasible with each class's cheapest options only: under binding quotas the plan
      // needs faster ones. Model again with the fastest option of every pool kept.
      fastPools = true;
      const left = Math.max(0.5, limitSeconds - solution.seconds);
      const retryGrid = gridFor(deadlineSeconds);
      ({ attempt, solution } = await planOn(retryGrid, { kind: "min-cost" }, left));
      grid = retryGrid;
    }
    if (attempt === undefined) {
      if (solution.status === "infeasible") throw capacityError(problem, grid);
      throw noPlanFoundError(limitSeconds);
    }
    return attempt;
  }

  async function minTime(budgetUsd: number, limitSeconds: number): Promise<Plan> {
    const alternatives = comparedPlans({ kind: "min-time", budgetUsd }, undefined);
    const guided = await guidedWithinBudget(budgetUsd, alternatives, limitSeconds);
    if (guided !== undefined) alternatives.push({ source: "lp-guided", plan: guided });
    let slotted: Entry | undefined;
    let failure = oversized(alternatives);
    try {
      // The fastest compared plan's makespan is the horizon: a slotted plan must beat it to matter.
      const hint = Math.min(...alternatives.map((entry) => entry.plan.totals.makespanSeconds));
      if (failure === undefined)
        slotted = await slottedMinTime(budgetUsd, limitSeconds, Number.isFinite(hint) ? hint : undefined);
    } catch (error) {
      if (!isInfeasible(error) || alternatives.length === 0) throw error;
      failure = (error as Error).message;
    }
    return choose("min-time", slotted, alternatives, makespanLowerBound(problem), failure);
  }

  /**
   * The LP-guided plan within the budget (`lpGuidedWithinBudget`): the fastest one faster
   * than every compared plan, or undefined. Its search may take MIN_TIME_GUIDED_SHARE of the
   * solve's limit (wall time where there is a clock).
   */
  async function guidedWithinBudget(
    budgetUsd: number,
    alternatives: readonly AlternativePlan[],
    limitSeconds: number,
  ): Promise<Plan | undefined> {
    const fastest = Math.min(...alternatives.map((entry) => entry.plan.totals.makespanSeconds));
    if (!Number.isFinite(fastest)) return undefined;
    const searchSeconds = limitSeconds * MIN_TIME_GUIDED_SHARE;
    const startedAt = spentSeconds();
    let lpSeconds = 0;
    const result = await lpGuidedWithinBudget({
      problem,
      solver: input.solver,
      considered,
      budgetUsd,
      lowSeconds: makespanLowerBound(problem),
      highSeconds: fastest,
      stepSeconds: Math.max(0.5, Math.min(LP_GUIDED_MAX_SECONDS, limitSeconds * LP_GUIDED_SHARE)),
      // Without a clock only solver seconds count (spentSeconds does not see these LPs).
      secondsLeft: () => searchSeconds - (clock === undefined ? lpSeconds : spentSeconds() - startedAt),
      isValid: solveValidator({ kind: "min-time", budgetUsd }, undefined),
      onStep: (seconds) => {
        lpSeconds += seconds;
      },
    });
    solverSeconds += result.seconds;
    input.onProgress?.(
      `LP-guided plan within $${budgetUsd.toFixed(2)}: ` +
        (result.plan === undefined
          ? `none faster than ${(fastest / 3600).toFixed(2)} h in ${result.steps} steps`
          : `$${result.plan.totals.expectedCostUsd.toFixed(2)} / ${(result.plan.totals.makespanSeconds / 3600).toFixed(2)} h in ${result.steps} steps`),
    );
    return result.plan;
  }

  async function slottedMinTime(budgetUsd: number, limitSeconds: number, hintSeconds?: number): Promise<Entry> {
    // Horizon: the fastest compared plan's makespan when there is one (exact runtimes; a
    // slotted plan is only worth having if it is faster). Otherwise double a first guess
    // (twice the slowest class's fastest run) until a greedy schedule on that grid fits the
    // budget; serial = every job after another on its cheapest option bounds the search.
    const fastestRun = (classIndex: number) =>
      Math.min(...problem.options.filter((o) => o.classIndex === classIndex).map((o) => o.runtimeSeconds));
    const cheapestRun = (classIndex: number) => {
      const options = problem.options.filter((o) => o.classIndex === classIndex);
      const perJob = (o: (typeof options)[number]) =>
        ((problem.pools[o.poolIndex]?.priceUsdPerHour ?? 0) * o.nodes * o.runtimeSeconds) / o.jobsPerBundle;
      return options.reduce((best, o) => (perJob(o) < perJob(best) ? o : best)).runtimeSeconds;
    };
    const serial =
      problem.bootSeconds +
      problem.classes.reduce((sum, jobClass) => sum + jobClass.jobs.length * cheapestRun(jobClass.index), 0) * 1.05 +
      3600;
    let guess = problem.bootSeconds + 2 * Math.max(...problem.classes.map((jobClass) => fastestRun(jobClass.index)));
    let horizon: number | undefined = hintSeconds === undefined ? undefined : Math.min(hintSeconds, serial);
    for (; horizon === undefined && guess < 2 * serial; guess *= 2) {
      const grid = gridFor(Math.min(guess, serial));
      const options = prune(grid);
      if (problem.classes.some((jobClass) => !options.some((option) => option.classIndex === jobClass.index))) continue;
      const affordable = [
        greedySchedule(problem, grid, options, "time"),
        greedySchedule(problem, grid, options, "cost"),
      ]
        .filter((schedule): schedule is SlotSchedule => schedule !== undefined)
        .filter((schedule) => slottedCostUsd(problem, grid, schedule.alive, "budget") <= budgetUsd);
      if (affordable.length > 0) {
        const slots = Math.min(...affordable.map((schedule) => slottedMakespanSlots(schedule.alive)));
        horizon = grid.originSeconds + (slots + 1) * grid.slotSeconds;
      }
    }
    // No greedy plan fits the budget: the cheapest plan decides whether any does.
    let cheapest: Plan | undefined;
    if (horizon === undefined) {
      cheapest = await minCost(serial, limitSeconds / 2);
      const worstCase = budgetSpendUsd(cheapest);
      if (worstCase > budgetUsd) {
        // Optimal in expected cost is a proof about the budget only when no spot price can vary.
        throw budgetError(
          worstCase,
          budgetUsd,
          cheapest.discretisation?.solverStatus === "optimal" && worstCase <= expectedSpendUsd(cheapest) + 1e-9,
        );
      }
      horizon = cheapest.totals.makespanSeconds + (cheapest.discretisation?.slotSeconds ?? 0);
    }
    let grid = gridFor(horizon);
    // Rounding on the finer grid can lengthen runs; widen until the greedy plan fits again.
    for (let widen = 1; widen <= 4 && greedySchedule(problem, grid, prune(grid), "cost") === undefined; widen++) {
      grid = gridFor(horizon * (1 + 0.25 * widen));
    }
    const { attempt, solution } = await planOn(grid, { kind: "min-time", budgetUsd }, limitSeconds);
    if (attempt === undefined) {
      if (cheapest === undefined && hintSeconds !== undefined) {
        // Not a failure of the workload: a compared plan is already this fast, and no slotted
        // schedule within its makespan was found; the caller keeps the compared plan.
        throw new InfeasibleWorkloadError(
          "time-limit",
          `no slotted schedule faster than the best compared plan's ${(hintSeconds / 3600).toFixed(2)} h was found (solver: ${solution.status})`,
        );
      }
      if (cheapest === undefined) throw noPlanFoundError(limitSeconds);
      // Only the cheapest plan fits the budget once runs are rounded to slots: it is the answer.
      pushOnce(
        warnings,
        `only the cheapest plan found fits the budget (solver: ${solution.status}); its makespan is not minimised further`,
      );
      return {
        source: cheapest.chosenFrom?.source ?? "milp",
        plan: cheapest,
        slottedBound: cheapest.discretisation?.lowerBound ?? 0,
      };
    }
    return attempt;
  }

  /**
   * Pareto: the fastest plan (min-time) and the cheapest (min-cost at the outer deadline),
   * then epsilon-constraint steps: the cheapest plan strictly faster than a frontier point,
   * first halfway to its faster neighbour, else just below it, always in the widest gap.
   */
  async function pareto(
    deadlineHours: number | undefined,
    budgetUsd: number | undefined,
    points: number,
    limitSeconds: number,
  ): Promise<Plan[]> {
    const share = limitSeconds / (2 * points);
    const fastest = await minTime(budgetUsd ?? UNBOUNDED_BUDGET_USD, share);
    const latest =
      deadlineHours !== undefined
        ? deadlineHours * 3600
        : Math.max(4 * fastest.totals.makespanSeconds, fastest.totals.makespanSeconds + 3600);
    // Only the frontier is kept: a dominated plan is dropped when found (its key stays in
    // `seen`, so it is not searched again). At 5,000 jobs each plan holds 5,000 assignments.
    const key = (plan: Plan) => `${plan.totals.expectedCostUsd.toFixed(6)}|${plan.totals.makespanSeconds.toFixed(3)}`;
    const seen = new Set<string>([key(fastest)]);
    let plans: Plan[] = [fastest];
    const keep = (plan: Plan): void => {
      seen.add(key(plan));
      plans = nonDominated([...plans, plan]);
    };
    const tryDeadline = async (deadline: number): Promise<Plan | undefined> => {
      const left = limitSeconds * (1 - WALL_RESERVE_SHARE) - spentSeconds();
      if (deadline <= problem.bootSeconds || left <= 0) return undefined;
      try {
        return await minCost(deadline, Math.min(share, left));
      } catch (error) {
        if (error instanceof Error && error.name === "InfeasibleWorkloadError") return undefined;
        throw error;
      }
    };
    const cheapest = await tryDeadline(latest);
    if (cheapest !== undefined) keep(cheapest);
    const exhausted = new Set<string>();
    for (
      let attempt = 0;
      attempt < 3 * points &&
      nonDominated(plans).length < points &&
      spentSeconds() < limitSeconds * (1 - WALL_RESERVE_SHARE);
      attempt++
    ) {
      const frontierNow = nonDominated(plans).sort((a, b) => a.totals.makespanSeconds - b.totals.makespanSeconds);
      let widest: [Plan, Plan] | undefined;
      for (let i = 1; i < frontierNow.length; i++) {
        const pair: [Plan, Plan] = [frontierNow[i - 1] as Plan, frontierNow[i] as Plan];
        if (exhausted.has(key(pair[1]))) continue;
        const gap = pair[1].totals.makespanSeconds - pair[0].totals.makespanSeconds;
        if (widest === undefined || gap > widest[1].totals.makespanSeconds - widest[0].totals.makespanSeconds)
          widest = pair;
      }
      if (widest === undefined) break;
      const [faster, slower] = widest;
      const halfway = await tryDeadline((faster.totals.makespanSeconds + slower.totals.makespanSeconds) / 2);
      if (halfway !== undefined && !seen.has(key(halfway))) {
        keep(halfway);
        continue;
      }
      const justBelow = await tryDeadline(slower.totals.makespanSeconds - PARETO_STEP_SECONDS);
      if (justBelow !== undefined && !seen.has(key(justBelow))) keep(justBelow);
      else exhausted.add(key(slower));
    }
    const frontierPlans = nonDominated(plans).filter(
      (plan) => budgetUsd === undefined || budgetSpendUsd(plan) <= budgetUsd * (1 + 1e-9),
    );
    if (frontierPlans.length < points) {
      pushOnce(
        warnings,
        `the frontier has ${frontierPlans.length} non-dominated plans; no others were found between them`,
      );
    }
    return frontierPlans.sort((a, b) => expectedSpendUsd(a) - expectedSpendUsd(b));
  }

  if (prunedNote !== undefined) warnings.push(prunedNote);
  const elapsed = spentSeconds();
  const stale = staleTypes(problem, plan);
  if (stale.length > 0) {
    warnings.push(`prices of ${stale.join(", ")} are marked stale in the catalog; run \`saturn catalog refresh\``);
  }
  // Plans compared along the way carry the unmarked considered list (one copy per job and
  // plan would hold gigabytes at 5,000 jobs); only the plans returned get their choices marked.
  const marked = new Map<Plan, Plan["considered"]>();
  const withTime = (p: Plan): Plan => {
    let considered = marked.get(p);
    if (considered === undefined) {
      considered = markChosen(p.considered, p.assignments, p.instances);
      marked.set(p, considered);
    }
    return { ...p, solveSeconds: elapsed, considered };
  };
  return {
    plan: withTime(plan),
    frontier: frontier?.map(withTime),
    warnings,
    reports,
  };
}

/** The proven lower bound, in the objective's unit (USD or seconds). */
function boundOf(
  solution: MilpSolution | undefined,
  objective: ModelObjective,
  grid: TimeGrid,
  modelObjective: number,
): number {
  const bound = solution?.bound;
  if (bound === undefined || !Number.isFinite(bound)) return 0;
  if (objective.kind === "min-cost") return Math.min(Math.max(0, bound), modelObjective);
  // min-time: objective = D * slots + eps * cost with eps * cost <= 0.01 D; slots are whole.
  const slots = Math.max(0, Math.ceil((bound - 0.01 * grid.slotSeconds) / grid.slotSeconds - 1e-6));
  return Math.min(grid.originSeconds + slots * grid.slotSeconds, modelObjective);
}

/** A plan with where it came from; slotted ones carry the solver's bound on the slotted objective. */
interface Entry {
  readonly source: PlanSource;
  readonly plan: Plan;
  readonly slottedBound?: number;
}

function isInfeasible(error: unknown): boolean {
  return error instanceof Error && error.name === "InfeasibleWorkloadError";
}

/**
 * The workload one solve must satisfy, for the compared plans: a min-cost solve keeps its
 * own deadline (a pareto step's, or the probe's inside min-time mode, which has no budget
 * to keep); a min-time solve its budget.
 */
function workloadOfSolve(
  workload: PlanningInput["workload"],
  objective: ModelObjective,
  deadlineSeconds: number | undefined,
): PlanningInput["workload"] {
  if (objective.kind === "min-time")
    return { ...workload, objective: { kind: "min-time", budgetUsd: objective.budgetUsd } };
  const deadlineHours = deadlineSeconds === undefined ? undefined : deadlineSeconds / 3600;
  const own = workload.objective;
  if (own.kind === "pareto") return { ...workload, objective: { ...own, deadlineHours } };
  if (own.kind === "min-cost" && deadlineHours !== undefined)
    return { ...workload, objective: { kind: "min-cost", deadlineHours } };
  return { ...workload, objective: { kind: "pareto", points: 5, deadlineHours } };
}

function score(plan: Plan, objective: ModelObjective): number {
  return objective.kind === "min-cost" ? expectedSpendUsd(plan) : plan.totals.makespanSeconds;
}

/**
 * The workload as the validator judges one solve. A min-time solve keeps its budget; a
 * min-cost solve inside min-time mode (the cheapest-plan probe) has no budget to keep;
 * otherwise the workload's own deadline or bounds apply.
 */
function validationWorkload(workload: PlanningInput["workload"], objective: ModelObjective): PlanningInput["workload"] {
  if (objective.kind === "min-time")
    return { ...workload, objective: { kind: "min-time", budgetUsd: objective.budgetUsd } };
  if (workload.objective.kind === "min-time") return { ...workload, objective: { kind: "pareto", points: 5 } };
  return workload;
}

/** The plans no other beats on both spend (instances plus transfer) and makespan, each once. */
function nonDominated(plans: readonly Plan[]): Plan[] {
  const unique: Plan[] = [];
  for (const plan of plans) {
    const spend = expectedSpendUsd(plan);
    const dominated = plans.some((other) => {
      const otherSpend = expectedSpendUsd(other);
      return (
        other !== plan &&
        otherSpend <= spend + 1e-9 &&
        other.totals.makespanSeconds <= plan.totals.makespanSeconds + 1e-6 &&
        (otherSpend < spend - 1e-9 || other.totals.makespanSeconds < plan.totals.makespanSeconds - 1e-6)
      );
    });
    const duplicate = unique.some(
      (kept) =>
        Math.abs(expectedSpendUsd(kept) - spend) < 1e-9 &&
        Math.abs(kept.totals.makespanSeconds - plan.totals.makespanSeconds) < 1e-6,
    );
    if (!dominated && !duplicate) unique.push(plan);
  }
  return unique;
}

function consideredCandidates(problem: PlanningProblem): Plan["considered"] {
  const byClass = new Map<number, ConsideredCandidate[]>();
  for (const jobClass of problem.classes) {
    byClass.set(
      jobClass.index,
      jobClass.candidates.map((candidate) => ({
        config: candidate.config,
        fits: candidate.estimate.fits,
        reason: candidate.estimate.fits ? undefined : candidate.estimate.reason,
        samplesPerSecond: candidate.estimate.fits ? candidate.estimate.samplesPerSecond : undefined,
        runtimeSeconds: candidate.runtimeSeconds,
        costUsd: candidate.costUsd,
        chosen: false,
      })),
    );
  }
  return problem.classes.flatMap((jobClass) =>
    jobClass.jobs.map((job) => ({ jobId: job.id, candidates: byClass.get(jobClass.index) ?? [] })),
  );
}

function staleTypes(problem: PlanningProblem, plan: Plan): string[] {
  const used = new Set(plan.instances.map((instance) => instance.instanceType));
  return problem.pools
    .filter((pool) => used.has(pool.type.name) && pool.type.prices[pool.region]?.stale === true)
    .map((pool) => pool.type.name)
    .filter((name, index, all) => all.indexOf(name) === index);
}

function pushOnce(list: string[], message: string): void {
  if (!list.includes(message)) list.push(message);
}

function round(value: number): string {
  return Number(value.toFixed(1)).toString();
}
