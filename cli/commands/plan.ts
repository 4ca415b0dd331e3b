/**
 * `saturn plan <spec>`: solves the planning MILP and prints, per job (sweep clones that got
 * the same choice share one table), the chosen configuration next to its best alternatives
 * (SkyPilot-style "considered resources", the choice marked), then totals, the lower bound
 * and gap, solver time and a text Gantt chart. `--json` prints the plan (docs/plan.md);
 * `--html FILE` writes the self-contained report. An infeasible workload throws
 * InfeasibleWorkloadError, which `main` maps to exit code 3.
 *
 * Quotas: the spec's `quotas:` win; cells the spec leaves open are read from AWS Service
 * Quotas only when AWS credentials are configured (never with --offline), else assumed
 * with a warning. Without credentials the command makes no network call.
 */
import { existsSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import type { Command } from "commander";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../../lambdas/adapters/highs-solver.ts";
import { loadProfileStore } from "../../lambdas/adapters/profile-file.ts";
import { readRegionQuotasFromAws } from "../../lambdas/adapters/service-quotas.ts";
import { isQuotaApplicable, type QuotasFromAws, resolveWorkloadQuotas } from "../../lambdas/core/catalog/quotas.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import type { PlanningResult, QuotaTable } from "../../lambdas/core/planner/api.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import type { PlanningOutcome } from "../../lambdas/core/planner/plan-from-candidates.ts";
import { planWorkloadWithReports } from "../../lambdas/core/planner/plan-workload.ts";
import type { Workload } from "../../lambdas/core/spec/workload.ts";
import { MARKETS, QUOTA_GROUPS } from "../../lambdas/core/spec/workload-schema.ts";
import { formatPlanSummary } from "../remote/plan-summary.ts";
import { renderPlanReport } from "../report/html-report.ts";
import { readWorkloadFile } from "../spec-file.ts";
import { type ApiOptions, type RemoteEnvironment, withApiOptions, workloadApiFor } from "./remote-context.ts";

interface PlanOptions extends ApiOptions {
  json?: boolean;
  html?: string;
  timeLimit?: string;
  catalog: string;
  profiles?: string;
  offline?: boolean;
  alternatives: string;
}

export function registerPlanCommand(program: Command, environment: () => RemoteEnvironment): void {
  withApiOptions(
    program
      .command("plan")
      .argument("<spec-or-id>", "workload spec file (YAML or JSON), or the id of a workload on the deployed stack")
      .description(
        "choose configuration, instances, market and start time for every job (one MILP, HiGHS); with a workload id, show its stored plan",
      )
      .option("--json", "print the plan as JSON (format: docs/plan.md)")
      .option("--html <file>", "write a self-contained HTML report (Gantt and cost/makespan charts)")
      .option("--time-limit <seconds>", "solver time limit in seconds (default: the spec's planner.timeLimitSeconds)")
      .option("--catalog <file>", "catalog file to read", BUNDLED_CATALOG_PATH)
      .option("--profiles <file>", "measured throughput records that override estimates")
      .option("--offline", "never call AWS (quotas from the spec or assumed)")
      .option("--alternatives <n>", "alternatives shown next to each choice", "3"),
  ).action(async (specPath: string, options: PlanOptions) => {
    if (!isSpecPath(specPath)) {
      await showStoredPlan(specPath, options, environment());
      return;
    }
    const alternatives = Number(options.alternatives);
    if (!Number.isInteger(alternatives) || alternatives < 0) {
      throw new InvalidWorkloadError(
        [{ path: "--alternatives", message: `expected a whole number >= 0, got '${options.alternatives}'` }],
        { subject: "command line" },
      );
    }
    const workload = withTimeLimit(readWorkloadFile(specPath), options.timeLimit);
    const catalog = loadCatalog(options.catalog);
    const profiles = options.profiles === undefined ? new InMemoryProfileStore([]) : loadProfileStore(options.profiles);
    const { quotas, quotasByRegion, warnings: quotaWarnings } = await quotasFor(workload, options.offline === true);
    const result = await planWorkloadWithReports({
      workload,
      catalog,
      quotas,
      quotasByRegion,
      profiles,
      solver: new HighsSolver(),
      clock: () => performance.now() / 1000,
      // Long solves show what the solver is doing; only for a person at a terminal.
      ...(process.stderr.isTTY ? { onProgress: (message: string) => process.stderr.write(`${message}\n`) } : {}),
    });
    const warnings = [...quotaWarnings, ...result.warnings];
    const full: PlanningOutcome = { ...result, warnings };
    if (options.html !== undefined) {
      writeFileSync(options.html, renderPlanReport(full));
    }
    if (options.json) {
      // stdout stays one JSON document; what the user should know goes to stderr.
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`${JSON.stringify(planJson(full), null, 2)}\n`);
      return;
    }
    process.stdout.write(renderPlanText(full, workload, alternatives));
    if (options.html !== undefined) process.stdout.write(`\nHTML report written to ${options.html}\n`);
  });
}

