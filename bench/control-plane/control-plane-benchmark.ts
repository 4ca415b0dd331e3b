/**
 * `npm run bench -- --only control-plane`: workloads through the local stack (moto, the
 * deployed stack, the real handlers in-process, simulated agents) in virtual time, with
 * every control-plane SDK request metered. Per workload: reconcile pass time, DynamoDB
 * items and bytes per pass, Lambda invocations and GB-seconds, SQS and EventBridge
 * requests, all per workload-hour and priced at list prices; passes from a spot
 * interruption warning to the checkpoint order, and from the last job's completion to the
 * last terminate call. Pass times are wall-clock times of the handler in this process
 * against moto, not Lambda's; request counts are what the same code sends to AWS.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import type { LogItemExtraInput, LogItemMessage } from "@aws-lambda-powertools/logger/types";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { SaturnApiClient } from "../../cli/api/saturn-api-client.ts";
import { WorkloadApi } from "../../cli/api/workload-api.ts";
import { LocalStack } from "../../cli/local/local-stack.ts";
import { CONTROL_PLANE_PRICES as P } from "./control-plane-prices.ts";
import { difference, type MeterCounts, RequestMeter } from "./request-meter.ts";

export interface ControlPlaneCase {
  readonly name: string;
  readonly jobs: number;
  readonly specText: string;
}

/** Memory of each function in the stack (cdk/saturn-stack.ts), MB. */
const FUNCTION_MEMORY_MB: Readonly<Record<string, number>> = {
  api: 1024,
  planner: 3008,
  reconciler: 2048,
  "worker-events": 1024,
  "ec2-events": 512,
  sweeper: 512,
};

/**
 * A silent logger that hands every warning and error line to `sink`: the handlers catch a
 * failed pass and only log it, so this is where the benchmark finds failed passes (their
 * message, error and stack) without printing the handlers' info lines.
 */
type LogSink = (level: "warn" | "error", message: LogItemMessage, extra: LogItemExtraInput) => void;

class RecordingLogger extends Logger {
  readonly #sink: LogSink;
  constructor(serviceName: string, sink: LogSink) {
    super({ serviceName, logLevel: "SILENT" });
    this.#sink = sink;
  }
  override error(input: LogItemMessage, ...extraInput: LogItemExtraInput): void {
    this.#sink("error", input, extraInput);
    super.error(input, ...extraInput);
  }
  override warn(input: LogItemMessage, ...extraInput: LogItemExtraInput): void {
    this.#sink("warn", input, extraInput);
    super.warn(input, ...extraInput);
  }
}

function describeExtra(extra: LogItemExtraInput): string {
  return extra
    .map((item) =>
      item instanceof Error
        ? `${item.stack ?? `${item.name}: ${item.message}`}${item.cause === undefined ? "" : `\n  cause: ${item.cause instanceof Error ? (item.cause.stack ?? item.cause.message) : JSON.stringify(item.cause)}`}`
        : JSON.stringify(item),
    )
    .join("\n");
}

interface Invocation {
  readonly fn: string;
  readonly ms: number;
  readonly delta: MeterCounts;
  readonly at: number;
}

export interface ControlPlaneResult {
  readonly name: string;
  readonly jobs: number;
  readonly status: string;
  readonly workloadHours: number;
  readonly gpuSpendUsd: number;
  readonly plannedCostUsd: number;
  readonly plannedInstances: number;
  readonly plannedMakespanHours: number;
  readonly passes: number;
  readonly passMedianMs: number;
  readonly passP95Ms: number;
  readonly dynamoPerPass: { itemsRead: number; itemsWritten: number; kbRead: number; kbWritten: number };
  readonly lambdaInvocationsPerHour: number;
  readonly lambdaGbSecondsPerHour: number;
  readonly sqsRequestsPerHour: number;
  readonly eventBridgeEventsPerHour: number;
  readonly costPerHourUsd: number;
  readonly shareOfGpuSpend: number;
  /** Wall time of the case on this machine, submit to the last teardown step. */
  readonly wallSeconds: number;
  readonly interruptionToCheckpointPasses: number | null;
  readonly completionToLastTerminatePasses: number | null;
  /** Reconcile passes that threw (each logged with its stack to the case's log file). */
  readonly failedPasses: number;
  /** Re-plans adopted / asked for (the execution record's history). */
  readonly replansAdopted: number;
  readonly replansAsked: number;
  /** Launch actions in the audit trail (one per instance asked for). */
  readonly launches: number;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? 0;
}

