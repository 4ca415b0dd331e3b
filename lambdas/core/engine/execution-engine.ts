/**
 * The loop around the pure reconciler: observe (cloud by tag, worker reports, launch
 * failures, spend) -> reconcile -> act (cloud, workers, planner) -> save the record. One
 * call of `runPass` is one reconciler run (one Lambda invocation on AWS). It reaches the
 * world only through ports, and owns no clock: the caller passes `now` in.
 */
import type { CloudPort } from "../cloud/cloud-port.ts";
import { SATURN_TAGS } from "../cloud/cloud-port.ts";
import { CapacityError, LaunchError, QuotaError } from "../cloud/launch-errors.ts";
import type { JobReport, WorkerPort } from "../cloud/worker-port.ts";
import type { QuotaTable } from "../planner/api.ts";
import type { Plan } from "../planner/plan.ts";
import { silentInstances, terminateSilent, withInstancesEnding } from "../reconciler/agent-silence.ts";
import { requestCancel } from "../reconciler/create-record.ts";
import { objectiveBudgetUsd } from "../reconciler/deadlines.ts";
import type {
  Action,
  ExecutionRecord,
  LaunchFailure,
  MeasuredThroughput,
  ObservedState,
  Offer,
  QuotaCut,
} from "../reconciler/execution-record.ts";
import { cutRegion } from "../reconciler/ingest.ts";
import { instancesBySlot, pendingAssignments } from "../reconciler/plan-view.ts";
import { type ProjectionInput, projectedJobEnd, projectedSpendUsd } from "../reconciler/projection.ts";
import { reconcile } from "../reconciler/reconcile.ts";
import type { ReconcileContext } from "../reconciler/reconcile-context.ts";
import {
  adoptPlan,
  bindInstances,
  decideAdoption,
  hedgeAllowanceUsd,
  keepPlan,
  lateReplanWorkloads,
  remainingWorkload,
} from "../reconciler/replanning.ts";
import { spentUsd, transferPrices } from "../reconciler/transfer-ledger.ts";
import type { Workload } from "../spec/workload.ts";

export interface ReplanRequestInput {
  readonly workload: Workload;
  /** Throughput measured so far; planners treat it as measured profiles that override estimates. */
  readonly measured: readonly MeasuredThroughput[];
  readonly excludedOffers: readonly Offer[];
  /** The home region's quotas, cuts applied. */
  readonly quotas: QuotaTable;
  /**
   * Every planning region's quotas with that region's cuts applied (EC2 quotas are per
   * region); planners take these over their own per-region table.
   */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
}

/** Plans remaining work (C1's `planWorkload` in production; a stub planner in property tests). */
export type RemainingWorkPlanner = (input: ReplanRequestInput) => Promise<Plan>;

export interface EnginePorts {
  readonly cloud: CloudPort;
  readonly workers: WorkerPort;
  readonly planner: RemainingWorkPlanner;
}

export interface EngineHooks {
  /** Called with every pass's actions after they were carried out. */
  readonly onActions?: (actions: readonly Action[], record: ExecutionRecord, now: number) => void;
  /** Fault injection: when it returns true, the pass "crashes" after acting and before saving the record. */
  readonly crashBeforeSave?: (pass: number) => boolean;
  /** Fault injection: when it returns true, the pass "crashes" right after carrying out this action. */
  readonly crashAfterAction?: (action: Action, pass: number) => boolean;
}

export interface PassResult {
  readonly actions: readonly Action[];
  readonly finished: boolean;
  readonly crashed: boolean;
  /** True when the pass changed something outside the record (the next pass may have more to do). */
  readonly acted: boolean;
  /** What the pass observed before it decided. */
  readonly observed: ObservedState;
}

/** Actions that change only the record (or nothing). */
const RECORD_ONLY: ReadonlySet<Action["kind"]> = new Set(["mark-done", "mark-failed", "stop-for-budget", "finish"]);

