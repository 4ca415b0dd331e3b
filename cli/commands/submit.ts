/**
 * `saturn submit <spec> [--yes] [--watch]`: validates the spec here first (bad input exits
 * 2 and sends nothing), submits it, waits for the planner, shows the plan's price,
 * makespan and instances, then launches only with the user's consent: `--yes`, or "y" at
 * the prompt on a terminal. Without a terminal and without `--yes` the workload stays
 * `planned` and the command says how to approve it. `--watch` then follows the run.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { parseWorkloadText } from "../../lambdas/core/spec/workload.ts";
import type { WorkloadSummaryView } from "../api/api-responses.ts";
import type { WorkloadApi } from "../api/workload-api.ts";
import { EXIT } from "../exit-codes.ts";
import { formatPlanSummary } from "../remote/plan-summary.ts";
import {
  type ApiOptions,
  pollSeconds,
  type RemoteEnvironment,
  withApiOptions,
  workloadApiFor,
} from "./remote-context.ts";
import { watchWorkload } from "./status.ts";

interface SubmitOptions extends ApiOptions {
  readonly yes?: boolean;
  readonly watch?: boolean;
  readonly poll: string;
  readonly planTimeout: string;
  readonly idempotencyKey?: string;
}

export function registerSubmitCommand(program: Command, environment: () => RemoteEnvironment): void {
  withApiOptions(
    program
      .command("submit")
      .argument("<spec>", "workload spec file (YAML or JSON)")
      .description("submit a workload to the deployed stack: plan, show the price, approve, run")
      .option("-y, --yes", "approve the plan without asking")
      .option("--watch", "follow the run until it ends (implies waiting for the plan)")
      .option("--poll <seconds>", "seconds between polls", "2")
      .option("--plan-timeout <seconds>", "how long to wait for the plan", "900")
      .option("--idempotency-key <key>", "repeat a submit safely: the same key returns the first workload"),
  ).action(async (specPath: string, options: SubmitOptions) => {
    const env = environment();
    process.exitCode = await submitCommand(specPath, options, env);
  });
}

async function submitCommand(specPath: string, options: SubmitOptions, env: RemoteEnvironment): Promise<number> {
  const specText = readSpecText(specPath);
  const workload = parseWorkloadText(specText);
  const poll = pollSeconds(options.poll);
  const planTimeout = pollSeconds(options.planTimeout);
  const api = await workloadApiFor(options, env);
  const out = (text: string) => env.stdout.write(text);

  const submitted = await api.submit(specText, options.idempotencyKey ?? randomUUID());
  out(`Submitted ${workload.name} (${workload.jobs.length} jobs) as ${submitted.id} to ${api.endpoint.url.href}\n`);
  const planned = await waitForPlan(api, submitted, env, poll, planTimeout);
  if (planned.status === "infeasible") {
    out(`Infeasible: ${planned.statusReason ?? "no plan satisfies the workload"}\n`);
    return EXIT.infeasible;
  }
  if (planned.status !== "planned") {
    out(
      `${planned.id} is ${planned.status}${planned.statusReason ? ` (${planned.statusReason})` : ""}; nothing to approve\n`,
    );
    return planned.status === "planning" ? EXIT.failure : EXIT.ok;
  }
  const plan = await api.plan(planned.id);
  out(formatPlanSummary(plan));

  let approve = options.yes === true;
  if (!approve && env.ask !== undefined) {
    const answer = await env.ask(`Launch this plan (expected $${plan.plan.totals.expectedCostUsd.toFixed(2)})? [y/N] `);
    approve = /^y(es)?$/i.test(answer.trim());
    if (!approve) out("Not approved: nothing launched.\n");
  }
  if (!approve) {
    out(
      `${planned.id} stays planned; nothing is launched until you approve it:\n  saturn approve ${planned.id}${apiFlag(options)}\n`,
    );
    return EXIT.ok;
  }
  const approved = await api.approve(planned.id);
  out(`Approved: ${approved.id} is ${approved.status}.\n`);
  if (!options.watch) {
    out(`Follow it with: saturn status ${approved.id} --watch${apiFlag(options)}\n`);
    return EXIT.ok;
  }
  return watchWorkload(api, approved.id, env, poll);
}

function readSpecText(specPath: string): string {
  try {
    return readFileSync(specPath, "utf8");
  } catch (error) {
    throw new InvalidWorkloadError(
      [
        {
          path: specPath,
          message: `expected a readable spec file, got ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        },
      ],
      { subject: "command line", cause: error },
    );
  }
}

async function waitForPlan(
  api: WorkloadApi,
  submitted: WorkloadSummaryView,
  env: RemoteEnvironment,
  poll: number,
  timeoutSeconds: number,
): Promise<WorkloadSummaryView> {
  let current = submitted;
  let waited = 0;
  if (current.status === "planning") env.stdout.write("Planning");
  while (current.status === "planning" && waited < timeoutSeconds) {
    await env.sleep(poll * 1000);
    waited += poll;
    current = await api.get(current.id);
    if (current.status === "planning" && env.stdout.isTTY) env.stdout.write(".");
  }
  if (submitted.status === "planning") env.stdout.write("\n");
  return current;
}

function apiFlag(options: ApiOptions): string {
  return options.api === undefined ? "" : ` --api ${options.api}`;
}
