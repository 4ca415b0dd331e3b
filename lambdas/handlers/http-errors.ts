/**
 * Errors -> HTTP answers, for every route. The body is always
 * `{"message": "...", "issues": [{"path", "message"}]}` (issues only for bad input), which
 * the CLI prints as reasons. Anything not listed is a 500 whose details go to the log only.
 */
import type { APIGatewayProxyResult } from "aws-lambda";
import {
  AccessDeniedError,
  IdempotencyKeyReusedError,
  WorkloadNotFoundError,
  WorkloadStateError,
} from "../core/control-plane/control-plane-errors.ts";
import { InfeasibleWorkloadError, InvalidWorkloadError } from "../core/errors.ts";
import { VersionConflictError } from "../core/store/workload-store.ts";

/** A request the route refuses before any use-case runs (size, method, route, principal). */
export class HttpRequestError extends Error {
  override readonly name = "HttpRequestError";
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

/** The answer for a thrown error, or undefined when it is unexpected (a 500). */
export function errorResponse(error: unknown): APIGatewayProxyResult | undefined {
  if (error instanceof InvalidWorkloadError) {
    return jsonResponse(400, { message: error.message.split("\n")[0], issues: error.issues });
  }
  if (error instanceof HttpRequestError) return jsonResponse(error.statusCode, { message: error.message });
  if (error instanceof WorkloadNotFoundError) return jsonResponse(404, { message: error.message });
  if (error instanceof AccessDeniedError) return jsonResponse(403, { message: error.message });
  if (error instanceof WorkloadStateError || error instanceof IdempotencyKeyReusedError) {
    return jsonResponse(409, { message: error.message });
  }
  if (error instanceof VersionConflictError) {
    return jsonResponse(409, { message: `${error.message} (the workload changed while the request ran)` });
  }
  if (error instanceof InfeasibleWorkloadError) {
    return jsonResponse(422, { message: error.message, constraint: error.constraint });
  }
  return undefined;
}
