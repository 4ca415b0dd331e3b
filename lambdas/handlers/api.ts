/**
 * The API function: every REST route (see api-routes.ts). middy normalises headers,
 * Powertools injects the Lambda context into the logger and flushes metrics; errors map
 * to HTTP in one place (http-errors.ts).
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { type ApiRuntime, matchRoute, routeApiRequest } from "./api-routes.ts";
import { apiRuntime } from "./composition-root.ts";
import { errorResponse, jsonResponse } from "./http-errors.ts";
import { type Observability, observability } from "./observability.ts";

export function createApiHandler(runtime: () => ApiRuntime, { logger, metrics }: Observability) {
  const handle = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const matched = matchRoute(event);
      if (matched.workloadId !== undefined) logger.appendKeys({ workloadId: matched.workloadId });
      const response = await routeApiRequest(runtime(), event, matched);
      if (matched.route === "submit" && response.statusCode === 201) {
        logger.appendKeys({ workloadId: (JSON.parse(response.body) as { id: string }).id });
        metrics.addMetric("WorkloadsSubmitted", MetricUnit.Count, 1);
      }
      logger.info("request answered", { route: matched.route, statusCode: response.statusCode });
      return response;
    } catch (error) {
      const mapped = errorResponse(error);
      if (mapped !== undefined) {
        logger.info("request refused", { statusCode: mapped.statusCode, reason: (error as Error).message });
        metrics.addMetric(`Http${mapped.statusCode}`, MetricUnit.Count, 1);
        return mapped;
      }
      logger.error("request failed", error as Error);
      metrics.addMetric("Http500", MetricUnit.Count, 1);
      return jsonResponse(500, { message: "internal error; the function's log has the details" });
    }
  };
  return middy(handle)
    .use(httpHeaderNormalizer())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

export const handler = createApiHandler(apiRuntime, observability("saturn-api"));
