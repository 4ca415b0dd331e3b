/**
 * Execution benchmark (issue 4): plans each workload once (Saturn's MILP and the four
 * baselines of issue 3), then carries every plan out on the simulated cloud over many
 * seeds with the default ("realistic") spot interruption rates, the same reconciler for
 * all. Re-plans use the plan's own policy on the remaining work: the MILP for Saturn, the
 * baseline's rule for a baseline. Reports executed against planned cost and makespan, the
 * share of seeds that met the deadline where the plan met it on paper, and Saturn's cost
 * advantage after execution.
 *
 *   npx tsx bench/execution.ts [--seeds 100] [--workloads saturn-text,saturn-image] [--no-doc]
 *
 * `runExecutionBenchmark` is exported for bench/main.ts.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { withMeasurements, withTimeLimit } from "../cli/run/planners.ts";
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../lambdas/adapters/highs-solver.ts";
import { runOnSimulatedCloud } from "../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { resolveQuotas } from "../lambdas/core/catalog/quotas.ts";
import { expectedHourlyPrice } from "../lambdas/core/catalog/select.ts";
import type { Catalog } from "../lambdas/core/catalog/types.ts";
import { billedCostUsd } from "../lambdas/core/cloud/billing.ts";
import type { RemainingWorkPlanner } from "../lambdas/core/engine/execution-engine.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import type { QuotaTable } from "../lambdas/core/planner/api.ts";
import { planningBaselineContext } from "../lambdas/core/planner/baselines/planning-baseline-context.ts";
import { BASELINE_NAMES, type BaselineName, runBaseline } from "../lambdas/core/planner/baselines/run-baselines.ts";
import type { Plan } from "../lambdas/core/planner/plan.ts";
import { planWorkload } from "../lambdas/core/planner/plan-workload.ts";
import { jobDeadlineAt } from "../lambdas/core/reconciler/deadlines.ts";
import type { Workload } from "../lambdas/core/spec/workload.ts";
import { BENCH_WORKLOADS, loadBenchWorkload } from "./bench-workloads.ts";

export const EXECUTION_WORKLOADS = ["saturn-text", "saturn-image"] as const;

export interface ExecutionBenchOptions {
  readonly seeds?: number;
  /**
   * Also run each workload with a tight deadline: its Saturn plan's makespan x this factor
   * (rounded up to 0.1 h), re-planned, so that the deadline binds. Default 1.25; 0: off.
   */
  readonly tightDeadlineFactor?: number;
  /** Workloads that also run the tight-deadline variant (default: saturn-text). */
  readonly tightWorkloads?: readonly string[];
  readonly workloads?: readonly string[];
  /** Solver time limit of the first MILP plan, seconds. */
  readonly planSeconds?: number;
  /** Solver time limit of each MILP re-plan, seconds. */
  readonly replanSeconds?: number;
  readonly onProgress?: (line: string) => void;
}

export interface SeedRun {
  readonly seed: number;
  readonly costUsd: number;
  /**
   * The same instance lifetimes priced as the planner prices them (spot at the expected
   * price, the midpoint of the catalog's AZ range): separates how faithfully the plan ran
   * from where the drawn spot price fell.
   */
  readonly costAtPlanPricesUsd: number;
  readonly makespanSeconds: number;
  readonly completed: boolean;
  readonly deadlineMet: boolean;
  readonly interruptions: number;
  readonly replans: number;
  readonly instancesLeftRunning: number;
}

export interface ExecutionCase {
  readonly workload: string;
  readonly policy: "saturn" | BaselineName;
  readonly planned: { readonly costUsd: number; readonly makespanSeconds: number };
  /** The plan meets every deadline on paper. */
  readonly planMeetsDeadline: boolean;
  readonly runs: readonly SeedRun[];
}

export interface ExecutionBenchReport {
  readonly seeds: number;
  readonly cases: readonly ExecutionCase[];
}

const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;

