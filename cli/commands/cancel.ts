/**
 * `saturn cancel <id>`: before launch the workload ends `cancelled` at once; after it, the
 * next reconcile pass stops every attempt, terminates every instance and then marks it
 * cancelled (`saturn status <id> --watch` shows when).
 */
import type { Command } from "commander";
import { type ApiOptions, type RemoteEnvironment, withApiOptions, workloadApiFor } from "./remote-context.ts";

export function registerCancelCommand(program: Command, environment: () => RemoteEnvironment): void {
  withApiOptions(
    program
      .command("cancel")
      .argument("<id>", "workload id")
      .description("cancel a workload: stop its jobs and terminate its instances"),
  ).action(async (id: string, options: ApiOptions) => {
    const env = environment();
    const workload = await (await workloadApiFor(options, env)).cancel(id);
    const pending = workload.cancelRequested && workload.status !== "cancelled";
    env.stdout.write(
      pending
        ? `${workload.id}: cancel requested; its instances are being terminated (saturn status ${workload.id} --watch)\n`
        : `${workload.id} is ${workload.status}${workload.statusReason ? ` (${workload.statusReason})` : ""}\n`,
    );
  });
}
