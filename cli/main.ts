#!/usr/bin/env node
/**
 * The `saturn` command. Each sub-command lives in `cli/commands/<name>.ts` and registers
 * itself on the program; errors become exit codes here, in one place:
 *   0 ok · 1 unexpected failure · 2 bad input · 3 infeasible workload · 4 AWS/credentials problem
 */
import { Command, CommanderError } from "commander";
import { InfeasibleWorkloadError, InvalidWorkloadError } from "../lambdas/core/errors.ts";
import { registerCatalogCommands } from "./commands/catalog.ts";
import { registerEstimateCommand } from "./commands/estimate.ts";
import { registerPlanCommand } from "./commands/plan.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerSchemaCommands } from "./commands/schema.ts";
import { EXIT } from "./exit-codes.ts";

export function buildProgram(): Command {
  const program = new Command("saturn")
    .description("Plan, run and tear down many training jobs on AWS for the least money and time.")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  registerSchemaCommands(program);
  registerPlanCommand(program);
  registerRunCommand(program);
  registerCatalogCommands(program);
  registerEstimateCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
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
  const name = error instanceof Error ? error.name : "";
  if (/^Aws|Credentials|ExpiredToken|UnrecognizedClient|AccessDenied/i.test(name)) {
    process.stderr.write(`AWS: ${(error as Error).message}\n`);
    return EXIT.aws;
  }
  process.stderr.write(`saturn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
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
