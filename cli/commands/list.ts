/** `saturn list [--json]`: the caller's workloads on the deployed stack, newest first. */
import Table from "cli-table3";
import type { Command } from "commander";
import { type ApiOptions, type RemoteEnvironment, withApiOptions, workloadApiFor } from "./remote-context.ts";

export function registerListCommand(program: Command, environment: () => RemoteEnvironment): void {
  withApiOptions(
    program
      .command("list")
      .description("your workloads on the deployed stack (admins: everyone's)")
      .option("--json", "print the list as JSON"),
  ).action(async (options: ApiOptions & { json?: boolean }) => {
    const env = environment();
    const workloads = await (await workloadApiFor(options, env)).list();
    if (options.json) {
      env.stdout.write(`${JSON.stringify(workloads, null, 2)}\n`);
      return;
    }
    if (workloads.length === 0) {
      env.stdout.write("No workloads yet. Submit one with: saturn submit SPEC\n");
      return;
    }
    const table = new Table({
      head: ["id", "name", "status", "jobs", "plan", "created"],
      style: { head: [], border: [] },
    });
    for (const w of workloads) {
      table.push([
        w.id,
        w.name,
        w.cancelRequested && w.status !== "cancelled" ? `${w.status} (cancelling)` : w.status,
        w.jobCount,
        w.planVersion === 0 ? "-" : `v${w.planVersion}`,
        w.createdAt,
      ]);
    }
    env.stdout.write(`${table.toString()}\n`);
  });
}