export async function runControlPlaneBenchmark(options: {
  readonly cases: readonly ControlPlaneCase[];
  readonly stepSeconds?: number;
  readonly maxVirtualHours?: number;
  readonly onProgress?: (line: string) => void;
  /** Called with the results so far after each case (the doc is written as cases finish). */
  readonly onCase?: (results: readonly ControlPlaneResult[]) => void;
  /**
   * Folder for each case's log of warnings and errors (`control-plane-<case>.log`, failed
   * passes with their stacks) and its trail (`control-plane-<case>-trail.json`: the audit
   * trail, re-plans, final jobs and instances). Default: none written.
   */
  readonly logDir?: string;
}): Promise<ControlPlaneResult[]> {
  const say = options.onProgress ?? (() => {});
  let logFile: string | undefined;
  let failedPasses = 0;
  const sink =
    (fn: string): LogSink =>
    (level, message, extra) => {
      const text = typeof message === "string" ? message : JSON.stringify(message);
      if (fn === "reconciler" && level === "error" && text.startsWith("reconcile pass failed")) failedPasses++;
      if (logFile === undefined) return;
      const at = clockSeconds();
      appendFileSync(
        logFile,
        `[${new Date(at * 1000).toISOString()} virtual] ${fn} ${level}: ${text}${extra.length > 0 ? `\n${describeExtra(extra)}` : ""}\n`,
      );
    };
  if (options.logDir !== undefined) mkdirSync(options.logDir, { recursive: true });
  const step = options.stepSeconds ?? 60;
  const meter = new RequestMeter();
  const invocations: Invocation[] = [];
  let clockSeconds = () => 0;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const stack = await LocalStack.start({
    seed: 7,
    requestHandler: meter.handler,
    log: say,
    observability: (name) => ({
      logger: new RecordingLogger(`bench-${name}`, sink(name)),
      metrics: new Metrics({ namespace: "SaturnBench", serviceName: `bench-${name}` }),
    }),
    around: async (fn, invoke) => {
      const before = meter.snapshot();
      const started = performance.now();
      try {
        return await invoke();
      } finally {
        invocations.push({
          fn,
          ms: performance.now() - started,
          delta: difference(meter.snapshot(), before),
          at: clockSeconds(),
        });
      }
    },
  });
  clockSeconds = stack.clock.nowSeconds;
  const api = new WorkloadApi(
    new SaturnApiClient({
      endpoint: { url: new URL(stack.apiUrl), region: "us-east-1", source: "--api" },
      credentials: stack.user,
    }),
  );
  const results: ControlPlaneResult[] = [];
  try {
    for (const testCase of options.cases) {
      invocations.length = 0;
      failedPasses = 0;
      if (options.logDir !== undefined) {
        logFile = join(options.logDir, `control-plane-${testCase.name}.log`);
        writeFileSync(logFile, "");
      }
      const agentSendsBefore = [...stack.agents.sent.values()].reduce((a, b) => a + b, 0);
      const triggerBefore = stack.triggerSqsRequests;
      const rulesBefore = stack.eventBridgeEvents;
      say(`${testCase.name}: submitting ${testCase.jobs} jobs`);
      const wallStarted = performance.now();
      const submitted = await api.submit(testCase.specText, randomUUID());
      let detail = await api.get(submitted.id);
      for (let k = 0; k < 200 && detail.status === "planning"; k++) {
        await stack.step(1);
        detail = await api.get(submitted.id);
      }
      if (detail.status !== "planned")
        throw new Error(`${testCase.name} ended ${detail.status}: ${detail.statusReason}`);
      // The view's plan totals (GET /workloads/{id}/plan would carry the planner's whole
      // considered report, hundreds of MB at 1,000 jobs, for nothing the benchmark reads).
      const plan = detail.plan;
      if (plan === null) throw new Error(`${testCase.name} is planned but its view has no plan`);
      await api.approve(submitted.id);
      const startedAt = stack.clock.nowSeconds();
      say(
        `${testCase.name}: approved; plan $${plan.expectedCostUsd.toFixed(2)}, ${(plan.makespanSeconds / 3600).toFixed(1)} h on ${plan.instances} instances`,
      );
      let interruptedAt: number | undefined;
      // A run that has not ended by twice its planned makespan plus an hour is reported as it stands.
      const limit = startedAt + (options.maxVirtualHours ?? 2 * (plan.makespanSeconds / 3600) + 1) * 3600;
      let steps = 0;
      while (stack.clock.nowSeconds() < limit) {
        await stack.step(step);
        steps++;
        // One interruption, an hour in, on a spot instance if the plan has one.
        if (interruptedAt === undefined && stack.clock.nowSeconds() - startedAt >= 3600) {
          const spot = stack.agents.spotInstanceIds()[0];
          if (spot !== undefined && stack.agents.interruptNow(spot)) interruptedAt = stack.clock.nowSeconds();
          else interruptedAt = Number.NaN;
        }
        if (steps % 10 === 0) {
          detail = await api.get(submitted.id);
          say(
            `${testCase.name}: t = ${((stack.clock.nowSeconds() - startedAt) / 3600).toFixed(1)} h (wall ${((performance.now() - wallStarted) / 1000).toFixed(0)} s), ${detail.status}, ${detail.jobs.filter((j) => j.status === "done").length}/${detail.jobs.length} done, ${detail.instances.length} instances, $${detail.spend.spentUsd.toFixed(2)} spent, ${failedPasses} failed passes`,
          );
          if (["completed", "failed", "cancelled", "stopped-for-budget"].includes(detail.status)) break;
        }
      }
      for (let k = 0; k < 5; k++) await stack.step(step); // teardown passes and the last events
      detail = await api.get(submitted.id);
      const hours = Math.max(1e-9, (stack.clock.nowSeconds() - startedAt) / 3600);
      const passes = invocations.filter((i) => i.fn === "reconciler");
      const sum = (pick: (d: MeterCounts) => number) => passes.reduce((s, i) => s + pick(i.delta), 0);
      const all = (pick: (d: MeterCounts) => number) => invocations.reduce((s, i) => s + pick(i.delta), 0);
      const count = (prefix: string) =>
        all((d) =>
          Object.entries(d.requests)
            .filter(([k]) => k.startsWith(prefix))
            .reduce((s, [, n]) => s + n, 0),
        );
      const gbSeconds = invocations.reduce(
        (s, i) => s + (i.ms / 1000) * ((FUNCTION_MEMORY_MB[i.fn] ?? 1024) / 1024),
        0,
      );
      const agentSends = [...stack.agents.sent.values()].reduce((a, b) => a + b, 0) - agentSendsBefore;
      const sqsRequests = count("sqs:") + (stack.triggerSqsRequests - triggerBefore) + agentSends;
      const events = stack.eventBridgeEvents - rulesBefore;
      const writeUnits = all((d) => d.dynamoItemsWritten) + all((d) => d.dynamoBytesWritten) / 1024;
      const readUnits = all((d) => d.dynamoItemsRead) + all((d) => d.dynamoBytesRead) / 4096;
      const apiCalls = invocations.filter((i) => i.fn === "api").length;
      const cost =
        invocations.length * P.lambdaPerRequestUsd +
        gbSeconds * P.lambdaPerGbSecondUsd +
        writeUnits * P.dynamoPerWriteUnitUsd +
        readUnits * P.dynamoPerReadUnitUsd +
        sqsRequests * P.sqsFifoPerRequestUsd +
        events * P.eventBridgePerEventUsd +
        apiCalls * P.apiGatewayPerRequestUsd +
        count("s3:PutObject") * P.s3PerPutUsd +
        count("s3:GetObject") * P.s3PerGetUsd;
      const checkpointPass =
        interruptedAt === undefined || Number.isNaN(interruptedAt)
          ? -1
          : passes.findIndex((i) => i.at >= interruptedAt && (i.delta.requests["s3:PutObject"] ?? 0) > 0);
      const beforeCheckpoint =
        checkpointPass < 0
          ? null
          : passes.slice(0, checkpointPass + 1).filter((i) => i.at >= (interruptedAt ?? 0)).length;
      const lastTerminate = passes.map((i) => (i.delta.requests["ec2:TerminateInstances"] ?? 0) > 0).lastIndexOf(true);
      // The pass that ingests the last completion runs at the step after the agent finished.
      const lastCompletionAt = stack.agents.lastCompletedAt;
      const afterCompletion =
        lastTerminate < 0 || Number.isNaN(lastCompletionAt)
          ? null
          : passes.slice(0, lastTerminate + 1).filter((i) => i.at >= lastCompletionAt).length;
      const record = (await stack.store.getExecution(submitted.id))?.record;
      const audit = await stack.store.audit(submitted.id);
      if (options.logDir !== undefined) {
        writeFileSync(
          join(options.logDir, `control-plane-${testCase.name}-trail.json`),
          JSON.stringify(
            {
              workloadId: submitted.id,
              status: detail.status,
              startedAt,
              plan,
              spend: detail.spend,
              replans: record?.replans ?? [],
              jobs: record === undefined ? {} : countBy(Object.values(record.jobs).map((job) => job.status)),
              instances: record?.observation?.instances ?? [],
              audit: audit.map((entry) => ({
                ...entry,
                virtualHours: (Date.parse(entry.at) / 1000 - startedAt) / 3600,
              })),
            },
            null,
            1,
          ),
        );
      }
      results.push({
        name: testCase.name,
        jobs: testCase.jobs,
        status: detail.status,
        workloadHours: hours,
        gpuSpendUsd: detail.spend.spentUsd,
        plannedCostUsd: plan.expectedCostUsd,
        plannedInstances: plan.instances,
        plannedMakespanHours: plan.makespanSeconds / 3600,
        passes: passes.length,
        passMedianMs: percentile(
          passes.map((i) => i.ms),
          0.5,
        ),
        passP95Ms: percentile(
          passes.map((i) => i.ms),
          0.95,
        ),
        dynamoPerPass: {
          itemsRead: sum((d) => d.dynamoItemsRead) / Math.max(1, passes.length),
          itemsWritten: sum((d) => d.dynamoItemsWritten) / Math.max(1, passes.length),
          kbRead: sum((d) => d.dynamoBytesRead) / 1024 / Math.max(1, passes.length),
          kbWritten: sum((d) => d.dynamoBytesWritten) / 1024 / Math.max(1, passes.length),
        },
        lambdaInvocationsPerHour: invocations.length / hours,
        lambdaGbSecondsPerHour: gbSeconds / hours,
        sqsRequestsPerHour: sqsRequests / hours,
        eventBridgeEventsPerHour: events / hours,
        costPerHourUsd: cost / hours,
        shareOfGpuSpend: detail.spend.spentUsd > 0 ? cost / detail.spend.spentUsd : 0,
        wallSeconds: (performance.now() - wallStarted) / 1000,
        interruptionToCheckpointPasses: beforeCheckpoint,
        completionToLastTerminatePasses: afterCompletion,
        failedPasses,
        replansAdopted: (record?.replans ?? []).filter((r) => r.adopted).length,
        replansAsked: (record?.replans ?? []).length,
        launches: audit.filter((entry) => entry.kind === "launch").length,
      });
      say(`${testCase.name}: ${detail.status} after ${hours.toFixed(1)} virtual h, ${passes.length} passes`);
      options.onCase?.(results);
    }
  } finally {
    await stack.stop();
  }
  return results;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

export function renderControlPlaneMarkdown(results: readonly ControlPlaneResult[], header: string): string {
  const rows = results.map((r) =>
    [
      `${r.name} (${r.jobs} jobs)`,
      String(r.plannedInstances),
      r.status,
      r.workloadHours.toFixed(1),
      r.wallSeconds.toFixed(0),
      String(r.passes),
      `${r.passMedianMs.toFixed(0)} / ${r.passP95Ms.toFixed(0)}`,
      `${r.dynamoPerPass.itemsRead.toFixed(1)} / ${r.dynamoPerPass.itemsWritten.toFixed(1)}`,
      `${r.dynamoPerPass.kbRead.toFixed(1)} / ${r.dynamoPerPass.kbWritten.toFixed(1)}`,
      `${r.lambdaInvocationsPerHour.toFixed(0)} / ${r.lambdaGbSecondsPerHour.toFixed(1)}`,
      r.sqsRequestsPerHour.toFixed(0),
      r.eventBridgeEventsPerHour.toFixed(0),
      `$${r.costPerHourUsd.toFixed(4)}`,
      `$${r.gpuSpendUsd.toFixed(2)} (plan $${r.plannedCostUsd.toFixed(2)}, ${(r.gpuSpendUsd / Math.max(1e-9, r.plannedCostUsd)).toFixed(2)}x)`,
      `${r.launches} / ${r.replansAdopted} of ${r.replansAsked} / ${r.failedPasses}`,
      `${(r.shareOfGpuSpend * 100).toFixed(3)}%`,
      r.interruptionToCheckpointPasses === null ? "n/a" : String(r.interruptionToCheckpointPasses),
      r.completionToLastTerminatePasses === null ? "n/a" : String(r.completionToLastTerminatePasses),
    ].join(" | "),
  );
  return [
    header,
    "",
    "| workload | planned instances | end | virtual h | wall s | passes | pass ms median / p95 | DynamoDB items read / written per pass | KB read / written per pass | Lambda invocations / GB-s per workload-hour | SQS requests per workload-hour | EventBridge events per workload-hour | control plane $ per workload-hour | GPU spend (plan, ratio) | launches / re-plans adopted of asked / failed passes | control plane share of GPU spend | passes: spot warning to checkpoint order | passes: last completion to last terminate |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((row) => `| ${row} |`),
    "",
    "Pass times are wall-clock milliseconds of the reconciler handler in-process against moto on this machine (not Lambda's); request counts are what the same code sends to AWS, metered at the SDK's HTTP layer. GB-seconds = handler time x the stack's function memory. DynamoDB units: one write unit per item plus one per KB, one read unit per item plus one per 4 KB (an upper bound on on-demand units). SQS counts the control plane's requests, the worker agents' sends and the event source mappings' non-empty receives and deletes (empty long polls of the mappings are not counted), all at the FIFO price. Prices: bench/control-plane/control-plane-prices.ts (us-east-1 list prices, with their pages).",
  ].join("\n");
}
