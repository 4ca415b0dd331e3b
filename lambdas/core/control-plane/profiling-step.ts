/**
 * One step of the profiling phase, pure: the stored phase and what a pass observed (the
 * phase's instances by tag, the workload's worker events) in, the next
 * phase and the actions out. Level-triggered like the reconciler: every rule is decided
 * again from the observation each pass, so a lost pass or a repeated event changes nothing
 * twice.
 *
 * Rules, per run (in the stored order: cheapest first):
 * - an ending comes from the run's attempt's events: `throughput-measured` (measured, or
 *   does-not-fit when the record says `fits: false`), `failed`, `stopped`, or `completed`
 *   without a measurement (failed); a node that shut down or terminated first is `lost`;
 * - a run that ended has its live instances terminated at once;
 * - a waiting run is launched (on demand, every node, tagged) while the spend so far plus
 *   the prices of the runs under way plus its own price stays within the phase's budget;
 * - the spend is the phase's own account, on the control plane's clock: each launched run's
 *   on-demand price for every node from the pass that launched it to the pass that ended it,
 *   at least EC2's 60 s (EC2's LaunchTime is not used: an emulator's clock is not the
 *   pass's, and the account errs high, since a launch follows its pass and a terminate
 *   follows the pass that ends the run);
 * - a launched run whose nodes all run gets its assignment (profile mode);
 * - past the phase's minutes, or when the spend so far plus one guard interval of every
 *   live instance would pass the budget, or on cancel, every run not ended ends
 *   (over-time, over-budget, cancelled) and every live instance is terminated.
 * The phase ends (`done`, or `cancelled`) on the first pass that sees every run ended and
 * none of its instances live.
 */
import { type CloudInstance, type LaunchRequest, SATURN_TAGS } from "../cloud/cloud-port.ts";
import type { StartProfileRequest } from "../cloud/profile-worker-port.ts";
import type { WorkerEvent } from "../protocol/worker-protocol.ts";
import { isLive } from "../reconciler/plan-view.ts";
import {
  ENDED_RUN_STATUSES,
  PROFILER_ROLE,
  type ProfileRunRecord,
  type ProfileRunStatus,
  type ProfilingPhase,
  profileAttemptId,
  profileJobId,
  profileSlot,
} from "./profiling-phase-record.ts";

export interface ProfilingObservation {
  /** Seconds on the cloud's clock. */
  readonly now: number;
  /** Every instance tagged with the workload and the profiler role, any state. */
  readonly instances: readonly CloudInstance[];
  readonly events: readonly WorkerEvent[];
  readonly cancelRequested: boolean;
}

export interface ProfilingStepContext {
  readonly workloadId: string;
  /** The workload's home region (profile runs launch there). */
  readonly region: string;
  readonly planVersion: number;
  /** Seconds of billing the budget guard looks ahead (at least one pass interval). */
  readonly guardSeconds: number;
}

export type ProfilingAction =
  | { readonly kind: "launch-profile"; readonly run: number; readonly request: LaunchRequest }
  | { readonly kind: "assign-profile"; readonly run: number; readonly request: StartProfileRequest }
  | { readonly kind: "terminate"; readonly instanceIds: readonly string[]; readonly reason: string };

export interface ProfilingStep {
  readonly phase: ProfilingPhase;
  readonly actions: readonly ProfilingAction[];
}

/** Default look-ahead of the budget guard: two minutes (the schedule runs a pass every minute). */
export const DEFAULT_GUARD_SECONDS = 120;

