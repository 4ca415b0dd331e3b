/**
 * Infeasibility messages (docs/plan.md, "Infeasibility"): each names the binding
 * constraint and a way out, so that a user can act on it without reading the model.
 */
import { InfeasibleWorkloadError } from "../errors.ts";
import type { Job } from "../spec/workload.ts";
import type { DropReason, PlanningProblem } from "./planning-problem.ts";
import type { SlottedOption } from "./prune-options.ts";
import { spotDeadlineMarginSeconds } from "./spot-overhead.ts";
import type { TimeGrid } from "./time-grid.ts";

/** Jobs that no allowed, priced, quota-admitted configuration can run at all. */
export function unplaceableError(problem: PlanningProblem): InfeasibleWorkloadError {
  const first = problem.unplaceable[0];
  if (first === undefined) throw new RangeError("unplaceableError needs an unplaceable job");
  const { job, reasons } = first;
  const others = problem.unplaceable.length - 1;
  const tail = others > 0 ? ` (and ${others} more job${others === 1 ? "" : "s"})` : "";
  const texts = (kind: DropReason["kind"]) => reasons.filter((reason) => reason.kind === kind).map((r) => r.text);
  const fitting = reasons.filter((reason) => reason.kind !== "fit");
  if (fitting.length === 0) {
    return new InfeasibleWorkloadError(
      "memory",
      `job \`${job.id}\`${tail} fits on no allowed configuration: ${summarise(texts("fit"), 2)}. ` +
        "Allow instance types with more GPU memory (p4de, p5, p5en), techniques fsdp or fsdp-offload, or LoRA.",
    );
  }
  const quota = texts("quota");
  if (quota.length > 0) {
    return new InfeasibleWorkloadError(
      "quota",
      `job \`${job.id}\`${tail} cannot run: ${summarise(quota, 3)}. ` +
        "Request a quota increase in AWS Service Quotas (or set `quotas:` in the spec if yours is higher), " +
        "or allow other instance types or markets.",
    );
  }
  return new InfeasibleWorkloadError(
    "candidates",
    `job \`${job.id}\`${tail} has no usable configuration: ${summarise(
      fitting.map((reason) => reason.text),
      4,
    )}. Allow more instance types or markets, or let the job checkpoint so that it may use spot.`,
  );
}

/** A class whose fastest option cannot end by its deadline. */
export function deadlineError(
  problem: PlanningProblem,
  grid: TimeGrid,
  classIndex: number,
  fastest: SlottedOption | undefined,
): InfeasibleWorkloadError {
  const jobClass = problem.classes[classIndex];
  const job = jobClass?.jobs[0] as Job;
  const deadline = (jobClass?.deadlineSeconds ?? 0) / 3600;
  const fastestOption =
    fastest ??
    problem.options
      .filter((option) => option.classIndex === classIndex)
      .reduce<(typeof problem.options)[number] | undefined>(
        (best, option) => (best === undefined || option.runtimeSeconds < best.runtimeSeconds ? option : best),
        undefined,
      );
  if (fastestOption === undefined) return unplaceableError(problem);
  const pool = problem.pools[fastestOption.poolIndex];
  const needs = (fastestOption.runtimeSeconds + problem.bootSeconds) / 3600;
  const slotted =
    (Math.ceil(fastestOption.runtimeSeconds / grid.slotSeconds - 1e-9) * grid.slotSeconds + grid.originSeconds) / 3600;
  return new InfeasibleWorkloadError(
    "deadline",
    `job \`${job.id}\` needs at least ${needs.toFixed(1)} h (${slotted.toFixed(1)} h on the planner's ` +
      `${grid.slotSeconds / 60}-minute slots) on the fastest allowed configuration (${pool?.type.name ?? "?"} ` +
      `${pool?.market ?? ""}, ${fastestOption.technique}, ${fastestOption.nodes} node${fastestOption.nodes === 1 ? "" : "s"} x ` +
      `${fastestOption.gpusPerNode} GPUs, boot included); the deadline is ${round(deadline)} h` +
      (pool?.market === "spot"
        ? `, and a spot run must end ${round(spotDeadlineMarginSeconds(problem.bootSeconds, problem.workload.spot) / 3600)} h before it to absorb one more interruption. `
        : ". ") +
      "Allow p5 instances, more nodes, a later deadline, or smaller planner.slotMinutes.",
  );
}

/** The MILP proved that no schedule meets every deadline within the quotas. */
export function capacityError(problem: PlanningProblem, grid: TimeGrid): InfeasibleWorkloadError {
  const multiRegion = problem.pools.some((pool) => pool.region !== problem.workload.region);
  const cells = new Map(
    problem.pools.map((pool) => [
      `${multiRegion ? `${pool.region} ` : ""}${pool.quotaGroup} ${pool.market}`,
      pool.quotaVcpus,
    ]),
  );
  const quotas = [...cells].map(([cell, vcpus]) => `${cell} ${vcpus} vCPUs`).join(", ");
  const horizon = (grid.originSeconds + grid.slots * grid.slotSeconds) / 3600;
  return new InfeasibleWorkloadError(
    "quota",
    `no schedule runs all ${problem.workload.jobs.length} jobs within ${round(horizon)} h under the quotas (${quotas}): ` +
      "the quotas admit too few instances at once. Raise the quotas, allow more instance types or spot, " +
      "or set a later deadline.",
  );
}

/** The cheapest plan costs more than the budget. */
export function budgetError(cheapestUsd: number, budgetUsd: number, proven: boolean): InfeasibleWorkloadError {
  return new InfeasibleWorkloadError(
    "budget",
    `the cheapest plan ${proven ? "costs" : "found costs"} $${cheapestUsd.toFixed(2)}, above the $${budgetUsd} budget ` +
      "(a budget is checked with spot at its highest zone price). " +
      `Raise the budget to at least $${Math.ceil(cheapestUsd)}, allow spot or cheaper instance types, or drop jobs.`,
  );
}

/** The solver stopped before finding any plan and the greedy heuristic found none either. */
export function noPlanFoundError(timeLimitSeconds: number): InfeasibleWorkloadError {
  return new InfeasibleWorkloadError(
    "time-limit",
    `no plan was found within the ${timeLimitSeconds} s time limit (the greedy heuristic found none either). ` +
      "Raise planner.timeLimitSeconds (or --time-limit), relax the deadline, or raise the quotas.",
  );
}

function summarise(reasons: readonly string[], count: number): string {
  const unique = [...new Set(reasons)];
  const shown = unique.slice(0, count).join("; ");
  return unique.length > count ? `${shown}; ...` : shown;
}

function round(value: number): string {
  return Number(value.toFixed(2)).toString();
}
