#!/usr/bin/env node
/**
 * The `saturn` command. Each sub-command lives in `cli/commands/<name>.ts` and registers
 * itself on the program; errors become exit codes here, in one place:
 *   0 ok · 1 unexpected failure · 2 bad input · 3 infeasible workload · 4 AWS/credentials problem
 *   · 5 no such workload · 6 the workload's state does not allow the request
 * (docs/cli.md). `main` takes the outside world the remote commands wait on and prompt
 * with, so tests can drive them against the local stack without sleeping.
 */
import { Command, CommanderError } from "commander";
import { InfeasibleWorkloadError, InvalidWorkloadError } from "../lambdas/core/errors.ts";
import { ApiEndpointError, ApiRequestError, ApiUnreachableError } from "./api/api-request-error.ts";
import { registerApproveCommand } from "./commands/approve.ts";
import { registerCancelCommand } from "./commands/cancel.ts";
import { registerCatalogCommands } from "./commands/catalog.ts";
import { registerEstimateCommand } from "./commands/estimate.ts";
import { registerListCommand } from "./commands/list.ts";
import { registerLocalCommand } from "./commands/local.ts";
import { registerPlanCommand } from "./commands/plan.ts";
import { registerProfileCommand } from "./commands/profile.ts";
import { defaultRemoteEnvironment, type RemoteEnvironment } from "./commands/remote-context.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerSchemaCommands } from "./commands/schema.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { registerSubmitCommand } from "./commands/submit.ts";
import { EXIT } from "./exit-codes.ts";

export interface CliOverrides {
  readonly remote?: Partial<RemoteEnvironment>;
}

export function buildProgram(overrides: CliOverrides = {}): Command {
  const remote = (): RemoteEnvironment => ({ ...defaultRemoteEnvironment(), ...overrides.remote });
  const program = new Command("saturn")
    .description("Plan, run and tear down many training jobs on AWS for the least money and time.")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  registerSchemaCommands(program);
  registerPlanCommand(program, remote);
  registerRunCommand(program);
  registerCatalogCommands(program);
  registerEstimateCommand(program);
  registerProfileCommand(program);
  registerSubmitCommand(program, remote);
  registerStatusCommand(program, remote);
  registerListCommand(program, remote);
  registerApproveCommand(program, remote);
  registerCancelCommand(program, remote);
  registerLocalCommand(program);
  return program;
}

export async function main(argv: readonly string[], overrides: CliOverrides = {}): Promise<number> {
  const program = buildProgram(overrides);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) {
      return EXIT.ok;
    }
    return EXIT.badInput;
  }
  if (error instanceof InvalidWorkloadError) {
    process.stderr.write(`${error.message}\n`);
    return EXIT.badInput;
  }
  if (error instanceof InfeasibleWorkloadError) {
    process.stderr.write(`Infeasible: ${error.message}\n`);
    return EXIT.infeasible;
  }
  if (error instanceof ApiRequestError) {
    process.stderr.write(`${error.message}\n${error.reasons.map((reason) => `  - ${reason}\n`).join("")}`);
    return exitCodeOfStatus(error.status);
  }
  if (error instanceof ApiUnreachableError || error instanceof ApiEndpointError) {
    process.stderr.write(`saturn: ${error.message}\n`);
    return EXIT.aws;
  }
  const name = error instanceof Error ? error.name : "";
  if (/^Aws|Credentials|ExpiredToken|UnrecognizedClient|AccessDenied/i.test(name)) {
    process.stderr.write(`AWS: ${(error as Error).message}\n`);
    return EXIT.aws;
  }
  process.stderr.write(`saturn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.failure;
}

/** HTTP status of a refused API request -> exit code (docs/cli.md). */
export function exitCodeOfStatus(status: number): number {
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.badInput;
  if (status === 401 || status === 403) return EXIT.aws;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  return EXIT.failure;
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/cli\//, "/cli/"));
if (invokedDirectly) {
  // `saturn schema | head` closes the pipe early; that is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
