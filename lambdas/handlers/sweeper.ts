/**
 * The sweeper function (hourly schedule): terminates every Saturn-tagged instance whose
 * workload is final, unknown or never approved, or whose heartbeats stopped
 * (core/control-plane/sweep.ts). Each termination is logged with its workload and reason.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { runSweep, type SweepDecision, type SweepDeps } from "../core/control-plane/sweep.ts";
import { sweeperRuntime } from "./composition-root.ts";
import { type Observability, observability } from "./observability.ts";

export interface SweeperRuntime extends SweepDeps {
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  readonly heartbeatTimeoutSeconds: number;
}

export function createSweeperHandler(runtime: () => SweeperRuntime, { logger, metrics }: Observability) {
  const handle = async (): Promise<{ terminated: readonly SweepDecision[] }> => {
    // First, so that a sweep that fails still emits a metric (logMetrics flushes on error).
    metrics.addMetric("SweeperRuns", MetricUnit.Count, 1);
    const deps = runtime();
    const terminated = await runSweep(deps, {
      now: deps.clock() / 1000,
      heartbeatTimeoutSeconds: deps.heartbeatTimeoutSeconds,
    });
    for (const decision of terminated) {
      logger.warn("sweeper terminated an instance", { ...decision, workloadId: decision.workloadId ?? "unknown" });
    }
    metrics.addMetric("SweptInstances", MetricUnit.Count, terminated.length);
    return { terminated };
  };
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createSweeperHandler(sweeperRuntime, observability("saturn-sweeper"));
