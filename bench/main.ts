/**
 * `npm run bench` (= `tsx bench/main.ts`): the planner benchmark of issue 3.
 *
 *   npm run bench                        the planner and the execution benchmarks; writes docs/benchmarks.md
 *   npm run bench -- --only planner      the planner benchmark only (and out/bench/*.html)
 *   npm run bench -- --only planner-5000 the 5,000-job heterogeneous sweep only (not in plain `npm run bench`)
 *   npm run bench -- --only execution --seeds 20   engineer D's execution benchmark only (bench/execution.ts)
 *   npm run bench -- --workloads saturn-text,synthetic-100 --no-doc
 *   npm run bench -- --time-limit 20     overrides every spec's solver time limit (seconds)
 *   npm run bench -- --only regions      one region against three, side by side (bench/regions.ts)
 *   npm run bench -- --only control-plane [--workloads 12,100,1000]   the control plane through the local stack
 *
 * Planner runs happen in child processes (one per run, pinned to CPU 0 where `taskset`
 * exists) so that wall time and peak memory are measured per run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderPlanReport } from "../cli/report/html-report.ts";
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { costBreakdown } from "../lambdas/core/planner/cost-breakdown.ts";
import { BENCH_WORKLOADS } from "./bench-workloads.ts";
import { LARGE_MARKERS, writePlannerResults } from "./benchmarks-doc.ts";
import {
  type ControlPlaneResult,
  renderControlPlaneMarkdown,
  runControlPlaneBenchmark,
} from "./control-plane/control-plane-benchmark.ts";
import { withControlPlaneSection } from "./control-plane/control-plane-section.ts";
import {
  CONTROL_PLANE_SIZES,
  type ControlPlaneSize,
  controlPlaneWorkload,
} from "./control-plane/control-plane-workloads.ts";
import { renderExecutionMarkdown, runExecutionBenchmark, writeExecutionResults } from "./execution.ts";
import { renderMarkdown, renderText, targetTable, workloadHeading, workloadTable } from "./format-report.ts";
import { type PlannerBenchmarkReport, runPlannerBenchmark, validPlan } from "./planner-benchmark.ts";
import { renderRegionMarkdown, runRegionBenchmark, writeRegionResults } from "./regions.ts";

const SECTIONS = ["planner", "execution", "regions", "planner-5000", "control-plane"] as const;
/**
 * What plain `npm run bench` runs; planner-5000 (the 5,000-job sweep, minutes per run) and
 * control-plane (deploys a stack into moto) only when named.
 */
