/**
 * SolverPort on the HiGHS WebAssembly build (npm `highs`). The module is loaded once per
 * process and shared; a WASM abort (HiGHS can abort on very large models, leaving the
 * module unusable) drops it so that the next solve loads a fresh one.
 *
 * Statuses: Optimal -> optimal; Time limit -> time-limit, with the best incumbent and the
 * proven bound when HiGHS has them; Infeasible -> infeasible; Unbounded -> unbounded;
 * anything else (including an abort) -> error with HiGHS's words in `message`.
 */
import highsModule, { type Highs } from "highs";
import type { MilpModel, MilpSolution, SolveOptions, SolverPort } from "../core/planner/api.ts";

/**
 * The package is CommonJS with an ESM entry; its declaration file is read as CommonJS, so
 * TypeScript types the default import as the module object while Node hands the ESM
 * entry's default export, the loader function.
 */
const loadHighs = highsModule as unknown as () => Promise<Highs>;

/** HiGHS `primal_solution_status` value meaning "a feasible primal solution exists". */
const FEASIBLE_PRIMAL_SOLUTION = 2;

export interface HighsSolverOptions {
  /** Loads the module; injected by tests to simulate a crash. Default: the `highs` package. */
  readonly load?: () => Promise<Highs>;
  /** Wall clock in seconds for `seconds`; default performance.now(). */
  readonly clock?: () => number;
}

export class HighsSolver implements SolverPort {
  readonly #load: () => Promise<Highs>;
  readonly #clock: () => number;
  #module: Promise<Highs> | undefined;

  constructor(options: HighsSolverOptions = {}) {
    this.#load = options.load ?? loadHighs;
    this.#clock = options.clock ?? (() => performance.now() / 1000);
  }

  async solve(model: MilpModel, options: SolveOptions): Promise<MilpSolution> {
    const started = this.#clock();
    this.#module ??= this.#load();
    let highs: Highs;
    try {
      highs = await this.#module;
    } catch (error) {
      this.#module = undefined;
      return failure(`could not load the HiGHS WebAssembly module: ${messageOf(error)}`, this.#clock() - started);
    }
    try {
      return solveWith(highs, model, options, () => this.#clock() - started);
    } catch (error) {
      // A WASM abort leaves the module's memory in an unknown state: load a fresh one next time.
      this.#module = undefined;
      return failure(`HiGHS failed: ${messageOf(error)}`, this.#clock() - started);
    }
  }
}

function solveWith(highs: Highs, milp: MilpModel, options: SolveOptions, elapsed: () => number): MilpSolution {
  const model = highs.createModel({ format: "lp", data: milp.lp });
  try {
    model.options.set({
      output_flag: false,
      time_limit: Math.max(0.1, options.timeLimitSeconds),
      mip_rel_gap: options.mipGap,
    });
    if (milp.initialSolution !== undefined && milp.initialSolution.size > 0) {
      const indices: number[] = [];
      const values: number[] = [];
      for (const [name, value] of milp.initialSolution) {
        indices.push(model.getColByName(name));
        values.push(value);
      }
      model.setSolution({ indices, values });
    }
    model.run();
    const status = model.getModelStatus();
    const codes = highs.constants.modelStatus;
    const hasSolution = Number(model.info.get("primal_solution_status")) === FEASIBLE_PRIMAL_SOLUTION;
    const values = new Map<string, number>();
    if (hasSolution) {
      const primal = model.getSolution().colValue;
      for (let index = 0; index < primal.length; index++) values.set(model.getColName(index), primal[index] ?? 0);
    }
    const objective = hasSolution ? model.getObjectiveValue() : undefined;
    const bound = readBound(model.info.get("mip_dual_bound"), objective, status === codes.optimal);
    switch (status) {
      case codes.optimal:
        return { status: "optimal", values, objective, bound, seconds: elapsed(), message: undefined };
      case codes.timeLimit:
      case codes.iterationLimit:
      case codes.solutionLimit:
      case codes.interrupted:
        return {
          status: "time-limit",
          values,
          objective,
          bound,
          seconds: elapsed(),
          message: hasSolution ? undefined : "stopped at the limit before finding a feasible solution",
        };
      case codes.infeasible:
        return {
          status: "infeasible",
          values,
          objective: undefined,
          bound: undefined,
          seconds: elapsed(),
          message: undefined,
        };
      case codes.unbounded:
      case codes.unboundedOrInfeasible:
        return {
          status: "unbounded",
          values,
          objective: undefined,
          bound: undefined,
          seconds: elapsed(),
          message: undefined,
        };
      default:
        return failure(`HiGHS ended with model status ${status}`, elapsed());
    }
  } finally {
    model.dispose();
  }
}

/** The MIP dual bound; for a pure LP (no integers) HiGHS reports none, and the optimum is its own bound. */
function readBound(raw: number | bigint, objective: number | undefined, optimal: boolean): number | undefined {
  const bound = Number(raw);
  if (Number.isFinite(bound)) return bound;
  return optimal ? objective : undefined;
}

function failure(message: string, seconds: number): MilpSolution {
  return { status: "error", values: new Map(), objective: undefined, bound: undefined, seconds, message };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