export function advanceProfilingPhase(
  stored: ProfilingPhase,
  observed: ProfilingObservation,
  context: ProfilingStepContext,
): ProfilingStep {
  if (stored.status === "done" || stored.status === "cancelled") return { phase: stored, actions: [] };
  const { now } = observed;
  const startedAt = stored.startedAt ?? now;
  const settings = stored.settings;
  const nodesOf = (run: ProfileRunRecord) =>
    observed.instances.filter((instance) => slotRun(instance.tags[SATURN_TAGS.slot]) === run.index);
  const liveOf = (run: ProfileRunRecord) => nodesOf(run).filter(isLive);

  // Endings reported by the workers, and instances lost under a run.
  let runs = stored.runs.map((run) =>
    ENDED_RUN_STATUSES.has(run.status) ? run : observeEnding(run, observed, nodesOf(run)),
  );

  // Phase-wide stops: cancel, the minutes, the budget guard.
  const live = observed.instances.filter(isLive);
  const spendUsd = runs.reduce((sum, run) => sum + billedUsd(run, now), 0);
  const projected =
    spendUsd + live.reduce((sum, instance) => sum + instance.hourlyPriceUsd, 0) * (context.guardSeconds / 3600);
  const stop: { status: ProfileRunStatus; reason: string } | undefined = observed.cancelRequested
    ? { status: "cancelled", reason: "the workload was cancelled" }
    : now >= startedAt + settings.maxMinutes * 60
      ? { status: "over-time", reason: `the phase's ${settings.maxMinutes} minutes passed` }
      : live.length > 0 && projected > settings.budgetUsd
        ? {
            status: "over-budget",
            reason: `$${spendUsd.toFixed(2)} spent and the next ${context.guardSeconds} s of the live profile instances would pass the phase's budget of $${settings.budgetUsd.toFixed(2)}`,
          }
        : undefined;
  if (stop !== undefined) {
    runs = runs.map((run) => (ENDED_RUN_STATUSES.has(run.status) ? run : ended(run, stop.status, stop.reason, now)));
  }

  const actions: ProfilingAction[] = [];
  const terminate: string[] = [];
  // Committed: what the runs under way are priced at (their spend so far is in `spendUsd`).
  let committed = 0;
  for (const run of runs) if (run.status === "launched" || run.status === "assigned") committed += run.estimatedCostUsd;

  runs = runs.map((run) => {
    if (ENDED_RUN_STATUSES.has(run.status)) {
      for (const instance of liveOf(run)) terminate.push(instance.id);
      return run;
    }
    if (run.status === "waiting") {
      if (spendUsd + committed + run.estimatedCostUsd > settings.budgetUsd) {
        return ended(
          run,
          "over-budget",
          `$${run.estimatedCostUsd.toFixed(2)} more would pass the phase's budget of $${settings.budgetUsd.toFixed(2)} ($${spendUsd.toFixed(2)} spent, $${committed.toFixed(2)} under way)`,
          now,
        );
      }
      committed += run.estimatedCostUsd;
      launchNodes(run, context, actions);
      return { ...run, status: "launched", launchedAt: now };
    }
    const nodes = nodesOf(run);
    if (nodes.length < run.config.nodes) {
      // Not all nodes visible yet (DescribeInstances lags, or a launch was lost): launch
      // again; the client token returns the instance a first launch created.
      launchNodes(run, context, actions);
      return run;
    }
    if (run.status === "launched" && nodes.every((instance) => instance.state === "running")) {
      const ordered = [...nodes].sort((a, b) => nodeOf(a) - nodeOf(b));
      actions.push({
        kind: "assign-profile",
        run: run.index,
        request: {
          jobId: run.jobId,
          profileJobId: profileJobId(run.index),
          attemptId: profileAttemptId(run.index),
          technique: run.config.technique,
          instanceIds: ordered.map((instance) => instance.id),
          gpusPerInstance: run.config.gpusPerNode,
          plannedSamplesPerSecond: run.estimatedSamplesPerSecond,
          warmupSteps: settings.warmupSteps,
          measuredSteps: settings.measuredSteps,
          jobSignature: run.jobSignature,
        },
      });
      return { ...run, status: "assigned" };
    }
    return run;
  });

  if (terminate.length > 0) {
    actions.push({ kind: "terminate", instanceIds: [...new Set(terminate)], reason: "the profile run ended" });
  }
  const allEnded = runs.every((run) => ENDED_RUN_STATUSES.has(run.status));
  const finished = allEnded && live.length === 0 && !actions.some((action) => action.kind === "launch-profile");
  const phase: ProfilingPhase = {
    ...stored,
    status: finished ? (observed.cancelRequested ? "cancelled" : "done") : "running",
    startedAt,
    endedAt: finished ? now : undefined,
    spentUsd: runs.reduce((sum, run) => sum + billedUsd(run, now), 0),
    runs,
  };
  return { phase, actions };
}

