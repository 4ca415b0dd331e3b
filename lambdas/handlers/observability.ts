/**
 * Powertools logger and metrics of one function. Every log line of a request that concerns
 * a workload carries `workloadId` (appended per request or record, reset after each by
 * the middleware); metrics go out as CloudWatch embedded metric format under `Saturn`.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

export const METRICS_NAMESPACE = "Saturn";

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function observability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
  };
}

/** Runs `work` with `workloadId` on every log line it writes, and removes it afterwards. */
export async function withWorkloadId<T>(logger: Logger, workloadId: string, work: () => Promise<T>): Promise<T> {
  logger.appendKeys({ workloadId });
  try {
    return await work();
  } finally {
    logger.removeKeys(["workloadId"]);
  }
}