export function caseSummary(c: ExecutionCase) {
  const costs = c.runs.map((run) => run.costUsd);
  return {
    meanCostUsd: mean(costs),
    meanCostRatio: mean(costs) / c.planned.costUsd,
    meanCostAtPlanPricesRatio: mean(c.runs.map((run) => run.costAtPlanPricesUsd)) / c.planned.costUsd,
    meanMakespanSeconds: mean(c.runs.map((run) => run.makespanSeconds)),
    completedRate: mean(c.runs.map((run) => (run.completed ? 1 : 0))),
    deadlineMetRate: mean(c.runs.map((run) => (run.deadlineMet ? 1 : 0))),
    meanInterruptions: mean(c.runs.map((run) => run.interruptions)),
    meanReplans: mean(c.runs.map((run) => run.replans)),
    maxLeftRunning: Math.max(0, ...c.runs.map((run) => run.instancesLeftRunning)),
  };
}

function meetsDeadlines(plan: Plan, workload: Workload): boolean {
  return plan.assignments.every((assignment) => {
    const job = workload.jobs.find((j) => j.id === assignment.jobId);
    const deadline = job === undefined ? undefined : jobDeadlineAt(job, workload.objective, 0);
    return deadline === undefined || assignment.end <= deadline + 1e-6;
  });
}

interface Policy {
  readonly name: "saturn" | BaselineName;
  readonly plan: Plan;
  readonly replan: RemainingWorkPlanner;
}

function policies(
  workload: Workload,
  catalog: Catalog,
  quotas: QuotaTable,
  saturnPlan: Plan,
  replanSeconds: number,
): Policy[] {
  const profiles = new InMemoryProfileStore([]);
  const solver = new HighsSolver();
  const saturn: Policy = {
    name: "saturn",
    plan: saturnPlan,
    replan: async (input) =>
      (
        await planWorkload({
          workload: withTimeLimit(input.workload, replanSeconds),
          catalog,
          quotas: input.quotas,
          profiles: withMeasurements(profiles, input.workload, input.measured),
          solver,
          excludedOffers: input.excludedOffers,
        })
      ).plan,
  };
  const baselines = BASELINE_NAMES.map((name): Policy => {
    const plan = runBaseline(name, planningBaselineContext({ workload, catalog, quotas, profiles }));
    return {
      name,
      plan,
      replan: async (input) =>
        runBaseline(
          name,
          planningBaselineContext({
            workload: input.workload,
            catalog,
            quotas: input.quotas,
            profiles: withMeasurements(profiles, input.workload, input.measured),
          }),
        ),
    };
  });
  return [saturn, ...baselines];
}

export async function runExecutionBenchmark(options: ExecutionBenchOptions = {}): Promise<ExecutionBenchReport> {
  const seeds = options.seeds ?? 100;
  const names = options.workloads ?? EXECUTION_WORKLOADS;
  const catalog = loadCatalog();
  const progress = options.onProgress ?? (() => {});
  const cases: ExecutionCase[] = [];
  for (const name of names) {
    const source = BENCH_WORKLOADS.find((s) => s.name === name);
    if (source === undefined) throw new Error(`expected a workload from bench/bench-workloads.ts, got '${name}'`);
    const loose = loadBenchWorkload(source, catalog);
    const { quotas } = resolveQuotas(loose.quotas, undefined);
    const planSeconds = options.planSeconds ?? 20;
    const plan = async (w: Workload) => {
      progress(`${w.name}: planning with the MILP (${planSeconds} s limit)`);
      const result = await planWorkload({
        workload: withTimeLimit(w, planSeconds),
        catalog,
        quotas,
        profiles: new InMemoryProfileStore([]),
        solver: new HighsSolver(),
      });
      return result.plan;
    };
    const variants: { label: string; workload: Workload; plan: Plan }[] = [
      { label: name, workload: loose, plan: await plan(loose) },
    ];
    const factor = options.tightDeadlineFactor ?? 1.25;
    const first = variants[0];
    if (factor > 0 && first !== undefined && (options.tightWorkloads ?? ["saturn-text"]).includes(name)) {
      const deadlineHours = Math.ceil(((first.plan.totals.makespanSeconds / 3600) * factor) / 0.1) * 0.1;
      const tight: Workload = {
        ...loose,
        name: `${loose.name}-tight`,
        objective: { kind: "min-cost", deadlineHours: Number(deadlineHours.toFixed(1)) },
      };
      variants.push({
        label: `${name} (deadline ${deadlineHours.toFixed(1)} h)`,
        workload: tight,
        plan: await plan(tight),
      });
    }
    for (const variant of variants) {
      cases.push(
        ...(await runVariant(variant.label, variant.workload, variant.plan, catalog, quotas, seeds, options, progress)),
      );
    }
  }
  return { seeds, cases };
}

