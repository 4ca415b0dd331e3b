/**
 * `saturn estimate <spec>`: for each job, every candidate configuration (technique x
 * instance type x nodes x GPUs per node) with whether it fits and why not, samples/s, peak
 * memory per GPU, runtime and cost per market, measured or estimated. Sweep clones with
 * the same shape and amount of work share one table. docs/estimator.md explains the model.
 */
import Table from "cli-table3";
import type { Command } from "commander";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { loadProfileStore } from "../../lambdas/adapters/profile-file.ts";
import { offeredInstanceTypes } from "../../lambdas/core/catalog/select.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { compareCandidates, type MisfitKind, misfitKind } from "../../lambdas/core/estimator/candidate-order.ts";
import { enumerateCandidates, jobSignature } from "../../lambdas/core/estimator/candidates.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import type { Candidate } from "../../lambdas/core/estimator/types.ts";
import type { Job } from "../../lambdas/core/spec/workload.ts";
import { readWorkloadFile } from "../spec-file.ts";

interface EstimateOptions {
  job?: string;
  json?: boolean;
  all?: boolean;
  top?: string;
  profiles?: string;
  catalog: string;
}

export function registerEstimateCommand(program: Command): void {
  program
    .command("estimate")
    .argument("<spec>", "workload spec file (YAML or JSON)")
    .description("show every candidate configuration per job: fits or why not, samples/s, memory, runtime, cost")
    .option("--job <id>", "only this job (an id after sweep expansion, or a spec job id for all its clones)")
    .option("--json", "print the candidates as JSON")
    .option("--all", "list non-fitting configurations one by one instead of summarising them")
    .option("--top <n>", "show only the n best fitting configurations per job")
    .option("--profiles <file>", "measured throughput records (JSON array or JSON Lines) that override estimates")
    .option("--catalog <file>", "catalog file to read", BUNDLED_CATALOG_PATH)
    .action((specPath: string, options: EstimateOptions) => {
      const workload = readWorkloadFile(specPath);
      const catalog = loadCatalog(options.catalog);
      const profiles =
        options.profiles === undefined ? new InMemoryProfileStore([]) : loadProfileStore(options.profiles);
      const top = parseTop(options.top);
      const jobs = selectJobs(workload.jobs, options.job);
      const context = {
        catalog,
        region: workload.region,
        markets: workload.markets,
        instanceTypes: offeredInstanceTypes(catalog, workload),
        profiles,
      };
      const groups = groupClones(jobs).map((group) => ({
        jobs: group,
        candidates: enumerateCandidates(group[0] as Job, context).sort(compareCandidates),
      }));
      if (options.json) {
        const out = groups.flatMap((group) =>
          group.jobs.map((job) => ({
            jobId: job.id,
            jobSignature: jobSignature(job),
            candidates: group.candidates.map((candidate) => ({ ...candidate, jobId: job.id })),
          })),
        );
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `Workload '${workload.name}' in ${workload.region}: ${jobs.length} job(s), ${context.instanceTypes.length} instance types, ` +
          `markets ${workload.markets.join(" + ")}. Costs are for the GPUs a job occupies, at the planner's budget price ` +
          "(spot: the region's highest AZ price).\n",
      );
      for (const group of groups) {
        process.stdout.write(
          `\n${renderGroup(group.jobs, group.candidates, workload.markets, options.all === true, top)}`,
        );
      }
    });
}

function parseTop(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const top = Number(value);
  if (!Number.isInteger(top) || top < 1) {
    throw new InvalidWorkloadError([{ path: "--top", message: `expected an integer >= 1, got '${value}'` }], {
      subject: "command line",
    });
  }
  return top;
}

function selectJobs(jobs: readonly Job[], id: string | undefined): readonly Job[] {
  if (id === undefined) return jobs;
  const selected = jobs.filter((job) => job.id === id || job.sourceId === id);
  if (selected.length === 0) {
    const known = [...new Set(jobs.flatMap((job) => [job.sourceId, job.id]))].slice(0, 20).join(", ");
    throw new InvalidWorkloadError(
      [{ path: "--job", message: `expected a job id of the spec (${known}), got '${id}'` }],
      {
        subject: "command line",
      },
    );
  }
  return selected;
}

