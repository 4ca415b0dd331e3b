/**
 * The EC2-event function (EventBridge rules): spot interruption warnings, rebalance
 * recommendations and instance state changes. Each one for a Saturn instance is recorded
 * for its workload and prompts a reconcile pass; anything else is logged and dropped
 * (an error would only make EventBridge retry an event that can never parse).
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { EventBridgeEvent } from "aws-lambda";
import { parseEc2Notice } from "../core/cloud/eventbridge-ec2-event.ts";
import { type CloudEventDeps, takeEc2Notice } from "../core/control-plane/cloud-event-intake.ts";
import { ec2EventsRuntime } from "./composition-root.ts";
import { type Observability, observability, withWorkloadId } from "./observability.ts";

export function createEc2EventsHandler(runtime: () => CloudEventDeps, { logger, metrics }: Observability) {
  const handle = async (event: EventBridgeEvent<string, unknown>): Promise<{ workloadId: string | null }> => {
    metrics.addMetric("Ec2EventsReceived", MetricUnit.Count, 1);
    const notice = parseEc2Notice(event);
    if (typeof notice === "string") {
      logger.warn("not an EC2 event this function handles; dropped", { reason: notice });
      return { workloadId: null };
    }
    const workloadId = await takeEc2Notice(runtime(), notice);
    if (workloadId === undefined) {
      logger.info("event for an instance Saturn did not launch; dropped", { instanceId: notice.instanceId });
      return { workloadId: null };
    }
    await withWorkloadId(logger, workloadId, async () => {
      metrics.addMetric("Ec2Events", MetricUnit.Count, 1);
      logger.info("EC2 event recorded", { kind: notice.kind, instanceId: notice.instanceId, state: notice.state });
    });
    return { workloadId };
  };
  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createEc2EventsHandler(ec2EventsRuntime, observability("saturn-ec2-events"));