async function runVariant(
  name: string,
  workload: Workload,
  saturnPlan: Plan,
  catalog: Catalog,
  quotas: QuotaTable,
  seeds: number,
  options: ExecutionBenchOptions,
  progress: (line: string) => void,
): Promise<ExecutionCase[]> {
  const cases: ExecutionCase[] = [];
  for (const policy of policies(workload, catalog, quotas, saturnPlan, options.replanSeconds ?? 1.5)) {
    const runs: SeedRun[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const result = await runOnSimulatedCloud({
        workload,
        catalog,
        plan: policy.plan,
        planner: policy.replan,
        quotas,
        sim: { seed },
      });
      const late = workload.jobs.some((job) => {
        const deadline = jobDeadlineAt(job, workload.objective, result.startedAt);
        const finished = result.record.jobs[job.id]?.finishedAt;
        return deadline !== undefined && (finished === undefined || finished > deadline);
      });
      runs.push({
        seed,
        costUsd: result.spendUsd,
        costAtPlanPricesUsd: result.cloud.allInstances().reduce((sum, instance) => {
          const type = catalog.instanceTypes.find((t) => t.name === instance.instanceType);
          const price = type === undefined ? undefined : expectedHourlyPrice(type, workload.region, instance.market);
          return sum + billedCostUsd(instance.launchedAt, instance.terminatedAt ?? result.endedAt, price ?? 0);
        }, 0),
        makespanSeconds: result.makespanSeconds,
        completed: result.record.status === "completed",
        deadlineMet: !late,
        interruptions: result.interruptions,
        replans: result.replansAdopted,
        instancesLeftRunning: result.instancesLeftRunning,
      });
    }
    const c: ExecutionCase = {
      workload: name,
      policy: policy.name,
      planned: { costUsd: policy.plan.totals.expectedCostUsd, makespanSeconds: policy.plan.totals.makespanSeconds },
      planMeetsDeadline: meetsDeadlines(policy.plan, workload),
      runs,
    };
    const s = caseSummary(c);
    progress(
      `${name} / ${policy.name}: planned $${c.planned.costUsd.toFixed(2)}, executed mean $${s.meanCostUsd.toFixed(2)} (x${s.meanCostRatio.toFixed(3)}), deadline met ${(s.deadlineMetRate * 100).toFixed(0)}%`,
    );
    cases.push(c);
  }
  return cases;
}

