/**
 * The profiling phase on the simulated cloud: each chosen profile run launches its real
 * instance type(s) on demand, boots, runs warm-up and measured steps at the simulated true
 * throughput, reports a ProfileRecord (`where: "sim"`) and is terminated. All runs start
 * together; the phase ends when the last instance is terminated.
 *
 * The simulated truth is the sim's own throughput model: estimate x bias x lognormal(sigma),
 * drawn from the same seeded stream the run's attempts use for that job and shape
 * (simulated-cloud.ts, `startJob`), so the measurement is what the job would have seen.
 * `revealedThroughputOf` hands the measurements to the run's simulated cloud so that an
 * attempt planned on a measured figure trains at it.
 */
import type { Catalog } from "../../core/catalog/types.ts";
import { SATURN_TAGS } from "../../core/cloud/cloud-port.ts";
import { CapacityError, QuotaError } from "../../core/cloud/launch-errors.ts";
import { jobSignature } from "../../core/estimator/job-signature.ts";
import type { ProfileRecord } from "../../core/estimator/types.ts";
import type { ProfilingRun } from "../../core/planner/profiling-phase.ts";
import { seededStream, standardNormal } from "../../core/random/seeded-random.ts";
import type { Workload } from "../../core/spec/workload.ts";
import { defaultSimOptions } from "./default-sim-options.ts";
import type { SimCloudOptions } from "./sim-options.ts";
import { SimulatedCloud } from "./simulated-cloud.ts";

export interface SimProfilingOptions {
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly runs: readonly ProfilingRun[];
  readonly warmupSteps: number;
  readonly measuredSteps: number;
  /** ISO time of virtual t = 0, for the records' `measuredAt` (the caller owns the clock). */
  readonly epoch: string;
  readonly sim?: Partial<SimCloudOptions>;
}

export interface SimProfilingResult {
  readonly records: readonly ProfileRecord[];
  /** Runs whose launch failed (capacity or quota), with the error message. */
  readonly failed: readonly { readonly run: ProfilingRun; readonly message: string }[];
  readonly spendUsd: number;
  /** From the first launch to the last instance terminated. */
  readonly seconds: number;
  readonly instancesLeftRunning: number;
}

interface Running {
  readonly run: ProfilingRun;
  readonly instanceIds: readonly string[];
  endsAt: number | undefined;
  done: boolean;
}

export const PROFILING_ROLE = "profiler";

export async function profileOnSimulatedCloud(options: SimProfilingOptions): Promise<SimProfilingResult> {
  const simOptions = defaultSimOptions(options.workload, options.catalog, options.sim);
  const cloud = new SimulatedCloud(options.catalog, simOptions, 0);
  const tags = { [SATURN_TAGS.workload]: options.workload.name, [SATURN_TAGS.role]: PROFILING_ROLE };
  const jobs = new Map(options.workload.jobs.map((job) => [job.id, job]));
  const epochMs = Date.parse(options.epoch);
  const records: ProfileRecord[] = [];
  const failed: { run: ProfilingRun; message: string }[] = [];
  const active: Running[] = [];

  for (const [index, run] of options.runs.entries()) {
    const instanceIds: string[] = [];
    try {
      for (let node = 0; node < run.config.nodes; node++) {
        const instance = await cloud.launch({
          instanceType: run.config.instanceType,
          market: "on-demand",
          availabilityZone: undefined,
          tags,
          clientToken: `profile-${index}-${node}`,
          cluster: run.config.nodes > 1,
        });
        instanceIds.push(instance.id);
      }
      active.push({ run, instanceIds, endsAt: undefined, done: false });
    } catch (error) {
      if (!(error instanceof CapacityError || error instanceof QuotaError)) throw error;
      // Nothing half-launched stays up: a multi-node run without all its nodes is useless.
      await cloud.terminate(instanceIds);
      failed.push({ run, message: error.message });
    }
  }

  while (active.some((entry) => !entry.done)) {
    const now = cloud.now();
    const states = new Map((await cloud.describe(tags)).map((instance) => [instance.id, instance.state]));
    for (const entry of active) {
      if (entry.done) continue;
      if (entry.endsAt === undefined && entry.instanceIds.every((id) => states.get(id) === "running")) {
        const job = jobs.get(entry.run.jobId);
        const truth = trueSamplesPerSecond(entry.run, simOptions);
        const steps = options.warmupSteps + options.measuredSteps;
        entry.endsAt = now + (steps * (job?.batchSize ?? 1)) / truth;
      }
      if (entry.endsAt !== undefined && entry.endsAt <= now) {
        records.push({
          jobSignature: entry.run.jobSignature,
          ...entry.run.config,
          samplesPerSecond: trueSamplesPerSecond(entry.run, simOptions),
          // The sim has no memory model: 0 says "not measured" (the planner reads only samples/s).
          peakMemoryGiBPerGpu: 0,
          measuredAt: new Date(epochMs + now * 1000).toISOString(),
          where: "sim",
        });
        await cloud.terminate(entry.instanceIds);
        entry.done = true;
      }
    }
    const pendingEnds = active.filter((e) => !e.done && e.endsAt !== undefined).map((e) => e.endsAt ?? now);
    const next = Math.min(cloud.nextEventTime(), ...pendingEnds);
    if (!Number.isFinite(next)) break;
    cloud.advanceTo(Math.max(next, now + 1e-3));
  }
  // Let every shutdown finish so that billing ends.
  while (Number.isFinite(cloud.nextEventTime())) cloud.advanceTo(cloud.nextEventTime());
  const instances = await cloud.describe(tags);
  const endedAt = cloud.now();
  return {
    records,
    failed,
    spendUsd: cloud.spendAt(tags, endedAt),
    seconds: endedAt,
    instancesLeftRunning: instances.filter((instance) => instance.state !== "terminated").length,
  };
}

/**
 * The sim's truth for a profile run: the estimate times the noise the run's attempts of
 * that job and shape draw (same stream and key as `SimulatedCloud.startJob`).
 */
function trueSamplesPerSecond(run: ProfilingRun, options: SimCloudOptions): number {
  const shape = shapeKey(run.config.instanceType, run.config.nodes, run.config.gpusPerNode);
  const spread = standardNormal(seededStream(options.seed, "throughput", run.jobId, shape));
  const sigma = options.throughputSigma;
  return run.estimatedSamplesPerSecond * options.throughputBias * Math.exp(sigma * spread - (sigma * sigma) / 2);
}

function shapeKey(instanceType: string, nodes: number, gpusPerNode: number): string {
  return `${instanceType}|${nodes}|${gpusPerNode}`;
}

/**
 * For the run's simulated cloud: an attempt whose planned figure is a measurement of its
 * job's signature on that shape trains at the measurement (the plan copies the record's
 * figure, so equality up to rounding identifies it).
 */
export function revealedThroughputOf(
  workload: Workload,
  records: readonly ProfileRecord[],
): (jobId: string, shape: string, planned: number) => number | undefined {
  const signatures = new Map(workload.jobs.map((job) => [job.id, jobSignature(job)]));
  const bySignatureShape = new Map<string, number[]>();
  for (const record of records) {
    const key = `${record.jobSignature}|${shapeKey(record.instanceType, record.nodes, record.gpusPerNode)}`;
    bySignatureShape.set(key, [...(bySignatureShape.get(key) ?? []), record.samplesPerSecond]);
  }
  return (jobId, shape, planned) => {
    const figures = bySignatureShape.get(`${signatures.get(jobId)}|${shape}`) ?? [];
    return figures.find((figure) => Math.abs(figure - planned) <= 1e-9 * Math.max(1, figure));
  };
}