export class ExecutionEngine {
  readonly #ports: EnginePorts;
  readonly #context: ReconcileContext;
  readonly #hooks: EngineHooks;
  #record: ExecutionRecord;
  #launchFailures: LaunchFailure[] = [];
  #pass = 0;
  #cancelRequested = false;

  constructor(ports: EnginePorts, context: ReconcileContext, record: ExecutionRecord, hooks: EngineHooks = {}) {
    this.#ports = ports;
    this.#context = context;
    this.#record = record;
    this.#hooks = hooks;
  }

  /**
   * An engine for one pass of a driver that keeps nothing in memory between passes (a
   * Lambda): the stored record, and the launch failures the previous pass saw after it
   * observed (`pendingLaunchFailures`), which this pass ingests.
   */
  static resume(
    ports: EnginePorts,
    context: ReconcileContext,
    record: ExecutionRecord,
    hooks: EngineHooks = {},
  ): ExecutionEngine {
    const engine = new ExecutionEngine(ports, context, record, hooks);
    engine.#launchFailures = [...(record.pendingLaunchFailures ?? [])];
    return engine;
  }

  get record(): ExecutionRecord {
    return this.#record;
  }

  /** Launch failures seen by the last pass that no pass has ingested yet. */
  get pendingLaunchFailures(): readonly LaunchFailure[] {
    return this.#launchFailures;
  }

  /** Cancelling is a record change; the next pass tears everything down and keeps the records. */
  cancel(): void {
    this.#cancelRequested = true;
  }

  async observe(now: number): Promise<ObservedState> {
    const tags = { [SATURN_TAGS.workload]: this.#record.workloadName };
    const [instances, jobs, events, spendUsd] = await Promise.all([
      this.#ports.cloud.describe(tags),
      this.#ports.workers.reports(this.#context.workload.jobs.map((job) => job.id)),
      this.#ports.cloud.drainEvents(),
      this.#ports.cloud.spendUsd(tags),
    ]);
    const heardFrom = this.#ports.workers.lastHeardFrom?.();
    return {
      now,
      instances,
      jobs,
      events,
      spendUsd,
      launchFailures: [...this.#launchFailures],
      ...(heardFrom === undefined ? {} : { heardFrom }),
    };
  }

  async runPass(now: number): Promise<PassResult> {
    this.#pass++;
    const seen = await this.observe(now);
    // Instances whose agent never reported (or went silent) end now; the pass decides as if
    // they were already on their way out (agent-silence.ts).
    const silent = silentInstances(seen, this.#context.rules);
    const observed = withInstancesEnding(seen, new Set(silent.map((s) => s.instanceId)));
    const base = this.#cancelRequested ? requestCancel(this.#record) : this.#record;
    const decided = reconcile(base, observed, this.#context);
    const ending = terminateSilent(silent);
    const result = ending === undefined ? decided : { ...decided, actions: [ending, ...decided.actions] };
    let next = result.record;
    let acted = false;
    // An action's error fails the pass (nothing is saved; the next pass observes again), but
    // the pass's terminates still run: an error elsewhere must not keep instances alive
    // that the reconciler already decided to end. Other actions after the error are skipped.
    let failure: { readonly error: unknown } | undefined;
    for (const action of result.actions) {
      if (action.kind === "replan" || RECORD_ONLY.has(action.kind)) continue;
      if (failure !== undefined && action.kind !== "terminate") continue;
      try {
        await this.#act(action, now);
      } catch (error) {
        failure ??= { error };
        continue;
      }
      acted = true;
      if (this.#hooks.crashAfterAction?.(action, this.#pass)) {
        return { actions: result.actions, finished: false, crashed: true, acted, observed };
      }
    }
    if (failure !== undefined) throw failure.error;
    if (result.actions.some((action) => action.kind === "replan")) {
      next = await this.#replan(next, observed);
      acted = true;
    }
    this.#hooks.onActions?.(result.actions, next, now);
    if (this.#hooks.crashBeforeSave?.(this.#pass)) {
      return { actions: result.actions, finished: false, crashed: true, acted, observed };
    }
    // Compare-and-set: the record moves on only from the version this pass read.
    if (next.version !== this.#record.version) {
      throw new Error(`Expected record version ${this.#record.version}, got ${next.version}: a concurrent writer`);
    }
    this.#record = { ...next, version: next.version + 1 };
    const ingested = new Set(observed.launchFailures.map((failure) => failure.clientToken));
    this.#launchFailures = this.#launchFailures.filter((failure) => !ingested.has(failure.clientToken));
    const finished = result.actions.some((action) => action.kind === "finish");
    return { actions: result.actions, finished, crashed: false, acted, observed };
  }

  async #act(action: Action, now: number): Promise<void> {
    const { cloud, workers } = this.#ports;
    switch (action.kind) {
      case "launch":
        try {
          await cloud.launch(action.request);
        } catch (error) {
          if (!(error instanceof LaunchError)) throw error;
          this.#launchFailures.push({
            clientToken: action.request.clientToken,
            kind: error instanceof CapacityError ? "capacity" : error instanceof QuotaError ? "quota" : "other",
            code: error.details.code,
            instanceType: action.request.instanceType,
            market: action.request.market,
            ...(action.request.region === undefined ? {} : { region: action.request.region }),
            availabilityZone: action.request.availabilityZone,
            at: now,
          });
        }
        return;
      case "tag":
        return cloud.tag(action.instanceId, action.tags);
      case "assign":
        return workers.startJob(action.request);
      case "checkpoint-and-requeue":
        return workers.checkpointAndStop(action.jobId, action.attemptId);
      case "terminate":
        return this.#shutDownAndTerminate(action.instanceIds);
      default:
        return;
    }
  }

  /**
   * Shutdown orders first, then the terminate. The terminate runs even when the orders
   * could not be written (money first); the orders' error then fails the pass, so the next
   * pass (or the sweeper) sees what is left.
   */
  async #shutDownAndTerminate(instanceIds: readonly string[]): Promise<void> {
    const { cloud, workers } = this.#ports;
    let ordersError: unknown;
    if (workers.shutdown !== undefined) {
      try {
        await workers.shutdown(instanceIds);
      } catch (error) {
        ordersError = error;
      }
    }
    await cloud.terminate(instanceIds);
    if (ordersError !== undefined) throw ordersError;
  }

