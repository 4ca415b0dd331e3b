/**
 * `saturn profile SPEC --technique NAME --instance-type TYPE...`: runs a plug-in technique's
 * own `search(task, gpus)` locally, on CPU (the harness's `saturn_harness.search` needs no
 * GPU), for every job that lists the plug-in and every shape of the named instance types,
 * and appends the answers as profile records (`basis: "plugin-estimate"`) to `--out`.
 * `saturn plan|estimate|run --profiles FILE` then price the plug-in's configurations with
 * them; a measurement (the profiling phase) replaces them. docs/estimator.md, "Plug-in
 * techniques".
 */

import { existsSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import type { Command } from "commander";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { runHarnessSearch } from "../../lambdas/adapters/harness-search.ts";
import { appendProfileRecord } from "../../lambdas/adapters/profile-file.ts";
import type { InstanceType } from "../../lambdas/core/catalog/types.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { jobSignature } from "../../lambdas/core/estimator/job-signature.ts";
import { recordsFromPluginSearch, searchGpuCounts } from "../../lambdas/core/estimator/plugin-search.ts";
import type { ProfileRecord } from "../../lambdas/core/estimator/types.ts";
import { trainingTaskOf } from "../../lambdas/core/protocol/training-task.ts";
import { type Job, pluginOf } from "../../lambdas/core/spec/workload.ts";
import { isBuiltInTechnique } from "../../lambdas/core/spec/workload-schema.ts";
import { readWorkloadFile } from "../spec-file.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HARNESS_PATH = join(REPO_ROOT, "worker/harness");
const HARNESS_VENV_PYTHON = join(REPO_ROOT, ".venv-harness/bin/python");

interface ProfileOptions {
  technique: string;
  instanceType: string[];
  job?: string;
  pluginFile?: string;
  python?: string;
  out?: string;
  json?: boolean;
  catalog: string;
}

export function registerProfileCommand(program: Command): void {
  program
    .command("profile")
    .argument("<spec>", "workload spec file (YAML or JSON)")
    .description("run a plug-in technique's search locally (CPU) and append its answers as profile records")
    .requiredOption("--technique <name>", "a plug-in technique the spec declares in plugins")
    .requiredOption(
      "--instance-type <type...>",
      "instance types the plug-in's estimate holds for (its search sees a GPU count, not the GPU)",
    )
    .option("--job <id>", "only this job (an id after sweep expansion, or a spec job id for all its clones)")
    .option(
      "--plugin-file <path>",
      "a local copy of the plug-in's module (needed when the spec names s3:// or https://)",
    )
    .option(
      "--python <path>",
      "Python with the harness's requirements (default .venv-harness/bin/python, else python3)",
    )
    .option("--out <file>", "profile file to append to (JSON Lines)", undefined)
    .option("--json", "print the records written as JSON")
    .option("--catalog <file>", "catalog file to read", BUNDLED_CATALOG_PATH)
    .action((specPath: string, options: ProfileOptions) => {
      const workload = readWorkloadFile(specPath);
      const catalog = loadCatalog(options.catalog);
      const plugin = pluginOf(workload, options.technique);
      if (plugin === undefined) {
        const declared = (workload.plugins ?? []).map((p) => p.name);
        throw badOption(
          "--technique",
          isBuiltInTechnique(options.technique)
            ? `expected a plug-in technique; '${options.technique}' is built in and priced by the estimator`
            : `expected a plug-in the spec declares in plugins (${declared.length === 0 ? "none declared" : declared.join(", ")}), got '${options.technique}'`,
        );
      }
      const instanceTypes = options.instanceType.map((name) => instanceTypeNamed(catalog.instanceTypes, name));
      const jobs = jobsListing(workload.jobs, options.technique, options.job);
      const modules = [localModule(plugin.module, options.pluginFile)];
      const python = options.python ?? (existsSync(HARNESS_VENV_PYTHON) ? HARNESS_VENV_PYTHON : "python3");
      const out = resolve(options.out ?? join("out", `${workload.name}-profiles.jsonl`));
      const gpus = searchGpuCounts(instanceTypes);
      const measuredAt = new Date().toISOString();
      const where = `plugin-search:${hostname()}`;
      const written: ProfileRecord[] = [];
      const withoutRuntime: string[] = [];
      const searched = new Set<string>();
      for (const job of jobs) {
        // Sweep clones share a signature, so one search answers for all of them.
        const signature = jobSignature(job);
        if (searched.has(signature)) continue;
        searched.add(signature);
        if ("script" in job.entrypoint) {
          throw badOption(
            "--job",
            `expected a job with a built-in recipe; '${job.id}' runs a script from ${job.entrypoint.script}, which a local search cannot fetch`,
          );
        }
        const answers = runHarnessSearch({
          python,
          harnessPath: HARNESS_PATH,
          technique: options.technique,
          task: trainingTaskOf(job, job.totalSamples),
          plugins: modules,
          gpus,
        });
        const result = recordsFromPluginSearch({
          job,
          technique: options.technique,
          instanceTypes,
          answers,
          measuredAt,
          where,
        });
        written.push(...result.records);
        if (result.withoutRuntime.length > 0) {
          withoutRuntime.push(`${job.id}: ${result.withoutRuntime.join(", ")} GPU(s)`);
        }
      }
      mkdirSync(dirname(out), { recursive: true });
      for (const record of written) appendProfileRecord(out, record);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ out, records: written, withoutRuntime }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${renderRecords(written)}\n`);
      process.stdout.write(`${written.length} record(s) appended to ${out} (basis: plugin-estimate).\n`);
      if (withoutRuntime.length > 0) {
        process.stdout.write(
          `Fits but gave no runtime estimate (only a measurement can price these): ${withoutRuntime.join("; ")}.\n`,
        );
      }
    });
}

function renderRecords(records: readonly ProfileRecord[]): string {
  const table = new Table({ head: ["instance type", "shape", "fits", "samples/s", "knobs or reason"] });
  for (const record of records) {
    table.push([
      record.instanceType,
      `${record.nodes}x${record.gpusPerNode}`,
      record.fits === false ? "no" : "yes",
      record.fits === false ? "-" : record.samplesPerSecond.toFixed(2),
      record.fits === false ? (record.reason ?? "") : JSON.stringify(record.knobs ?? {}),
    ]);
  }
  return table.toString();
}

function instanceTypeNamed(types: readonly InstanceType[], name: string): InstanceType {
  const type = types.find((entry) => entry.name === name);
  if (type === undefined) throw badOption("--instance-type", `expected an instance type of the catalog, got '${name}'`);
  return type;
}

function jobsListing(jobs: readonly Job[], technique: string, id: string | undefined): readonly Job[] {
  const selected = jobs.filter(
    (job) => job.techniques.includes(technique) && (id === undefined || job.id === id || job.sourceId === id),
  );
  if (selected.length === 0) {
    throw badOption(
      id === undefined ? "--technique" : "--job",
      id === undefined
        ? `expected a job that lists '${technique}' in its techniques, got none`
        : `expected a job id that lists '${technique}' in its techniques, got '${id}'`,
    );
  }
  return selected;
}

/** The module the harness imports: the local copy, else the spec's module name. */
function localModule(module: string, pluginFile: string | undefined): string {
  if (pluginFile !== undefined) {
    if (!existsSync(pluginFile)) throw badOption("--plugin-file", `expected a readable .py file, got '${pluginFile}'`);
    return resolve(pluginFile);
  }
  if (module.startsWith("s3://") || module.startsWith("https://")) {
    throw badOption("--plugin-file", `expected a local copy of ${module} (a search runs locally), got none`);
  }
  return module;
}

function badOption(path: string, message: string): InvalidWorkloadError {
  return new InvalidWorkloadError([{ path, message }], { subject: "command line" });
}
