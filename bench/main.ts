/**
 * `npm run bench` (= `tsx bench/main.ts`): the planner benchmark of issue 3.
 *
 *   npm run bench                        the planner and the execution benchmarks; writes docs/benchmarks.md
 *   npm run bench -- --only planner      the planner benchmark only (and out/bench/*.html)
 *   npm run bench -- --only execution --seeds 20   engineer D's execution benchmark only (bench/execution.ts)
 *   npm run bench -- --workloads saturn-text,synthetic-100 --no-doc
 *   npm run bench -- --time-limit 20     overrides every spec's solver time limit (seconds)
 *   npm run bench -- --only regions      one region against three, side by side (bench/regions.ts)
 *
 * Planner runs happen in child processes (one per run, pinned to CPU 0 where `taskset`
 * exists) so that wall time and peak memory are measured per run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderPlanReport } from "../cli/report/html-report.ts";
import { BENCH_WORKLOADS } from "./bench-workloads.ts";
import { writePlannerResults } from "./benchmarks-doc.ts";
import { renderExecutionMarkdown, runExecutionBenchmark, writeExecutionResults } from "./execution.ts";
import { renderMarkdown, renderText, targetTable, workloadHeading, workloadTable } from "./format-report.ts";
import { type PlannerBenchmarkReport, runPlannerBenchmark, validPlan } from "./planner-benchmark.ts";
import { renderRegionMarkdown, runRegionBenchmark, writeRegionResults } from "./regions.ts";

const SECTIONS = ["planner", "execution", "regions"] as const;
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
  const unknown = workloads?.filter((name) => !known.includes(name)) ?? [];
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
  const sections = values.only === undefined ? SECTIONS : [values.only];

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
  return 0;
}

function markdown(report: PlannerBenchmarkReport, header: string): string {
  return [
    header,
    ...report.workloads.map(
      (workload) => `#### ${workloadHeading(workload)}\n\n${renderMarkdown(workloadTable(workload))}`,
    ),
    `#### Targets\n\n${renderMarkdown(targetTable(report))}`,
  ].join("\n\n");
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