/** Marks a run failed because its launch was refused (the pass calls it when the cloud throws). */
export function launchRefused(phase: ProfilingPhase, runIndex: number, reason: string, now: number): ProfilingPhase {
  return {
    ...phase,
    runs: phase.runs.map((run) =>
      run.index === runIndex && !ENDED_RUN_STATUSES.has(run.status) ? ended(run, "failed", reason, now) : run,
    ),
  };
}

function launchNodes(run: ProfileRunRecord, context: ProfilingStepContext, actions: ProfilingAction[]): void {
  for (let node = 0; node < run.config.nodes; node++) {
    const slot = profileSlot(run.index, node);
    actions.push({
      kind: "launch-profile",
      run: run.index,
      request: {
        instanceType: run.config.instanceType,
        // Too short to risk a spot interruption; priced on demand by the choice too.
        market: "on-demand",
        region: context.region,
        availabilityZone: undefined,
        tags: {
          [SATURN_TAGS.workload]: context.workloadId,
          [SATURN_TAGS.plan]: String(context.planVersion),
          [SATURN_TAGS.role]: PROFILER_ROLE,
          [SATURN_TAGS.slot]: slot,
        },
        clientToken: `${context.workloadId}:profile:v${context.planVersion}:${slot}`,
        ...(run.config.nodes > 1 ? { cluster: true } : {}),
      },
    });
  }
}

function observeEnding(
  run: ProfileRunRecord,
  observed: ProfilingObservation,
  nodes: readonly CloudInstance[],
): ProfileRunRecord {
  if (run.status === "waiting") return run;
  const attemptId = profileAttemptId(run.index);
  const events = observed.events.filter((event) => "attemptId" in event && event.attemptId === attemptId);
  const measured = events.find((event) => event.kind === "throughput-measured");
  if (measured?.kind === "throughput-measured") {
    const { record } = measured;
    return record.fits === false
      ? ended(run, "does-not-fit", record.reason ?? "the harness found it does not fit", observed.now)
      : { ...ended(run, "measured", undefined, observed.now), samplesPerSecond: record.samplesPerSecond };
  }
  for (const event of events) {
    if (event.kind === "failed") {
      return ended(run, "failed", `the harness exited ${event.exitCode}: ${event.reason}`, observed.now);
    }
    if (event.kind === "stopped")
      return ended(run, "failed", `stopped (${event.reason}) before measuring`, observed.now);
    if (event.kind === "completed") return ended(run, "failed", "completed without a measurement", observed.now);
  }
  const gone = nodes.find((instance) => !isLive(instance));
  if (gone !== undefined) return ended(run, "lost", `instance ${gone.id} is ${gone.state}`, observed.now);
  return run;
}

/** EC2 bills at least a minute per instance (core/cloud/billing.ts). */
const MINIMUM_BILLED_SECONDS = 60;

/** The run's price per hour for all its nodes, from the choice's price and duration. */
function usdPerHour(run: ProfileRunRecord): number {
  return run.estimatedSeconds > 0 ? (run.estimatedCostUsd * 3600) / run.estimatedSeconds : 0;
}

function billedUsd(run: ProfileRunRecord, now: number): number {
  if (run.launchedAt === undefined) return 0;
  const seconds = Math.max(MINIMUM_BILLED_SECONDS, (run.endedAt ?? now) - run.launchedAt);
  return (usdPerHour(run) * seconds) / 3600;
}

function ended(run: ProfileRunRecord, status: ProfileRunStatus, reason: string | undefined, now: number) {
  return { ...run, status, reason, endedAt: now };
}

/** The run index in a `saturn:slot` value `profile-<run>-n<node>`, or undefined. */
function slotRun(slot: string | undefined): number | undefined {
  const match = /^profile-(\d+)-n\d+$/.exec(slot ?? "");
  return match === null ? undefined : Number(match[1]);
}

function nodeOf(instance: CloudInstance): number {
  return Number(/-n(\d+)$/.exec(instance.tags[SATURN_TAGS.slot] ?? "")?.[1] ?? 0);
}
