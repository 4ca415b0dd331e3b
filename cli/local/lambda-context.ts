/** The Lambda `Context` the local stack passes to handlers it invokes in-process. */
import type { Context } from "aws-lambda";

/** Matches the stack's function memory size (the benchmark turns invocations into GB-seconds with it). */
export const LOCAL_FUNCTION_MEMORY_MB = 1024;
const TIMEOUT_MS = 60_000;

export function lambdaContext(functionName: string, requestId: string): Context {
  const startedAt = performance.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `saturn-local-${functionName}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:saturn-local-${functionName}`,
    memoryLimitInMB: String(LOCAL_FUNCTION_MEMORY_MB),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/saturn-local-${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, TIMEOUT_MS - (performance.now() - startedAt)),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