/**
 * A spec file, not a workload id: an existing path, or a name with a spec's extension (a
 * missing `x.yaml` is then a missing file, exit 2, rather than an unknown workload).
 * Workload ids are UUID-like and carry no extension or slash.
 */
export function isSpecPath(argument: string): boolean {
  return existsSync(argument) || /\.(ya?ml|json)$/i.test(argument) || argument.includes("/");
}

/** `saturn plan <id>`: the plan the stack stored for the workload, as text, JSON or the HTML report. */
async function showStoredPlan(id: string, options: PlanOptions, env: RemoteEnvironment): Promise<void> {
  const api = await workloadApiFor(options, env);
  const answer = await api.plan(id);
  // The API sends the plan (docs/plan.md) without its `considered` report, which the HTML
  // report and --json show: that comes from the answer's link. The parse checked the fields shown here.
  const sent = answer.plan as unknown as Plan;
  const considered = options.html !== undefined || options.json ? await api.consideredReport(answer) : undefined;
  const plan: Plan = considered === undefined ? sent : { ...sent, considered };
  if (options.html !== undefined) {
    writeFileSync(
      options.html,
      renderPlanReport(
        { plan, frontier: undefined, warnings: [] },
        { title: `Saturn plan v${answer.planVersion}: ${answer.workloadId}` },
      ),
    );
  }
  if (options.json) {
    env.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return;
  }
  env.stdout.write(formatPlanSummary(answer));
  env.stdout.write(`\n${ganttLines(plan).join("\n")}\n`);
  if (options.html !== undefined) env.stdout.write(`\nHTML report written to ${options.html}\n`);
}

/** `--json`: the chosen plan; in pareto mode with the frontier's plans (without their `considered`). */
export function planJson(result: PlanningResult): Plan & { readonly frontier?: readonly Omit<Plan, "considered">[] } {
  if (result.frontier === undefined) return result.plan;
  return {
    ...result.plan,
    frontier: result.frontier.map(({ considered: _considered, ...rest }) => rest),
  };
}

function withTimeLimit(workload: Workload, timeLimit: string | undefined): Workload {
  if (timeLimit === undefined) return workload;
  const seconds = Number(timeLimit);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidWorkloadError(
      [{ path: "--time-limit", message: `expected a number of seconds > 0, got '${timeLimit}'` }],
      { subject: "command line" },
    );
  }
  return { ...workload, planner: { ...workload.planner, timeLimitSeconds: seconds } };
}

/**
 * Spec overrides, then Service Quotas where credentials exist, then assumed defaults (with
 * warnings), for every region the workload plans in: EC2 quotas are per region.
 */
async function quotasFor(
  workload: Workload,
  offline: boolean,
): Promise<{ quotas: QuotaTable; quotasByRegion: Readonly<Record<string, QuotaTable>>; warnings: string[] }> {
  // Only regions with a cell the spec leaves open are read, each through its own client.
  const toRead = workload.regions.filter((region) =>
    QUOTA_GROUPS.some((group) =>
      MARKETS.some(
        (market) =>
          isQuotaApplicable(group, market) &&
          !workload.quotas.some(
            (quota) =>
              quota.group === group &&
              quota.market === market &&
              (quota.region === undefined || quota.region === region),
          ),
      ),
    ),
  );
  const reading =
    offline || !hasAwsCredentials(process.env) || toRead.length === 0
      ? { byRegion: new Map<string, QuotasFromAws>(), warnings: [] }
      : await readRegionQuotasFromAws(toRead);
  const readings = reading.byRegion;
  const warnings = [...reading.warnings];
  const resolved = resolveWorkloadQuotas(workload, (region) => readings.get(region));
  return {
    quotas: resolved.quotas,
    quotasByRegion: resolved.quotasByRegion,
    warnings: [...warnings, ...resolved.warnings],
  };
}

