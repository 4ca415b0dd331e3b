/**
 * The planner function: one plan request per SQS record (from submit). Plans with HiGHS
 * under the spec's time limit and stores plan v1; the workload then waits in `planned`.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type PlanDeps, planSubmittedWorkload } from "../core/control-plane/plan-submitted-workload.ts";
import { plannerRuntime } from "./composition-root.ts";
import { parseControlMessage } from "./control-message.ts";
import { type Observability, observability, withWorkloadId } from "./observability.ts";
import { eachRecord } from "./sqs-records.ts";

export interface PlannerRuntime extends PlanDeps {
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
}

export function createPlannerHandler(runtime: () => PlannerRuntime, { logger, metrics }: Observability) {
  const handle = (event: SQSEvent): Promise<SQSBatchResponse> =>
    eachRecord(event, logger, async (record) => {
      const message = parseControlMessage(record.body);
      if (typeof message === "string") throw new Error(`malformed plan request: ${message}`);
      await withWorkloadId(logger, message.workloadId, async () => {
        const deps = runtime();
        const outcome = await planSubmittedWorkload(deps, message.workloadId, new Date(deps.clock()).toISOString());
        if (outcome.kind === "skipped") {
          logger.info("plan request skipped", { reason: outcome.reason });
          return;
        }
        metrics.addMetric(outcome.kind === "planned" ? "WorkloadsPlanned" : "WorkloadsInfeasible", MetricUnit.Count, 1);
        logger.info(`workload ${outcome.kind}`, { statusReason: outcome.record.statusReason });
      });
    });
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createPlannerHandler(plannerRuntime, observability("saturn-planner"));
