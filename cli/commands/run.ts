/**
 * `saturn run <spec> --cloud sim [--seed N] [--speed X] [--json]`: plans the workload with
 * the MILP planner, carries the plan out on the simulated cloud through the same reconciler
 * AWS will use (live view on a terminal, plain lines otherwise), then prints planned
 * against executed figures and writes the HTML report of what actually ran.
 * `npm start` runs it on examples/text-sweep.yaml.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { runOnSimulatedCloud, type SimPace } from "../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { resolveWorkloadQuotas } from "../../lambdas/core/catalog/quotas.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import { EXIT } from "../exit-codes.ts";
import { renderPlanReport } from "../report/html-report.ts";
import { LiveView, type LiveViewOutput } from "../run/live-view.ts";
import { milpPlanners } from "../run/planners.ts";
import { executedRun, formatRunSummary, summarizeRun } from "../run/run-report.ts";
import { readWorkloadFile } from "../spec-file.ts";

export interface RunOptions {
  readonly cloud: string;
  readonly seed: string;
  readonly speed?: string;
  readonly json?: boolean;
  readonly html?: string | false;
  readonly planSeconds: string;
  readonly replanSeconds: string;
  readonly catalog: string;
}

/** Wall-clock seconds the paced animation aims at when no --speed is given (npm start must end within 30 s). */
const DEFAULT_ANIMATION_SECONDS = 6;

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .argument("<spec>", "workload spec file (YAML or JSON)")
    .description("plan a workload and run it to the end on a cloud (today: the built-in simulated cloud)")
    .option("--cloud <kind>", "where to run: 'sim' (the simulated cloud; no AWS account needed)", "sim")
    .option("--seed <n>", "seed of the simulated cloud (interruptions, throughput, boot times)", "1")
    .option("--speed <x>", "virtual seconds per real second (default on a terminal: the whole run in about 6 s)")
    .option("--json", "print the run summary as JSON instead of the live view and table")
    .option("--html <file>", "where to write the HTML report (default: out/<workload>-run.html)")
    .option("--no-html", "do not write the HTML report")
    .option("--plan-seconds <s>", "solver time limit of the first plan, seconds (at most the spec's)", "8")
    .option("--replan-seconds <s>", "solver time limit of each re-plan, seconds", "2")
    .option("--catalog <file>", "catalog file to read", BUNDLED_CATALOG_PATH)
    .action(async (specPath: string, options: RunOptions) => {
      process.exitCode = await runCommand(specPath, options, {
        stdout: process.stdout,
        stderr: process.stderr,
      });
    });
}

export interface RunIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  readonly stderr: { write(text: string): unknown };
}

function positiveNumber(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidWorkloadError([{ path: option, message: `expected a number > 0, got '${value}'` }], {
      subject: "command line",
    });
  }
  return number;
}

export async function runCommand(specPath: string, options: RunOptions, io: RunIo): Promise<number> {
  if (options.cloud !== "sim") {
    throw new InvalidWorkloadError(
      [
        {
          path: "--cloud",
          message: `expected 'sim', got '${options.cloud}': the EC2 adapter of the cloud port is not built yet; run on the simulated cloud with --cloud sim`,
        },
      ],
      { subject: "command line" },
    );
  }
  const seed = Number.parseInt(options.seed, 10);
  if (!Number.isInteger(seed)) {
    throw new InvalidWorkloadError([{ path: "--seed", message: `expected an integer, got '${options.seed}'` }], {
      subject: "command line",
    });
  }
  const workload = readWorkloadFile(specPath);
  const catalog = loadCatalog(options.catalog);
  const { quotas, quotasByRegion, warnings } = resolveWorkloadQuotas(workload, () => undefined);
  const planners = milpPlanners({
    catalog,
    quotas,
    quotasByRegion,
    profiles: new InMemoryProfileStore([]),
    planSeconds: positiveNumber(options.planSeconds, "--plan-seconds"),
    replanSeconds: positiveNumber(options.replanSeconds, "--replan-seconds"),
  });
  const json = options.json === true;
  const tty = !json && io.stdout.isTTY === true;
  const say = (text: string) => {
    if (!json) io.stdout.write(text);
  };

  say(
    `Planning ${workload.name} (${workload.jobs.length} jobs, ${workload.objective.kind}) with the MILP planner...\n`,
  );
  const planning = await planners.initial(workload);
  const plan = planning.plan;
  for (const warning of [...warnings, ...planning.warnings]) if (!json) io.stderr.write(`warning: ${warning}\n`);
  say(
    `Plan: $${plan.totals.expectedCostUsd.toFixed(2)} expected, ${(plan.totals.makespanSeconds / 3600).toFixed(2)} h makespan, ` +
      `${plan.instances.length} instances, gap ${(plan.gap * 100).toFixed(1)}%, solved in ${plan.solveSeconds.toFixed(1)} s\n`,
  );

  const speed =
    options.speed !== undefined
      ? positiveNumber(options.speed, "--speed")
      : tty
        ? Math.max(1, plan.totals.makespanSeconds / DEFAULT_ANIMATION_SECONDS)
        : undefined;
  const pace: SimPace | undefined =
    speed === undefined ? undefined : { speed, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  if (!json) {
    say(`Running on the simulated cloud (seed ${seed}${speed === undefined ? "" : `, ${Math.round(speed)}x`})...\n`);
  }
  const out: LiveViewOutput = {
    write: (text) => {
      if (!json) io.stdout.write(text);
    },
    isTTY: tty,
    columns: io.stdout.columns !== undefined && io.stdout.columns > 0 ? io.stdout.columns : 120,
  };
  const view = new LiveView(out, workload, plan.totals.expectedCostUsd, () => performance.now());
  const result = await runOnSimulatedCloud({
    workload,
    catalog,
    plan,
    planner: planners.remaining,
    quotas,
    quotasByRegion,
    sim: { seed },
    ...(pace === undefined ? {} : { pace }),
    onTick: (tick) => view.onTick(tick),
    onActions: (actions, record, now) => view.onActions(actions, record, now),
  });
  view.close();

  const summary = summarizeRun(workload, plan, result, seed);
  let htmlPath: string | undefined;
  if (options.html !== false) {
    htmlPath = options.html ?? `out/${workload.name}-run.html`;
    mkdirSync(dirname(htmlPath), { recursive: true });
    writeFileSync(
      htmlPath,
      renderPlanReport(planning, {
        title: `Saturn run: ${workload.name} (simulated cloud, seed ${seed})`,
        executed: executedRun(result),
      }),
    );
  }
  if (json) {
    io.stdout.write(`${JSON.stringify({ ...summary, html: htmlPath ?? null }, null, 2)}\n`);
  } else {
    io.stdout.write(formatRunSummary(summary));
    if (htmlPath !== undefined) io.stdout.write(`HTML report (planned and executed Gantt charts): ${htmlPath}\n`);
  }
  return summary.status === "completed" && summary.instancesLeftRunning === 0 ? EXIT.ok : EXIT.failure;
}
