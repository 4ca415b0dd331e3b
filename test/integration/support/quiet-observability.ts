/** Powertools logger and metrics that write nothing (the suite asserts on results, not on logs). */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Observability } from "../../../lambdas/handlers/observability.ts";

export function quietObservability(): Observability {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  return {
    logger: new Logger({ serviceName: "saturn-test", logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "SaturnTest", serviceName: "saturn-test" }),
  };
}