const DEFAULT_SECTIONS = ["planner", "execution", "regions"] as const;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: "string" },
      workloads: { type: "string" },
      "time-limit": { type: "string" },
      "no-doc": { type: "boolean", default: false },
      html: { type: "string", default: join(ROOT, "out", "bench") },
      seeds: { type: "string" },
    },
    strict: true,
  });
  if (values.only !== undefined && !SECTIONS.includes(values.only as (typeof SECTIONS)[number])) {
    process.stderr.write(`expected --only to be one of ${SECTIONS.join(", ")}, got '${values.only}'\n`);
    return 2;
  }
  const known = BENCH_WORKLOADS.map((source) => source.name);
  const workloads = values.workloads?.split(",").map((name) => name.trim());
  // The control-plane section takes job counts (12, 100, 1000) instead.
  const unknown = values.only === "control-plane" ? [] : (workloads?.filter((name) => !known.includes(name)) ?? []);
  if (unknown.length > 0) {
    process.stderr.write(`expected --workloads from ${known.join(", ")}, got ${unknown.join(", ")}\n`);
    return 2;
  }
  const timeLimit = values["time-limit"] === undefined ? undefined : Number(values["time-limit"]);
  if (timeLimit !== undefined && !(timeLimit > 0)) {
    process.stderr.write(`expected --time-limit to be a number of seconds > 0, got '${values["time-limit"]}'\n`);
    return 2;
  }

  const seeds = values.seeds === undefined ? undefined : Number(values.seeds);
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) {
    process.stderr.write(`expected --seeds to be an integer >= 1, got '${values.seeds}'\n`);
    return 2;
  }

  const command = ["npm run bench", ...(argv.length > 0 ? ["--", ...argv] : [])].join(" ");
  const date = new Date().toISOString();
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const docPath = join(ROOT, "docs", "benchmarks.md");
  const sections: readonly string[] = values.only === undefined ? DEFAULT_SECTIONS : [values.only];

  if (sections.includes("planner")) {
    const report = await runPlannerBenchmark({
      ...(workloads === undefined ? {} : { workloads }),
      ...(timeLimit === undefined ? {} : { timeLimitSeconds: timeLimit }),
      onProgress: (line) => process.stderr.write(`[bench] ${line}\n`),
    });
    const header = `Command: \`${command}\` · date ${date} · Node ${process.version} · ${cpu} (planner runs pinned to one core)`;
    process.stdout.write(`${header}\n\n`);
    for (const workload of report.workloads) {
      process.stdout.write(`${workloadHeading(workload)}\n${renderText(workloadTable(workload))}\n\n`);
    }
    process.stdout.write(`Targets (issue 3)\n${renderText(targetTable(report))}\n`);
    if (!values["no-doc"]) {
      writePlannerResults(docPath, markdown(report, header));
      process.stderr.write("[bench] wrote the Planner section of docs/benchmarks.md\n");
    }
    writeHtmlReports(report, values.html);
  }

  if (sections.includes("planner-5000")) {
    const report = await runPlannerBenchmark({
      workloads: workloads ?? ["heterogeneous-5000"],
      ...(timeLimit === undefined ? {} : { timeLimitSeconds: timeLimit }),
      onProgress: (line) => process.stderr.write(`[bench] ${line}\n`),
    });
    const header = `Command: \`${command}\` · date ${date} · Node ${process.version} · ${cpu} (planner runs pinned to one core)`;
    for (const workload of report.workloads) {
      process.stdout.write(`${workloadHeading(workload)}\n${renderText(workloadTable(workload))}\n\n`);
    }
    process.stdout.write(`Targets (issue 7)\n${renderText(targetTable(report))}\n`);
    if (!values["no-doc"]) {
      writePlannerResults(docPath, markdown(report, header), LARGE_MARKERS);
      process.stderr.write("[bench] wrote the 5,000-job block of docs/benchmarks.md\n");
    }
  }

  if (sections.includes("execution")) {
    const header = `Command: \`${command}\` · date ${new Date().toISOString()} · Node ${process.version} · ${cpu}`;
    const report = await runExecutionBenchmark({
      ...(seeds === undefined ? {} : { seeds }),
      ...(workloads === undefined ? {} : { workloads }),
      onProgress: (line) => process.stderr.write(`[execution] ${line}\n`),
    });
    const text = renderExecutionMarkdown(report, header);
    process.stdout.write(`\n${text}\n`);
    if (!values["no-doc"]) {
      writeExecutionResults(docPath, text);
      process.stderr.write("[execution] wrote the Execution section of docs/benchmarks.md\n");
    }
  }
  if (sections.includes("regions")) {
    const header = `Command: \`${command}\` · date ${new Date().toISOString()} · Node ${process.version} · ${cpu}`;
    const runs = await runRegionBenchmark({
      timeLimitSeconds: timeLimit ?? 30,
      onProgress: (line) => process.stderr.write(`[regions] ${line}\n`),
    });
    const text = renderRegionMarkdown(runs, header);
    process.stdout.write(`\n${text}\n`);
    if (!values["no-doc"]) {
      writeRegionResults(docPath, text);
      process.stderr.write("[regions] wrote the Regions section of docs/benchmarks.md\n");
    }
  }
  if (sections.includes("control-plane")) {
    const header = `Command: \`${command}\` · date ${new Date().toISOString()} · Node ${process.version} · ${cpu} · moto ${motoVersion()}`;
    const catalog = loadCatalog();
    const sizes = (values.workloads ?? "12,100,1000").split(",").map((s) => s.trim());
    const cases = sizes.map((size) => {
      const n = Number(size);
      if (!(CONTROL_PLANE_SIZES as readonly number[]).includes(n))
        throw new Error(`expected control-plane workloads 12, 100 or 1000, got '${size}'`);
      return controlPlaneWorkload(n as ControlPlaneSize, ROOT, catalog);
    });
    const write = (results: readonly ControlPlaneResult[]) =>
      writeFileSync(
        docPath,
        withControlPlaneSection(
          existsSync(docPath) ? readFileSync(docPath, "utf8") : "# Benchmarks\n",
          renderControlPlaneMarkdown(results, header),
        ),
      );
    const results = await runControlPlaneBenchmark({
      cases,
      onProgress: (line) => process.stderr.write(`[control-plane] ${line}\n`),
      logDir: values.html,
      // Each finished case lands in the doc at once: a long last case loses nothing before it.
      ...(values["no-doc"] ? {} : { onCase: write }),
    });
    const text = renderControlPlaneMarkdown(results, header);
    process.stdout.write(`\n${text}\n`);
    if (!values["no-doc"]) {
      writeFileSync(
        docPath,
        withControlPlaneSection(existsSync(docPath) ? readFileSync(docPath, "utf8") : "# Benchmarks\n", text),
      );
      process.stderr.write("[control-plane] wrote the Control plane section of docs/benchmarks.md\n");
    }
  }
  return 0;
}

