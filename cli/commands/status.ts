/**
 * `saturn status <id> [--watch] [--json]`: the workload as the API reports it (state, a
 * progress bar per job, instances, spend against budget or time against deadline, recent
 * events). `--watch` redraws until the workload ends (on a terminal in place; elsewhere
 * one line per new event) and exits 0 only when every job completed and no instance of
 * the workload is left running.
 */
import type { Command } from "commander";
import type { WorkloadDetailView } from "../api/api-responses.ts";
import type { LeftoverInstance } from "../api/leftover-instances.ts";
import type { WorkloadApi } from "../api/workload-api.ts";
import { EXIT } from "../exit-codes.ts";
import { eventLine, statusFrame } from "../remote/status-frame.ts";
import { FrameWriter } from "../run/live-view.ts";
import {
  type ApiOptions,
  pollSeconds,
  type RemoteEnvironment,
  withApiOptions,
  workloadApiFor,
} from "./remote-context.ts";

interface StatusOptions extends ApiOptions {
  readonly watch?: boolean;
  readonly json?: boolean;
  readonly poll: string;
}

const FINAL = new Set(["infeasible", "completed", "failed", "cancelled", "stopped-for-budget"]);

export function registerStatusCommand(program: Command, environment: () => RemoteEnvironment): void {
  withApiOptions(
    program
      .command("status")
      .argument("<id>", "workload id (from saturn submit or saturn list)")
      .description("a workload's state on the deployed stack: jobs, instances, spend, events")
      .option("--watch", "follow the workload until it ends")
      .option("--json", "print the API's answer as JSON")
      .option("--poll <seconds>", "seconds between polls with --watch", "2"),
  ).action(async (id: string, options: StatusOptions) => {
    const env = environment();
    const api = await workloadApiFor(options, env);
    if (options.json) {
      env.stdout.write(`${JSON.stringify(await api.get(id), null, 2)}\n`);
      return;
    }
    if (!options.watch) {
      env.stdout.write(`${statusFrame(await api.get(id)).join("\n")}\n`);
      return;
    }
    process.exitCode = await watchWorkload(api, id, env, pollSeconds(options.poll));
  });
}

/** Follows the workload until a final state; returns the exit code (docs/cli.md). */
export async function watchWorkload(
  api: WorkloadApi,
  id: string,
  env: RemoteEnvironment,
  pollSecondsBetween: number,
): Promise<number> {
  const tty = env.stdout.isTTY === true;
  const frames = new FrameWriter({
    write: (text) => env.stdout.write(text),
    isTTY: tty,
    columns: env.stdout.columns !== undefined && env.stdout.columns > 0 ? env.stdout.columns : 120,
  });
  const printed = new Set<string>();
  let lastStatus = "";
  let detail: WorkloadDetailView;
  while (true) {
    detail = await api.get(id);
    if (tty) frames.draw(statusFrame(detail));
    else {
      if (detail.status !== lastStatus) {
        env.stdout.write(`${detail.id}: ${detail.status}${detail.statusReason ? ` (${detail.statusReason})` : ""}\n`);
        lastStatus = detail.status;
      }
      for (const event of detail.recentActions) {
        const line = eventLine(event);
        if (printed.has(line)) continue;
        printed.add(line);
        env.stdout.write(`  ${line}\n`);
      }
    }
    if (FINAL.has(detail.status)) break;
    // Back in `planned` after a profiling phase: the measured plan waits for an approval.
    if (detail.status === "planned" && detail.planVersion > 1) {
      env.stdout.write(
        `${detail.id} waits for approval of plan v${detail.planVersion} (made from the profiling phase's measurements): saturn plan ${detail.id}, then saturn approve ${detail.id}\n`,
      );
      return EXIT.ok;
    }
    await env.sleep(pollSecondsBetween * 1000);
  }
  return finalReport(detail, env, api.endpoint.region);
}

async function finalReport(detail: WorkloadDetailView, env: RemoteEnvironment, region: string): Promise<number> {
  const { jobs, spend, plan } = detail;
  const done = jobs.filter((job) => job.status === "done").length;
  env.stdout.write(
    `${detail.id} ended ${detail.status}: ${done}/${jobs.length} jobs completed, spend $${spend.spentUsd.toFixed(2)}` +
      `${plan === null ? "" : ` (plan $${plan.expectedCostUsd.toFixed(2)} expected)`}\n`,
  );
  let left: readonly LeftoverInstance[];
  try {
    left = await env.leftovers(detail.id, region);
  } catch (error) {
    env.stdout.write(
      `Could not check EC2 for instances tagged saturn:workload=${detail.id} (${error instanceof Error ? error.message : error}); the control plane's sweeper terminates leftovers hourly.\n`,
    );
    return EXIT.aws;
  }
  if (left.length === 0) {
    env.stdout.write(`Nothing left running: EC2 has no live instance tagged saturn:workload=${detail.id}.\n`);
  } else {
    env.stdout.write(
      `WARNING: ${left.length} instance(s) tagged saturn:workload=${detail.id} not terminated: ${left.map((i) => `${i.id} (${i.state})`).join(", ")}\n`,
    );
  }
  if (detail.status === "infeasible") return EXIT.infeasible;
  return detail.status === "completed" && left.length === 0 ? EXIT.ok : EXIT.failure;
}
