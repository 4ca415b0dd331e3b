/**
 * Calibration table for docs/estimator.md: the estimator against every published
 * measurement in data/published-throughput.json, per GPU, plus the
 * communication model against measured NCCL all-reduce bandwidth.
 *
 *   npx tsx bench/calibrate.ts          (markdown on stdout)
 *   npx tsx bench/calibrate.ts --speed  (also: time to enumerate candidates for 1,000 jobs)
 */
import { readFileSync } from "node:fs";
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { type CalibrationResult, calibrate, parseCalibrationRows } from "../lambdas/core/estimator/calibration.ts";
import { enumerateCandidates } from "../lambdas/core/estimator/candidates.ts";
import { predictedAllReduceBusBandwidth, topologyOf } from "../lambdas/core/estimator/communication.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import { MODEL_PRESET_NAMES } from "../lambdas/core/models/presets.ts";
import { parseWorkload } from "../lambdas/core/spec/workload.ts";

const DATA = new URL("../data/published-throughput.json", import.meta.url);
const catalog = loadCatalog();
const rows = parseCalibrationRows(JSON.parse(readFileSync(DATA, "utf8")));
const results = rows.map((row) => calibrate(row, catalog));

const lines: string[] = [
  "| row | model | method | technique | GPUs | seq | micro-batch | AC | measured (source units) | measured per GPU | estimated per GPU | error | GiB/GPU measured / estimated |",
  "|---|---|---|---|---|---|---|---|---|---:|---:|---:|---:|",
];
for (const result of results) lines.push(tableRow(result));

const included = results.filter((result) => result.row.excludedBecause === undefined);
const errors = included.map((result) => Math.abs(result.relativeError ?? Number.POSITIVE_INFINITY));
const mean = errors.reduce((sum, error) => sum + error, 0) / errors.length;
const signed = included.map((result) => result.relativeError ?? 0);
lines.push(
  "",
  `${included.length} calibration rows (${results.length - included.length} excluded, see below): ` +
    `mean |error| ${magnitude(mean)}, largest |error| ${magnitude(Math.max(...errors))}, ` +
    `range ${percent(Math.min(...signed))} to ${percent(Math.max(...signed))}; ` +
    `${errors.filter((error) => error <= 0.35).length} of ${included.length} within ±35%.`,
);
const excluded = results.filter((result) => result.row.excludedBecause !== undefined);
if (excluded.length > 0) {
  lines.push("", "Excluded rows:");
  for (const result of excluded) {
    const outcome = result.estimate.fits
      ? `estimate ${percent(result.relativeError ?? 0)}`
      : `estimator: ${result.estimate.reason}`;
    lines.push(`- ${result.row.id}: ${result.row.excludedBecause} (${outcome}).`);
  }
}

// Measured NCCL all_reduce_perf busbw, 2 nodes x 8 GPUs: aws-samples/awsome-distributed-training
// micro-benchmarks/nccl-tests/README.md @0162aacd5da07d424e13f44bef8dd2c4cfcc66e4 (via
// published-throughput.md, 'Measured all-reduce bandwidth').
const allReduce = [
  { type: "p4de.24xlarge", bytes: 2 * 1024 ** 3, label: "2 GiB", measured: 78.33 },
  { type: "p4de.24xlarge", bytes: 128 * 1024 ** 2, label: "128 MiB", measured: 64.31 },
  { type: "p5.48xlarge", bytes: 2 * 1024 ** 3, label: "2 GiB", measured: 443.72 },
  { type: "p5.48xlarge", bytes: 16 * 1024 ** 3, label: "16 GiB", measured: 487.09 },
];
lines.push(
  "",
  "| all-reduce, 2 nodes x 8 GPUs | message | measured busbw GB/s | model busbw GB/s | error |",
  "|---|---|---:|---:|---:|",
);
for (const point of allReduce) {
  const type = catalog.instanceTypes.find((candidate) => candidate.name === point.type);
  if (type === undefined) throw new Error(`data/catalog.json lacks ${point.type}`);
  const predicted = predictedAllReduceBusBandwidth(point.bytes, topologyOf(type, 2, 8)) / 1e9;
  lines.push(
    `| ${point.type} | ${point.label} | ${point.measured} | ${predicted.toFixed(1)} | ${percent((predicted - point.measured) / point.measured)} |`,
  );
}
process.stdout.write(`${lines.join("\n")}\n`);
if (process.argv.includes("--speed")) process.stdout.write(`\n${enumerationSpeed()}\n`);

/**
 * 1,000 jobs (20 shapes x 50 sweep clones: every preset, full and LoRA, four batch sizes)
 * over every catalog type and all four techniques; wall-clock of a cold and a warm pass.
 */
function enumerationSpeed(): string {
  const jobs = Array.from({ length: 20 }, (_, index) => ({
    id: `shape${index}`,
    model: MODEL_PRESET_NAMES[index % MODEL_PRESET_NAMES.length],
    method: index % 3 === 0 && MODEL_PRESET_NAMES[index % MODEL_PRESET_NAMES.length] !== "resnet-200" ? "lora" : "full",
    batchSize: 16 * (1 + (index % 4)),
    work: { samples: 100_000 },
    sweep: { lr: Array.from({ length: 50 }, (_, clone) => clone + 1) },
  }));
  const workload = parseWorkload({
    name: "speed",
    region: "us-east-1",
    objective: { kind: "min-cost", deadlineHours: 24 },
    jobs,
  });
  const context = {
    catalog,
    region: workload.region,
    markets: workload.markets,
    instanceTypes: catalog.instanceTypes,
    profiles: new InMemoryProfileStore([]),
  };
  const passes: string[] = [];
  let candidates = 0;
  for (const pass of ["cold", "warm"]) {
    const start = performance.now();
    candidates = 0;
    for (const job of workload.jobs) candidates += enumerateCandidates(job, context).length;
    passes.push(`${pass} ${((performance.now() - start) / 1000).toFixed(2)} s`);
  }
  return `Enumerating ${candidates.toLocaleString("en-US")} candidates for ${workload.jobs.length} jobs x ${catalog.instanceTypes.length} types x 4 techniques: ${passes.join(", ")}.`;
}

function tableRow(result: CalibrationResult): string {
  const row = result.row;
  const gpus = `${row.nodes * row.gpusPerNode} x ${row.gpu} (${row.nodes} x ${row.gpusPerNode})`;
  const estimated = result.estimatedPerGpu === undefined ? "does not fit" : result.estimatedPerGpu.toFixed(0);
  const error = result.relativeError === undefined ? "n/a" : percent(result.relativeError);
  const method = row.method === "lora" ? `LoRA r${row.loraRank}` : "full";
  const mark = row.excludedBecause === undefined ? "" : " (excluded)";
  return (
    `| ${row.id}${mark} | ${row.model.name} | ${method} | ${row.technique} | ${gpus} | ${row.sequenceLength} | ` +
    `${row.microBatchSize ?? "searched"} | ${row.activationCheckpointing ? "on" : "off"} | ` +
    `${row.measured.value} ${row.measured.unit} | ${row.measuredPerGpu.value} ${row.measuredPerGpu.unit} | ${estimated} | ${error} | ` +
    `${row.measuredPeakMemoryGiBPerGpu ?? "-"} / ${result.estimate.peakMemoryGiBPerGpu.toFixed(1)} |`
  );
}

function magnitude(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function percent(value: number): string {
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
}
