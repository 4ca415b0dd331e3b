/**
 * The driver that owns the virtual clock: runs a plan on the simulated cloud through the
 * same engine and reconciler AWS would use. Between reconciler passes the clock jumps to
 * the next simulated event or the next scheduled tick (60 s, the EventBridge schedule),
 * whichever comes first; events make the reconciler run at once, as on AWS. With `pace`,
 * virtual time is paced against wall-clock time (`speed` virtual seconds per real second).
 */
import type { Catalog } from "../../core/catalog/types.ts";
import { SATURN_TAGS } from "../../core/cloud/cloud-port.ts";
import { type EngineHooks, ExecutionEngine, type RemainingWorkPlanner } from "../../core/engine/execution-engine.ts";
import type { QuotaTable } from "../../core/planner/api.ts";
import type { Plan } from "../../core/planner/plan.ts";
import { createExecutionRecord } from "../../core/reconciler/create-record.ts";
import type { Action, ExecutionRecord } from "../../core/reconciler/execution-record.ts";
import { instanceShapes, type ReconcileContext } from "../../core/reconciler/reconcile-context.ts";
import { DEFAULT_RECONCILER_RULES, type ReconcilerRules } from "../../core/reconciler/reconciler-rules.ts";
import type { Workload } from "../../core/spec/workload.ts";
import { defaultSimOptions } from "./default-sim-options.ts";
import type { SimCloudOptions } from "./sim-options.ts";
import { SimulatedCloud } from "./simulated-cloud.ts";

export interface SimPace {
  /** Virtual seconds per real second. */
  readonly speed: number;
  readonly sleep: (milliseconds: number) => Promise<void>;
}

export interface SimRunOptions {
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly plan: Plan;
  readonly planner: RemainingWorkPlanner;
  readonly quotas: QuotaTable;
  /** Multi-region workloads: every region's quotas (the reconciler gates launches per region). */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly sim?: Partial<SimCloudOptions>;
  readonly rules?: Partial<ReconcilerRules>;
  readonly pace?: SimPace;
  /** Called after every advance of the clock, for live views. */
  readonly onTick?: (tick: SimTick) => void;
  readonly onActions?: EngineHooks["onActions"];
  readonly crashBeforeSave?: EngineHooks["crashBeforeSave"];
  readonly crashAfterAction?: EngineHooks["crashAfterAction"];
  /** Cancel the workload this many virtual seconds after the start. */
  readonly cancelAfterSeconds?: number;
  /**
   * Safety net against a run that never ends: cancel after this many virtual seconds.
   * Default: ten times the plan's makespan plus a day.
   */
  readonly horizonSeconds?: number;
}

export interface SimTick {
  readonly now: number;
  readonly record: ExecutionRecord;
  readonly cloud: SimulatedCloud;
}

export interface SimRunResult {
  readonly record: ExecutionRecord;
  readonly cloud: SimulatedCloud;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly spendUsd: number;
  /** Last job completion (or the end of the run when not every job completed), from the start. */
  readonly makespanSeconds: number;
  readonly interruptions: number;
  readonly replans: number;
  readonly replansAdopted: number;
  /** Instances of the workload not in state `terminated` when the run returned. */
  readonly instancesLeftRunning: number;
  readonly passes: number;
  readonly crashedPasses: number;
  readonly actions: readonly { readonly at: number; readonly action: Action }[];
  /** True when the safety horizon, not the workload, ended the run. */
  readonly hitHorizon: boolean;
}

/** Passes at one instant before the clock must move on (each pass usually settles the next). */
const MAX_PASSES_PER_INSTANT = 8;
/** Wall-clock frame of the paced mode, ms. */
const FRAME_MS = 50;

export async function runOnSimulatedCloud(options: SimRunOptions): Promise<SimRunResult> {
  const simOptions = defaultSimOptions(options.workload, options.catalog, options.sim);
  const startedAt = 0;
  const cloud = new SimulatedCloud(options.catalog, simOptions, startedAt);
  const rules: ReconcilerRules = { ...DEFAULT_RECONCILER_RULES, ...options.rules };
  const context: ReconcileContext = {
    workload: options.workload,
    instanceTypes: instanceShapes(options.catalog),
    quotas: options.quotas,
    ...(options.quotasByRegion === undefined ? {} : { quotasByRegion: options.quotasByRegion }),
    rules,
  };
  const actionLog: { at: number; action: Action }[] = [];
  let crashedPasses = 0;
  const engine = new ExecutionEngine(
    { cloud, workers: cloud, planner: options.planner },
    context,
    createExecutionRecord(options.workload, options.plan, startedAt),
    {
      onActions: (actions, record, now) => {
        for (const action of actions) actionLog.push({ at: now, action });
        options.onActions?.(actions, record, now);
      },
      crashBeforeSave: (pass) => {
        const crash = options.crashBeforeSave?.(pass) ?? false;
        if (crash) crashedPasses++;
        return crash;
      },
      crashAfterAction: (action, pass) => {
        const crash = options.crashAfterAction?.(action, pass) ?? false;
        if (crash) crashedPasses++;
        return crash;
      },
    },
  );
  const horizon = options.horizonSeconds ?? 10 * options.plan.totals.makespanSeconds + 86_400;
  let passes = 0;
  let finished = false;
  let cancelled = false;
  let hitHorizon = false;
  let owedMs = 0;
  while (!finished) {
    const now = cloud.now();
    if (!cancelled && options.cancelAfterSeconds !== undefined && now - startedAt >= options.cancelAfterSeconds) {
      engine.cancel();
      cancelled = true;
    }
    if (!cancelled && now - startedAt >= horizon) {
      engine.cancel();
      cancelled = true;
      hitHorizon = true;
    }
    for (let k = 0; k < MAX_PASSES_PER_INSTANT && !finished; k++) {
      const result = await engine.runPass(now);
      passes++;
      finished = result.finished;
      if (!result.acted && !result.crashed) break;
    }
    if (finished) break;
    // Events run the reconciler at once; otherwise the schedule does, every tick.
    const next = Math.min(now + rules.tickSeconds, Math.max(now + 1e-3, cloud.nextEventTime()));
    if (options.pace !== undefined) {
      owedMs += ((next - now) / options.pace.speed) * 1000;
      if (owedMs >= FRAME_MS) {
        await options.pace.sleep(owedMs);
        owedMs = 0;
      }
    }
    cloud.advanceTo(next);
    options.onTick?.({ now: cloud.now(), record: engine.record, cloud });
  }
  const record = engine.record;
  const endedAt = cloud.now();
  const tags = { [SATURN_TAGS.workload]: record.workloadName };
  const instances = await cloud.describe(tags);
  const finishTimes = Object.values(record.jobs).map((job) => job.finishedAt ?? endedAt);
  const adopted = record.replans.filter((replan) => replan.adopted).length;
  return {
    record,
    cloud,
    startedAt,
    endedAt,
    spendUsd: cloud.spendAt(tags, endedAt),
    makespanSeconds: Math.max(0, ...finishTimes) - startedAt,
    interruptions: record.interruptedInstanceIds.length,
    replans: record.replans.length,
    replansAdopted: adopted,
    instancesLeftRunning: instances.filter((instance) => instance.state !== "terminated").length,
    passes,
    crashedPasses,
    actions: actionLog,
    hitHorizon,
  };
}
