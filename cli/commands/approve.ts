/** `saturn approve <id>`: launches a planned workload (the price was shown by submit or `saturn plan <id>`). */
import type { Command } from "commander";
import { type ApiOptions, type RemoteEnvironment, withApiOptions, workloadApiFor } from "./remote-context.ts";

export function registerApproveCommand(program: Command, environment: () => RemoteEnvironment): void {
  withApiOptions(
    program
      .command("approve")
      .argument("<id>", "workload id")
      .description("approve a planned workload: its instances launch"),
  ).action(async (id: string, options: ApiOptions) => {
    const env = environment();
    const workload = await (await workloadApiFor(options, env)).approve(id);
    env.stdout.write(
      `${workload.id} is ${workload.status}${workload.statusReason ? ` (${workload.statusReason})` : ""}\n`,
    );
  });
}