  async #replan(record: ExecutionRecord, observed: ObservedState): Promise<ExecutionRecord> {
    const request = record.replanRequest;
    if (request === undefined) return record;
    const { now } = observed;
    const context = this.#context;
    const reports = new Map(observed.jobs.map((report) => [report.jobId, report]));
    // The budget left is net of the inter-region transfer already charged, not only the cloud's bill.
    const spent = spentUsd(record, observed.spendUsd);
    const remaining = remainingWorkload(context.workload, record, reports, now, spent);
    const { quotas, quotasByRegion } = effectiveRegionQuotas(context, record.quotaCuts);
    const input = { excludedOffers: record.excludedOffers, quotas, quotasByRegion, measured: record.measured };
    let plan: Plan;
    let relaxedNote = "";
    try {
      plan = await this.#ports.planner({ ...input, workload: remaining });
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      if (!request.broken) return keepPlan(record, now, `no better plan: ${message}`);
      if (objectiveBudgetUsd(record.objective) !== undefined && record.objective.kind !== "min-cost") {
        // The plan cannot go on as written and nothing else fits the money left: stop cleanly.
        return {
          ...keepPlan(record, now, `no plan within the remaining budget: ${message}`),
          status: "stopped-for-budget",
          statusReason: `after "${request.reason}" no plan finishes the remaining work within the budget ($${spent.toFixed(2)} spent): ${message}`,
        };
      }
      // The deadline can no longer be met: finish the remaining work late, within the money
      // approved (lateReplanWorkloads says how), never with an open-ended budget.
      const currentCost = currentRemaining(record, observed, reports, context).costUsd;
      let found: Plan | undefined;
      let detail = "";
      for (const fallback of lateReplanWorkloads(remaining, record, spent, currentCost)) {
        try {
          found = await this.#ports.planner({ ...input, workload: fallback.workload });
          relaxedNote = `deadline can no longer be met (${message}); ${fallback.note}. `;
          break;
        } catch (relaxedError) {
          detail = relaxedError instanceof Error ? (relaxedError.message.split("\n")[0] ?? "") : String(relaxedError);
        }
      }
      if (found === undefined) {
        return {
          ...keepPlan(record, now, `no plan finishes the remaining work: ${detail}`),
          status: "failed",
          statusReason: `re-plan after "${request.reason}" found no plan for the remaining work: ${detail}`,
        };
      }
      plan = found;
    }
    const current = currentRemaining(record, observed, reports, context);
    const decision = decideAdoption(
      request,
      record.objective,
      current,
      plan,
      context.rules.adoptionThreshold,
      hedgeAllowanceUsd(record, spent, current.costUsd),
    );
    if (!decision.adopt) return keepPlan(record, now, decision.detail);
    const bindings = bindInstances(plan, observed.instances, reports, context.workload.planner.bootMinutes * 60);
    const adopted = adoptPlan(record, plan, bindings, now, relaxedNote + decision.detail);
    return relaxedNote === "" ? adopted : { ...adopted, deadlineLost: true };
  }
}