function motoVersion(): string {
  try {
    return execFileSync("moto_server", ["--version"], { encoding: "utf8" }).trim().split(/\s+/).pop() ?? "?";
  } catch {
    return "?";
  }
}

function markdown(report: PlannerBenchmarkReport, header: string): string {
  return [
    header,
    ...report.workloads.map(
      (workload) =>
        `#### ${workloadHeading(workload)}\n\n${renderMarkdown(workloadTable(workload))}\n\n${comparedLines(workload)}`,
    ),
    `#### Targets\n\n${renderMarkdown(targetTable(report))}`,
  ].join("\n\n");
}

/** Per planner run: the plans it compared (docs/plan.md, "Plans compared") and why it chose one. */
function comparedLines(workload: PlannerBenchmarkReport["workloads"][number]): string {
  return workload.runs
    .flatMap((run) => {
      const chosen = run.result.ok ? run.result.plan.chosenFrom : undefined;
      if (chosen === undefined) return [];
      const list = chosen.compared
        .map((entry) => `${entry.source} $${entry.costUsd.toFixed(2)} / ${(entry.makespanSeconds / 3600).toFixed(2)} h`)
        .join(", ");
      return [`- ${run.label}: compared ${list}. Chosen: ${chosen.reason}.`, ...costLine(run.result)];
    })
    .join("\n");
}

const GPUS_BY_TYPE = new Map(loadCatalog().instanceTypes.map((type) => [type.name, type.gpus]));

/** Where a cost-objective plan's money goes against its bound (lambdas/core/planner/cost-breakdown.ts). */
function costLine(result: PlannerBenchmarkReport["workloads"][number]["runs"][number]["result"]): string[] {
  const plan = validPlan(result);
  if (plan === undefined || plan.objective === "min-time") return [];
  const parts = costBreakdown(plan, (type) => GPUS_BY_TYPE.get(type) ?? 1);
  const cost = plan.totals.expectedCostUsd;
  const share = (usd: number) => `$${usd.toFixed(2)} (${((100 * usd) / cost).toFixed(1)}%)`;
  return [
    `  - where its $${cost.toFixed(2)} goes: jobs' GPU share ${share(parts.jobsGpuShareUsd)}, instances before their first job ` +
      `${share(parts.beforeFirstJobUsd)}, idle GPUs ${share(parts.idleGpusUsd)}; bound $${plan.lowerBound.toFixed(2)}, ` +
      `so the jobs' share is ${(parts.jobsGpuShareUsd / Math.max(1e-9, plan.lowerBound)).toFixed(3)}x the bound`,
  ];
}

/** One HTML report per workload whose min-cost plan is valid, with the baselines as points. */
function writeHtmlReports(report: PlannerBenchmarkReport, directory: string): void {
  mkdirSync(directory, { recursive: true });
  for (const workload of report.workloads) {
    const [minCost, ...others] = workload.runs;
    const plan = validPlan(minCost?.result);
    if (plan === undefined || minCost === undefined || !minCost.result.ok) continue;
    const baselines = [
      ...others.flatMap((run) => {
        const other = validPlan(run.result);
        return other === undefined
          ? []
          : [
              {
                label: `saturn, ${run.label}`,
                costUsd: other.totals.expectedCostUsd,
                makespanSeconds: other.totals.makespanSeconds,
              },
            ];
      }),
      ...workload.baselines.flatMap((baseline) =>
        baseline.ok && baseline.violations.length === 0
          ? [
              {
                label: baseline.name,
                costUsd: baseline.plan.totals.expectedCostUsd,
                makespanSeconds: baseline.plan.totals.makespanSeconds,
              },
            ]
          : [],
      ),
    ];
    const html = renderPlanReport(
      { plan: { ...plan, considered: [] }, frontier: undefined, warnings: minCost.result.warnings },
      { title: `Saturn benchmark: ${workload.name}`, baselines },
    );
    const path = join(directory, `${workload.name}.html`);
    writeFileSync(path, html);
    process.stderr.write(`[bench] wrote ${path}\n`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