/** Jobs with the same signature and amount of work have identical candidates. */
function groupClones(jobs: readonly Job[]): Job[][] {
  const groups = new Map<string, Job[]>();
  for (const job of jobs) {
    const key = `${jobSignature(job)}|${job.totalSamples}|${job.techniques.join(",")}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [job]);
    else group.push(job);
  }
  return [...groups.values()];
}

const MISFIT_LABELS: Record<MisfitKind, string> = {
  "gpu-memory": "not enough GPU memory",
  "host-memory": "not enough host RAM for CPU offload",
  "batch-too-small": "global batch smaller than the GPU count",
  "pipeline-shape": "pipeline shape impossible",
  other: "other",
};

function renderGroup(
  jobs: readonly Job[],
  candidates: readonly Candidate[],
  markets: readonly string[],
  all: boolean,
  top: number | undefined,
): string {
  const first = jobs[0] as Job;
  const names =
    jobs.length === 1
      ? first.id
      : `${first.id} and ${jobs.length - 1} clone(s): ${jobs.map((job) => job.id).join(", ")}`;
  const method = first.method === "lora" ? `LoRA r${first.loraRank}` : "full";
  let text =
    `Job ${names}\n  ${first.modelName} (${parameterLine(first.model)}), ${method}, ` +
    `global batch ${first.batchSize}${first.sequenceLength > 0 ? `, sequence ${first.sequenceLength}` : ""}, ` +
    `${first.totalSamples.toLocaleString("en-US")} samples\n`;
  const fitting = candidates.filter((candidate) => candidate.estimate.fits);
  const misfits = candidates.filter((candidate) => !candidate.estimate.fits);
  if (fitting.length === 0) {
    text +=
      "  No configuration fits. Allow more instance types (instanceTypes.allow), techniques (fsdp, fsdp-offload), " +
      "LoRA, or a smaller batch; see the reasons below.\n";
  } else {
    const shown = top === undefined ? fitting : fitting.slice(0, top);
    const table = new Table({
      head: [
        "technique",
        "instance type",
        "nodes x GPUs",
        "samples/s",
        "GiB/GPU",
        "knobs",
        "runtime",
        ...markets.map((m) => `${m} $`),
        "source",
      ],
      style: { head: [], border: [], compact: true },
    });
    for (const candidate of shown) {
      if (!candidate.estimate.fits) continue;
      const estimate = candidate.estimate;
      const knobs =
        estimate.source === "measured"
          ? "-"
          : `mb ${estimate.microBatchSize ?? "?"}${estimate.activationCheckpointing ? " +AC" : ""} ${estimate.precision ?? ""}`.trim();
      table.push([
        candidate.config.technique,
        candidate.config.instanceType,
        `${candidate.config.nodes} x ${candidate.config.gpusPerNode}`,
        estimate.samplesPerSecond.toFixed(2),
        estimate.peakMemoryGiBPerGpu.toFixed(1),
        knobs,
        formatDuration(candidate.runtimeSeconds ?? 0),
        ...markets.map((market) => {
          const cost = candidate.costUsd[market as keyof typeof candidate.costUsd];
          return cost === undefined ? "n/a" : cost.toFixed(2);
        }),
        estimate.source,
      ]);
    }
    text += `  ${fitting.length} of ${candidates.length} configurations fit${shown.length < fitting.length ? ` (best ${shown.length} shown)` : ""}, cheapest first:\n`;
    text += `${indent(table.toString())}\n`;
  }
  if (misfits.length > 0) text += all ? listMisfits(misfits) : summariseMisfits(misfits);
  return text;
}

function summariseMisfits(misfits: readonly Candidate[]): string {
  const byKind = new Map<MisfitKind, Candidate[]>();
  for (const candidate of misfits) {
    if (candidate.estimate.fits) continue;
    const kind = misfitKind(candidate.estimate.reason);
    byKind.set(kind, [...(byKind.get(kind) ?? []), candidate]);
  }
  let text = `  ${misfits.length} configurations do not fit (--all lists each):\n`;
  for (const [kind, group] of byKind) {
    const example = group[0];
    const reason = example && !example.estimate.fits ? example.estimate.reason : "";
    text += `    ${group.length} x ${MISFIT_LABELS[kind]}, e.g. ${example ? describe(example) : ""}: ${reason}\n`;
  }
  return text;
}

function listMisfits(misfits: readonly Candidate[]): string {
  let text = `  ${misfits.length} configurations do not fit:\n`;
  for (const candidate of misfits) {
    if (candidate.estimate.fits) continue;
    text += `    ${describe(candidate)}: ${candidate.estimate.reason}\n`;
  }
  return text;
}

function describe(candidate: Candidate): string {
  const { technique, instanceType, nodes, gpusPerNode } = candidate.config;
  return `${technique} on ${nodes} x ${instanceType} (${gpusPerNode} GPU${gpusPerNode === 1 ? "" : "s"} each)`;
}

function formatDuration(seconds: number): string {
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(2)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

/** "8.03B parameters", or for a mixture of experts "30.53B parameters, 3.35B active (8 of 128 experts per token)". */
function parameterLine(model: Job["model"]): string {
  const total = `${(model.parameters / 1e9).toFixed(2)}B parameters`;
  if (model.activeParameters === undefined) return total;
  const routing =
    model.experts === undefined ? "" : ` (${model.expertsPerToken ?? "?"} of ${model.experts} experts per token)`;
  return `${total}, ${(model.activeParameters / 1e9).toFixed(2)}B active${routing}`;
}
