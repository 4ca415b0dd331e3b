/** `saturn schema` prints the workload spec as JSON Schema; `saturn validate` checks a spec file. */
import type { Command } from "commander";
import { z } from "zod";
import { workloadSchema } from "../../lambdas/core/spec/workload-schema.ts";
import { readWorkloadFile } from "../spec-file.ts";

export function workloadJsonSchema(): unknown {
  return z.toJSONSchema(workloadSchema, { io: "input", unrepresentable: "any" });
}

export function registerSchemaCommands(program: Command): void {
  program
    .command("schema")
    .description("print the workload spec as JSON Schema (draft 2020-12)")
    .action(() => {
      process.stdout.write(`${JSON.stringify(workloadJsonSchema(), null, 2)}\n`);
    });

  program
    .command("validate")
    .argument("<spec>", "workload spec file (YAML or JSON)")
    .description("check a workload spec and list its jobs after sweep expansion")
    .option("--json", "print the resolved workload as JSON")
    .action((specPath: string, options: { json?: boolean }) => {
      const workload = readWorkloadFile(specPath);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(workload, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${specPath}: valid. Workload '${workload.name}' in ${workload.region}, objective ${workload.objective.kind}, ` +
          `${workload.jobs.length} job${workload.jobs.length === 1 ? "" : "s"}:\n`,
      );
      for (const job of workload.jobs) {
        process.stdout.write(
          `  ${job.id}  ${job.modelName} ${job.method}${job.method === "lora" ? ` r${job.loraRank}` : ""}  batch ${job.batchSize}  ${job.totalSamples.toLocaleString("en-US")} samples\n`,
        );
      }
    });
}
