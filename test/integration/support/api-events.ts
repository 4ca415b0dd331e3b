/** API Gateway (REST, Lambda proxy) events as the deployed API would send them to the api function. */
import type { APIGatewayProxyEvent, Context } from "aws-lambda";

export const ALICE = "arn:aws:iam::123456789012:user/alice";
export const MALLORY = "arn:aws:iam::123456789012:user/mallory";
export const ADMIN_ROLE = "arn:aws:iam::123456789012:role/SaturnAdmin";
export const ADMIN_SESSION = "arn:aws:sts::123456789012:assumed-role/SaturnAdmin/ops";

const RESOURCES: readonly [RegExp, string][] = [
  [/^\/workloads$/, "/workloads"],
  [/^\/workloads\/[^/]+$/, "/workloads/{id}"],
  [/^\/workloads\/[^/]+\/plan$/, "/workloads/{id}/plan"],
  [/^\/workloads\/[^/]+\/approve$/, "/workloads/{id}/approve"],
  [/^\/workloads\/[^/]+\/cancel$/, "/workloads/{id}/cancel"],
  [/^\/catalog$/, "/catalog"],
];

export function apiEvent(
  method: string,
  path: string,
  options: { body?: string; principal?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const resource = RESOURCES.find(([pattern]) => pattern.test(path))?.[1] ?? path;
  const id = /^\/workloads\/([^/]+)/.exec(path)?.[1];
  return {
    resource,
    path,
    httpMethod: method,
    headers: { "Content-Type": "application/json", ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: id === undefined ? null : { id },
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      identity: { userArn: options.principal ?? ALICE },
    } as APIGatewayProxyEvent["requestContext"],
  };
}

let requests = 0;
export function lambdaContext(): Context {
  requests++;
  return {
    awsRequestId: `req-${requests}-${process.pid}`,
    functionName: "saturn-test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:saturn-test",
    memoryLimitInMB: "1024",
    logGroupName: "/aws/lambda/saturn-test",
    logStreamName: "test",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