/** "Regions: 3 jobs in us-east-2, ..." when the plan uses a region other than the home one. */
function regionLine(plan: Plan): string[] {
  const regionOf = new Map(plan.instances.map((instance) => [instance.id, instance.region]));
  const counts = new Map<string, number>();
  for (const assignment of plan.assignments) {
    const region = regionOf.get(assignment.instanceIds[0] ?? "") ?? "home";
    counts.set(region, (counts.get(region) ?? 0) + 1);
  }
  if (counts.size <= 1 && plan.totals.transferCostUsd === undefined) return [];
  return [
    `Regions:         ${[...counts].map(([region, jobs]) => `${jobs} job${jobs === 1 ? "" : "s"} in ${region}`).join(", ")}`,
  ];
}

/** True when the SDK's default chain could find credentials without a network call. */
export function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_ACCESS_KEY_ID !== undefined && env.AWS_SECRET_ACCESS_KEY !== undefined) return true;
  if (env.AWS_PROFILE !== undefined || env.AWS_WEB_IDENTITY_TOKEN_FILE !== undefined) return true;
  if (
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI !== undefined ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== undefined
  ) {
    return true;
  }
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), ".aws", "credentials");
  const configFile = env.AWS_CONFIG_FILE ?? join(homedir(), ".aws", "config");
  return existsSync(credentialsFile) || existsSync(configFile);
}

export function renderPlanText(result: PlanningOutcome, workload: Workload, alternatives: number): string {
  const plan = result.plan;
  const lines: string[] = [];
  const objective = workload.objective;
  const goal =
    objective.kind === "min-cost"
      ? `min-cost, deadline ${objective.deadlineHours} h`
      : objective.kind === "min-time"
        ? `min-time, budget $${objective.budgetUsd}`
        : `pareto, ${result.frontier?.length ?? 0} plans`;
  lines.push(
    `Plan for '${plan.workload}' (${goal}): ${plan.assignments.length} jobs on ${plan.instances.length} instances`,
    "",
  );
  lines.push(...consideredTables(plan, alternatives), "");
  lines.push(...totalsLines(plan));
  const last = result.reports.at(-1);
  if (last !== undefined) {
    lines.push(
      `Model:           ${last.classes} job classes, ${last.options} options, ${last.columns} columns ` +
        `(${last.integerColumns} integer), ${last.rows} rows; ${result.reports.length} solve${result.reports.length === 1 ? "" : "s"}`,
    );
  }
  lines.push("");
  lines.push(...ganttLines(plan), "");
  if (result.frontier !== undefined) {
    lines.push("Cost/makespan frontier (non-dominated plans, cheapest first):");
    const table = new Table({
      head: ["#", "cost", "makespan", "instances"],
      style: { head: [], border: [], compact: true },
    });
    result.frontier.forEach((point, index) => {
      table.push([
        String(index + 1),
        usd(point.totals.expectedCostUsd),
        hours(point.totals.makespanSeconds),
        String(point.instances.length),
      ]);
    });
    lines.push(table.toString(), "");
  }
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  return `${lines.join("\n")}\n`;
}

