/**
 * The profiling phase's choice: which short profile runs are worth their money before the
 * real run (docs/plan.md, "Profiling phase"). Pure: plan, workload, profiles and catalog in,
 * runs out; the caller (simulated cloud or control plane) carries them out, stores the
 * records and plans again.
 *
 * A configuration is worth measuring when its measured figure could change the plan: it is
 * estimated (no profile record) and its cost is within `marginPercent` of the cost of the
 * configuration the plan chose for that job (the chosen one itself included, as an estimate
 * error there moves the whole plan). Sweep clones share a job signature and so one run.
 * Runs go cheapest first, and are cut where the dollar budget or the minutes run out.
 */
import { hourlyPrice } from "../catalog/select.ts";
import type { Catalog } from "../catalog/types.ts";
import { configurationKey } from "../estimator/estimate.ts";
import { jobSignature } from "../estimator/job-signature.ts";
import { isMeasurement } from "../estimator/profiles.ts";
import type { Configuration, ProfileStore } from "../estimator/types.ts";
import type { Job, Workload } from "../spec/workload.ts";
import { isBuiltInTechnique, type Market } from "../spec/workload-schema.ts";
import type { ConsideredCandidate, Plan } from "./plan.ts";

/** EC2 bills per second with a 60 s minimum (core/cloud/billing.ts); a profile run pays at least that. */
const MINIMUM_BILLED_SECONDS = 60;

export interface ProfilingSettingsInput {
  readonly budgetUsd: number;
  readonly maxMinutes: number;
  readonly marginPercent: number;
  readonly warmupSteps: number;
  readonly measuredSteps: number;
  /**
   * Seconds each run is billed beyond boot and steps, as the driver sees it: on the control
   * plane, the passes between "running" and the assignment and between the measurement and
   * the terminate, plus the budget guard's look-ahead. Absent: 0 (the simulated cloud acts
   * at once).
   */
  readonly overheadSeconds?: number;
}

/** One short run: boot, warm-up, measured steps of one job's configuration. */
export interface ProfilingRun {
  readonly jobSignature: string;
  /** A job of that signature (the first in the workload): what the run trains. */
  readonly jobId: string;
  readonly config: Configuration;
  /** Estimated samples/s, what the step time below comes from. */
  readonly estimatedSamplesPerSecond: number;
  /** Boot plus warm-up plus measured steps at the estimated step time, at least 60 s. */
  readonly seconds: number;
  /** `seconds` of every node at the on-demand price. */
  readonly costUsd: number;
  /**
   * Why it was picked: the chosen configuration, within the margin of its cost, or a plug-in
   * configuration with no figure on the shape of one of those (its price is that one's).
   */
  readonly because: ProfilingRunReason;
}

export type ProfilingRunReason = "chosen" | "within-margin" | "plug-in-without-figure";

export type LeftOutReason = "already-measured" | "over-budget" | "over-time" | "no-on-demand-price";

export interface LeftOutRun {
  readonly jobSignature: string;
  readonly config: Configuration;
  readonly reason: LeftOutReason;
  /** The run's cost when it was priced (over-budget and over-time). */
  readonly costUsd: number | undefined;
}

export interface ProfilingChoice {
  /** Cheapest first; their costs sum to at most the budget and their seconds to at most the minutes. */
  readonly runs: readonly ProfilingRun[];
  readonly leftOut: readonly LeftOutRun[];
  /** Fitting candidates not measured because they cost more than the margin allows (count only). */
  readonly outsideMargin: number;
  readonly totalCostUsd: number;
  readonly totalSeconds: number;
}

export function chooseProfilingRuns(
  plan: Plan,
  workload: Workload,
  profiles: ProfileStore,
  settings: ProfilingSettingsInput,
  catalog: Catalog,
): ProfilingChoice {
  const jobs = new Map(workload.jobs.map((job) => [job.id, job]));
  const types = new Map(catalog.instanceTypes.map((type) => [type.name, type]));
  const bootSeconds = workload.planner.bootMinutes * 60;
  const wanted = new Map<string, ProfilingRun>();
  const leftOut = new Map<string, LeftOutRun>();
  const outside = new Set<string>();
  const allowed = new Set<string>();

  for (const entry of plan.considered) {
    const job = jobs.get(entry.jobId);
    const chosen = entry.candidates.find((candidate) => candidate.chosen);
    if (job === undefined || chosen === undefined) continue;
    const chosenCost = cheapestCost(chosen.costUsd, workload.markets);
    if (chosenCost === undefined) continue;
    const limit = chosenCost * (1 + settings.marginPercent / 100);
    const signature = jobSignature(job);
    for (const candidate of entry.candidates) {
      if (!candidate.fits || candidate.samplesPerSecond === undefined) continue;
      const key = `${signature}|${configurationKey(candidate.config)}`;
      const cost = cheapestCost(candidate.costUsd, workload.markets);
      if (!candidate.chosen && (cost === undefined || cost > limit)) {
        outside.add(key);
        continue;
      }
      allowed.add(key);
      if (wanted.has(key) || leftOut.has(key)) {
        // A chosen configuration of another job of this signature upgrades the reason.
        const run = wanted.get(key);
        if (run !== undefined && candidate.chosen && run.because !== "chosen") {
          wanted.set(key, { ...run, because: "chosen" });
        }
        continue;
      }
      const record = profiles.find(signature, candidate.config);
      // A plug-in's own estimate is still worth measuring; only timed steps count as measured.
      if (record !== undefined && isMeasurement(record)) {
        leftOut.set(key, {
          jobSignature: signature,
          config: candidate.config,
          reason: "already-measured",
          costUsd: undefined,
        });
        continue;
      }
      const type = types.get(candidate.config.instanceType);
      const price = type === undefined ? undefined : hourlyPrice(type, workload.region, "on-demand");
      if (price === undefined) {
        leftOut.set(key, {
          jobSignature: signature,
          config: candidate.config,
          reason: "no-on-demand-price",
          costUsd: undefined,
        });
        continue;
      }
      wanted.set(key, profileRun(job, signature, candidate, settings, bootSeconds, price));
    }
    proposePluginRuns(entry.candidates, {
      job,
      signature,
      profiles,
      settings,
      bootSeconds,
      allowed,
      wanted,
      leftOut,
      types,
      workload,
    });
  }

  const runs: ProfilingRun[] = [];
  let totalCostUsd = 0;
  let totalSeconds = 0;
  const sorted = [...wanted.values()].sort((a, b) => a.costUsd - b.costUsd || runKey(a).localeCompare(runKey(b)));
  for (const run of sorted) {
    if (totalCostUsd + run.costUsd > settings.budgetUsd) {
      leftOut.set(runKey(run), {
        jobSignature: run.jobSignature,
        config: run.config,
        reason: "over-budget",
        costUsd: run.costUsd,
      });
    } else if (totalSeconds + run.seconds > settings.maxMinutes * 60) {
      leftOut.set(runKey(run), {
        jobSignature: run.jobSignature,
        config: run.config,
        reason: "over-time",
        costUsd: run.costUsd,
      });
    } else {
      runs.push(run);
      totalCostUsd += run.costUsd;
      totalSeconds += run.seconds;
    }
  }
  // A configuration outside one job's margin but inside another's (same signature) is considered.
  const outsideMargin = [...outside].filter((key) => !allowed.has(key)).length;
  return { runs, leftOut: [...leftOut.values()], outsideMargin, totalCostUsd, totalSeconds };
}

