/**
 * `saturn run <spec> --cloud sim [--seed N] [--speed X] [--json]`: plans the workload with
 * the MILP planner, carries the plan out on the simulated cloud through the same reconciler
 * AWS will use (live view on a terminal, plain lines otherwise), then prints planned
 * against executed figures and writes the HTML report of what actually ran.
 * `npm start` runs it on examples/text-sweep.yaml.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { loadProfileRecords } from "../../lambdas/adapters/profile-file.ts";
import { revealedThroughputOf } from "../../lambdas/adapters/sim-cloud/profile-on-sim.ts";
import { runOnSimulatedCloud, type SimPace } from "../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { resolveWorkloadQuotas } from "../../lambdas/core/catalog/quotas.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import type { ProfilingChoice } from "../../lambdas/core/planner/profiling-phase.ts";
import { EXIT } from "../exit-codes.ts";
import { renderPlanReport } from "../report/html-report.ts";
import { LiveView, type LiveViewOutput } from "../run/live-view.ts";
import { milpPlanners } from "../run/planners.ts";
import { executedRun, formatRunSummary, summarizeRun } from "../run/run-report.ts";
import { runSimProfilingPhase, type SimProfilingPhase } from "../run/sim-profiling.ts";
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
  readonly profiles?: string;
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
    .option(
      "--profiles <file>",
      "measured throughput records to plan with; the profiling phase appends to it (default: out/<workload>-profiles.jsonl)",
    )
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
          message: `expected 'sim', got '${options.cloud}': saturn run drives the simulated cloud only (--cloud sim); on AWS, submit the workload to the deployed control plane with 'saturn submit <spec>' (docs/cli.md)`,
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
  const planSeconds = positiveNumber(options.planSeconds, "--plan-seconds");
  const replanSeconds = positiveNumber(options.replanSeconds, "--replan-seconds");
  const profilesPath = options.profiles ?? `out/${workload.name}-profiles.jsonl`;
  const stored =
    options.profiles !== undefined && existsSync(options.profiles) ? loadProfileRecords(options.profiles) : [];
  let planners = milpPlanners({
    catalog,
    quotas,
    quotasByRegion,
    profiles: new InMemoryProfileStore(stored),
    planSeconds,
    replanSeconds,
  });
  const json = options.json === true;
  const tty = !json && io.stdout.isTTY === true;
  const say = (text: string) => {
    if (!json) io.stdout.write(text);
  };

  say(
    `Planning ${workload.name} (${workload.jobs.length} jobs, ${workload.objective.kind}) with the MILP planner...\n`,
  );
  let planning = await planners.initial(workload);
  let profiling: SimProfilingPhase | undefined;
  if (workload.profiling !== undefined) {
    const settings = workload.profiling;
    say(
      `First plan (estimates): $${planning.plan.totals.expectedCostUsd.toFixed(2)} expected, ` +
        `${measuredShare(planning.plan)} of assignments on measured figures\n`,
    );
    profiling = await runSimProfilingPhase({
      workload,
      settings,
      catalog,
      plan: planning.plan,
      stored,
      seed,
      profilesPath,
      epoch: new Date().toISOString(),
      onChoice: (choice) =>
        say(
          `Profiling: ${choice.runs.length} configurations to measure for at most $${choice.totalCostUsd.toFixed(2)} ` +
            `(budget $${settings.budgetUsd.toFixed(2)}), ${(choice.totalSeconds / 60).toFixed(1)} instance-min ` +
            `(limit ${settings.maxMinutes}); left out: ${leftOutText(choice.leftOut, choice.outsideMargin)}\n`,
        ),
    });
    const phase = profiling.result;
    say(
      `Profiled ${phase.records.length} configurations on the simulated cloud: $${phase.spendUsd.toFixed(2)} spent, ` +
        `${(phase.seconds / 60).toFixed(1)} min, ${phase.failed.length} failed to launch, ` +
        `${phase.instancesLeftRunning} instances left running; records appended to ${profilesPath}\n`,
    );
    planners = milpPlanners({
      catalog,
      quotas,
      quotasByRegion,
      profiles: profiling.profiles,
      planSeconds,
      replanSeconds,
    });
    planning = await planners.initial(workload);
  }
  const plan = planning.plan;
  for (const warning of [...warnings, ...planning.warnings]) if (!json) io.stderr.write(`warning: ${warning}\n`);
  say(
    `Plan: $${plan.totals.expectedCostUsd.toFixed(2)} expected, ${(plan.totals.makespanSeconds / 3600).toFixed(2)} h makespan, ` +
      `${plan.instances.length} instances, gap ${(plan.gap * 100).toFixed(1)}%, solved in ${plan.solveSeconds.toFixed(1)} s` +
      `${profiling === undefined ? "" : `, ${measuredShare(plan)} of assignments on measured figures`}\n`,
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
    sim: {
      seed,
      ...(profiling === undefined ? {} : { revealedThroughput: revealedThroughputOf(workload, profiling.records) }),
    },
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
    const profilingSummary =
      profiling === undefined
        ? null
        : {
            configurationsProfiled: profiling.records.length,
            chosen: profiling.choice.runs.length,
            estimatedCostUsd: profiling.choice.totalCostUsd,
            spendUsd: profiling.result.spendUsd,
            seconds: profiling.result.seconds,
            leftOut: profiling.choice.leftOut,
            outsideMargin: profiling.choice.outsideMargin,
            failed: profiling.result.failed.map((entry) => ({ config: entry.run.config, message: entry.message })),
            instancesLeftRunning: profiling.result.instancesLeftRunning,
            profilesPath,
            measuredAssignments: plan.assignments.filter((a) => a.throughputSource === "measured").length,
            assignments: plan.assignments.length,
          };
    io.stdout.write(
      `${JSON.stringify({ ...summary, profiling: profilingSummary, html: htmlPath ?? null }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(formatRunSummary(summary));
    if (htmlPath !== undefined) io.stdout.write(`HTML report (planned and executed Gantt charts): ${htmlPath}\n`);
  }
  const profilingClean = profiling === undefined || profiling.result.instancesLeftRunning === 0;
  return summary.status === "completed" && summary.instancesLeftRunning === 0 && profilingClean
    ? EXIT.ok
    : EXIT.failure;
}

function measuredShare(plan: Plan): string {
  const measured = plan.assignments.filter((assignment) => assignment.throughputSource === "measured").length;
  return `${measured}/${plan.assignments.length}`;
}

function leftOutText(leftOut: ProfilingChoice["leftOut"], outsideMargin: number): string {
  const counts = new Map<string, number>();
  for (const entry of leftOut) counts.set(entry.reason, (counts.get(entry.reason) ?? 0) + 1);
  const parts = [...counts].map(([reason, count]) => `${count} ${reason}`);
  parts.push(`${outsideMargin} outside the margin`);
  return parts.join(", ");
}