function consideredTables(plan: Plan, alternatives: number): string[] {
  const lines: string[] = [];
  const byJob = new Map(plan.assignments.map((assignment) => [assignment.jobId, assignment]));
  const instances = new Map(plan.instances.map((instance) => [instance.id, instance]));
  // Jobs with the same candidates and the same choice share one table.
  const groups = new Map<string, { jobs: string[]; entry: Plan["considered"][number] }>();
  for (const entry of plan.considered) {
    const assignment = byJob.get(entry.jobId);
    const host = instances.get(assignment?.instanceIds[0] ?? "");
    const key = `${entry.candidates.length}|${assignment?.technique}|${host?.instanceType}|${host?.market}|${assignment?.instanceIds.length}|${assignment?.gpusPerInstance}|${entry.candidates[0]?.runtimeSeconds}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { jobs: [entry.jobId], entry });
    else group.jobs.push(entry.jobId);
  }
  for (const { jobs, entry } of groups.values()) {
    const assignment = byJob.get(entry.jobId);
    const market = instances.get(assignment?.instanceIds[0] ?? "")?.market;
    const shown = jobs.length <= 3 ? jobs.join(", ") : `${jobs.slice(0, 2).join(", ")} and ${jobs.length - 2} more`;
    lines.push(`Considered resources for ${shown} (${jobs.length} job${jobs.length === 1 ? "" : "s"}):`);
    const fitting = entry.candidates.filter((candidate) => candidate.fits);
    const cheapest = (candidate: (typeof fitting)[number]) =>
      Math.min(
        ...Object.values(candidate.costUsd).filter((cost): cost is number => cost !== undefined),
        Number.POSITIVE_INFINITY,
      );
    const chosen = fitting.filter((candidate) => candidate.chosen);
    const others = fitting
      .filter((candidate) => !candidate.chosen)
      .sort((a, b) => cheapest(a) - cheapest(b))
      .slice(0, alternatives);
    const table = new Table({
      head: ["", "instance", "technique", "nodes x GPUs", "samples/s", "runtime", "on-demand", "spot"],
      style: { head: [], border: [], compact: true },
    });
    for (const candidate of [...chosen, ...others]) {
      const mark = candidate.chosen ? `✔ ${market ?? ""}` : "";
      table.push([
        mark,
        candidate.config.instanceType,
        candidate.config.technique,
        `${candidate.config.nodes} x ${candidate.config.gpusPerNode}`,
        candidate.samplesPerSecond === undefined ? "-" : candidate.samplesPerSecond.toFixed(2),
        candidate.runtimeSeconds === undefined ? "-" : hours(candidate.runtimeSeconds),
        candidate.costUsd["on-demand"] === undefined ? "-" : usd(candidate.costUsd["on-demand"]),
        candidate.costUsd.spot === undefined ? "-" : usd(candidate.costUsd.spot),
      ]);
    }
    lines.push(table.toString());
    const misfits = entry.candidates.length - fitting.length;
    lines.push(
      `  ${fitting.length} fitting configurations considered, ${misfits} do not fit; costs are the GPU share of the instance price for the runtime.`,
      "",
    );
  }
  return lines;
}

function totalsLines(plan: Plan): string[] {
  const model = plan.discretisation;
  const unit = plan.objective === "min-time" ? hours : usd;
  const lines = [
    `Expected cost:   ${usd(plan.totals.expectedCostUsd)} (per-second billing of every instance lifetime, spot interruptions priced in)`,
    ...(plan.totals.budgetCostUsd === undefined || plan.totals.budgetCostUsd === plan.totals.expectedCostUsd
      ? []
      : [
          `Worst case:      ${usd(plan.totals.budgetCostUsd)} (spot at the highest zone price; what budgets are checked against)`,
        ]),
    ...(plan.totals.transferCostUsd === undefined
      ? []
      : [
          `Data transfer:   ${usd(plan.totals.transferCostUsd)} (data and checkpoints of the jobs outside the home region, inter-region rates)`,
        ]),
    `Makespan:        ${hours(plan.totals.makespanSeconds)}`,
    ...regionLine(plan),
  ];
  if (model !== undefined) {
    lines.push(
      `Slotted model:   ${unit(model.modelObjective)} on ${model.slots} slots of ${model.slotSeconds / 60} min ` +
        `(runs rounded up to whole slots; the plan keeps exact runtimes), solver: ${model.solverStatus}`,
    );
  }
  lines.push(
    `Lower bound:     ${unit(plan.lowerBound)} (holds for every plan on these candidates), gap ${(plan.gap * 100).toFixed(2)}%`,
    `Solve time:      ${plan.solveSeconds.toFixed(2)} s`,
  );
  return lines;
}

const GANTT_WIDTH = 60;

function ganttLines(plan: Plan): string[] {
  const horizon = Math.max(1, ...plan.instances.map((instance) => instance.end));
  const column = (seconds: number) => Math.min(GANTT_WIDTH - 1, Math.floor((seconds / horizon) * GANTT_WIDTH));
  const lines = [`Schedule (0 to ${hours(horizon)}; █ running a job, · booting or idle, one row per instance):`];
  const labelWidth = Math.max(...plan.instances.map((instance) => instance.id.length), 8);
  for (const instance of plan.instances) {
    const cells = new Array<string>(GANTT_WIDTH).fill(" ");
    for (let c = column(instance.start); c <= column(instance.end); c++) cells[c] = "·";
    const jobs = plan.assignments.filter((assignment) => assignment.instanceIds.includes(instance.id));
    for (const job of jobs) {
      for (let c = column(job.start); c <= column(job.end); c++) cells[c] = "█";
    }
    lines.push(
      `  ${instance.id.padEnd(labelWidth)} |${cells.join("")}| ${hours(instance.start)}-${hours(instance.end)}, ${jobs.length} job${jobs.length === 1 ? "" : "s"}`,
    );
  }
  return lines;
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(2)} h`;
}