/**
 * A plug-in configuration with no figure at all (no record: the estimator has no model of
 * it) has no cost to hold against the margin. It is worth measuring where a fitting
 * configuration of the same shape (instance type, nodes, GPUs per node) is: the run's price
 * and duration come from that configuration's figure, the only step time known there.
 */
function proposePluginRuns(
  candidates: readonly ConsideredCandidate[],
  context: {
    readonly job: Job;
    readonly signature: string;
    readonly profiles: ProfileStore;
    readonly settings: ProfilingSettingsInput;
    readonly bootSeconds: number;
    readonly allowed: ReadonlySet<string>;
    readonly wanted: Map<string, ProfilingRun>;
    readonly leftOut: Map<string, LeftOutRun>;
    readonly types: ReadonlyMap<string, Catalog["instanceTypes"][number]>;
    readonly workload: Workload;
  },
): void {
  const { signature, wanted, leftOut } = context;
  for (const candidate of candidates) {
    if (candidate.fits || isBuiltInTechnique(candidate.config.technique)) continue;
    const key = `${signature}|${configurationKey(candidate.config)}`;
    // A record (the plug-in's search or a measurement said it does not fit) is a figure.
    if (wanted.has(key) || leftOut.has(key) || context.profiles.find(signature, candidate.config) !== undefined)
      continue;
    const proxy = candidates.find(
      (other) =>
        other.fits &&
        other.samplesPerSecond !== undefined &&
        sameShape(other.config, candidate.config) &&
        context.allowed.has(`${signature}|${configurationKey(other.config)}`),
    );
    if (proxy === undefined) continue;
    const type = context.types.get(candidate.config.instanceType);
    const price = type === undefined ? undefined : hourlyPrice(type, context.workload.region, "on-demand");
    if (price === undefined) {
      leftOut.set(key, {
        jobSignature: signature,
        config: candidate.config,
        reason: "no-on-demand-price",
        costUsd: undefined,
      });
      continue;
    }
    const run = profileRun(
      context.job,
      signature,
      { ...candidate, samplesPerSecond: proxy.samplesPerSecond, chosen: false },
      context.settings,
      context.bootSeconds,
      price,
    );
    wanted.set(key, { ...run, because: "plug-in-without-figure" });
  }
}

function sameShape(a: Configuration, b: Configuration): boolean {
  return a.instanceType === b.instanceType && a.nodes === b.nodes && a.gpusPerNode === b.gpusPerNode;
}

function profileRun(
  job: Job,
  signature: string,
  candidate: ConsideredCandidate,
  settings: ProfilingSettingsInput,
  bootSeconds: number,
  onDemandUsdPerHour: number,
): ProfilingRun {
  const samplesPerSecond = candidate.samplesPerSecond ?? 0;
  const stepSeconds = job.batchSize / samplesPerSecond;
  const seconds = Math.max(
    MINIMUM_BILLED_SECONDS,
    bootSeconds + (settings.warmupSteps + settings.measuredSteps) * stepSeconds + (settings.overheadSeconds ?? 0),
  );
  return {
    jobSignature: signature,
    jobId: job.id,
    config: candidate.config,
    estimatedSamplesPerSecond: samplesPerSecond,
    seconds,
    costUsd: (seconds / 3600) * onDemandUsdPerHour * candidate.config.nodes,
    because: candidate.chosen ? "chosen" : "within-margin",
  };
}

/** The cheapest of a candidate's costs over the markets the workload allows. */
function cheapestCost(costUsd: Partial<Record<Market, number>>, markets: readonly Market[]): number | undefined {
  const costs = markets.map((market) => costUsd[market]).filter((cost): cost is number => cost !== undefined);
  return costs.length === 0 ? undefined : Math.min(...costs);
}

function runKey(run: { readonly jobSignature: string; readonly config: Configuration }): string {
  return `${run.jobSignature}|${configurationKey(run.config)}`;
}