const hours = (seconds: number) => (seconds / 3600).toFixed(2);
const signed = (fraction: number) => `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;

export function renderExecutionMarkdown(report: ExecutionBenchReport, header: string): string {
  const lines = [
    header,
    "",
    `Each plan executed on the simulated cloud over ${report.seeds} seeds (seed 1..${report.seeds}) with the default spot interruption rates (the planner's, from the Spot Instance Advisor bands), throughput drawn around the planned figure (sigma 0.1), boot within the planner's allowance, no injected capacity errors or crashes. Re-plans use each policy's own rule on the remaining work.`,
    "",
    "| workload | policy | planned cost | executed cost (mean) | executed / planned | same, at plan prices | planned makespan h | executed makespan h (mean) | completed | deadline met | interruptions (mean) | re-plans adopted (mean) | instances left |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const c of report.cases) {
    const s = caseSummary(c);
    lines.push(
      `| ${c.workload} | ${c.policy} | $${c.planned.costUsd.toFixed(2)} | $${s.meanCostUsd.toFixed(2)} | ${s.meanCostRatio.toFixed(3)} | ${s.meanCostAtPlanPricesRatio.toFixed(3)} | ${hours(c.planned.makespanSeconds)} | ${hours(s.meanMakespanSeconds)} | ${(s.completedRate * 100).toFixed(0)}% | ${c.planMeetsDeadline ? `${(s.deadlineMetRate * 100).toFixed(0)}%` : `${(s.deadlineMetRate * 100).toFixed(0)}% (plan misses it)`} | ${s.meanInterruptions.toFixed(2)} | ${s.meanReplans.toFixed(2)} | ${s.maxLeftRunning} |`,
    );
  }
  lines.push("", "Targets (issue 4):", "");
  for (const workload of new Set(report.cases.map((c) => c.workload))) {
    const saturn = report.cases.find((c) => c.workload === workload && c.policy === "saturn");
    if (saturn === undefined) continue;
    const s = caseSummary(saturn);
    const within = Math.abs(s.meanCostRatio - 1) <= 0.1;
    const withinAtPlanPrices = Math.abs(s.meanCostAtPlanPricesRatio - 1) <= 0.1;
    lines.push(
      `- ${workload}: Saturn's mean executed cost is ${signed(s.meanCostRatio - 1)} off plan (target within 10%: ${within ? "met" : "MISSED"}), ${signed(s.meanCostAtPlanPricesRatio - 1)} at the plan's prices (${withinAtPlanPrices ? "met" : "MISSED"}); deadline met in ${(s.deadlineMetRate * 100).toFixed(0)}% of seeds${saturn.planMeetsDeadline ? "" : " (the plan itself misses it)"} (target >= 99%: ${s.deadlineMetRate >= 0.99 ? "met" : "MISSED"}).`,
    );
    for (const other of report.cases.filter((c) => c.workload === workload && c.policy !== "saturn")) {
      const o = caseSummary(other);
      lines.push(
        `  - vs ${other.policy}: executed cost ${(o.meanCostUsd / s.meanCostUsd).toFixed(2)}x Saturn's, executed makespan ${(o.meanMakespanSeconds / s.meanMakespanSeconds).toFixed(2)}x.`,
      );
    }
  }
  return lines.join("\n");
}

export const EXECUTION_BEGIN =
  "<!-- execution-results:begin (written by `npx tsx bench/execution.ts`; edits here are overwritten) -->";
export const EXECUTION_END = "<!-- execution-results:end -->";

/** Writes the results under "## Execution" in docs/benchmarks.md, between markers; the rest stays. */
export function writeExecutionResults(path: string, markdown: string): void {
  let text = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n\n## Execution\n";
  if (!text.includes("## Execution")) text = `${text.trimEnd()}\n\n## Execution\n`;
  const block = `${EXECUTION_BEGIN}\n${markdown.trim()}\n${EXECUTION_END}`;
  const begin = text.indexOf(EXECUTION_BEGIN);
  const end = text.indexOf(EXECUTION_END);
  if (begin !== -1 && end > begin) {
    text = `${text.slice(0, begin)}${block}${text.slice(end + EXECUTION_END.length)}`;
  } else {
    const at = text.indexOf("## Execution") + "## Execution".length;
    const rest = text.slice(at).replace(/^\n+\([^\n]*\)\n?/, "\n");
    text = `${text.slice(0, at)}\n\n${block}\n${rest}`;
  }
  writeFileSync(path, text);
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seeds: { type: "string", default: "100" },
      workloads: { type: "string" },
      "no-doc": { type: "boolean", default: false },
    },
    strict: true,
  });
  const seeds = Number.parseInt(values.seeds, 10);
  if (!(seeds >= 1)) {
    process.stderr.write(`expected --seeds to be an integer >= 1, got '${values.seeds}'\n`);
    return 2;
  }
  const command = ["npx tsx bench/execution.ts", ...argv].join(" ");
  const header = `Command: \`${command}\` · date ${new Date().toISOString()} · Node ${process.version} · ${cpus()[0]?.model ?? "unknown CPU"}`;
  const report = await runExecutionBenchmark({
    seeds,
    ...(values.workloads === undefined ? {} : { workloads: values.workloads.split(",").map((w) => w.trim()) }),
    onProgress: (line) => process.stderr.write(`[execution] ${line}\n`),
  });
  const markdown = renderExecutionMarkdown(report, header);
  process.stdout.write(`${markdown}\n`);
  if (!values["no-doc"]) {
    writeExecutionResults(join(fileURLToPath(new URL("..", import.meta.url)), "docs", "benchmarks.md"), markdown);
    process.stderr.write("[execution] wrote the Execution section of docs/benchmarks.md\n");
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