/**
 * The quotas of the home region and of every planning region, each with the cuts learned in
 * that region applied (a cut holds only where EC2 refused the launch).
 */
export function effectiveRegionQuotas(
  context: Pick<ReconcileContext, "workload" | "quotas" | "quotasByRegion">,
  cuts: readonly QuotaCut[],
): { quotas: QuotaTable; quotasByRegion: Readonly<Record<string, QuotaTable>> } {
  const home = context.workload.region;
  const quotasByRegion: Record<string, QuotaTable> = {};
  for (const region of new Set([home, ...context.workload.regions, ...Object.keys(context.quotasByRegion ?? {})])) {
    const base = context.quotasByRegion?.[region] ?? context.quotas;
    quotasByRegion[region] = effectiveQuotas(
      base,
      cuts.filter((cut) => cutRegion(cut, home) === region),
    );
  }
  return { quotas: quotasByRegion[home] as QuotaTable, quotasByRegion };
}

/** A quota table with the cuts learned from VcpuLimitExceeded applied (cuts of one region). */
export function effectiveQuotas(quotas: QuotaTable, cuts: readonly QuotaCut[]): QuotaTable {
  const table: Record<string, Record<string, number>> = {};
  for (const [group, markets] of Object.entries(quotas)) table[group] = { ...markets };
  for (const cut of cuts) {
    const markets = table[cut.group] ?? {};
    markets[cut.market] = Math.min(markets[cut.market] ?? cut.vcpus, cut.vcpus);
    table[cut.group] = markets;
  }
  return table as unknown as QuotaTable;
}

function currentRemaining(
  record: ExecutionRecord,
  observed: ObservedState,
  reports: ReadonlyMap<string, JobReport>,
  context: ReconcileContext,
): { costUsd: number; makespanSeconds: number } {
  const projection: ProjectionInput = {
    record,
    now: observed.now,
    instances: observed.instances,
    bySlot: instancesBySlot(record, observed.instances),
    reports,
    totalSamples: new Map(context.workload.jobs.map((job) => [job.id, job.totalSamples])),
    bootSeconds: context.workload.planner.bootMinutes * 60,
    transferPrices: transferPrices(context.workload),
  };
  const spent = spentUsd(record, observed.spendUsd);
  const cost = projectedSpendUsd(projection, spent, context.rules.terminationSeconds) - spent;
  const ends = pendingAssignments(record).map((assignment) => projectedJobEnd(projection, assignment));
  return { costUsd: cost, makespanSeconds: Math.max(0, ...ends.map((end) => end - observed.now)) };
}
