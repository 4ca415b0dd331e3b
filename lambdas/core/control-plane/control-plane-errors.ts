/**
 * Errors of the control plane's use-cases. Handlers map them to HTTP statuses
 * (docs/control-plane.md, "API"): not found 404, access denied 403, wrong state 409,
 * idempotency key reused with another body 409.
 */

/** No workload has this id (it never existed or was never stored). HTTP 404. */
export class WorkloadNotFoundError extends Error {
  override readonly name = "WorkloadNotFoundError";
  readonly workloadId: string;
  constructor(workloadId: string) {
    super(`workload '${workloadId}' does not exist; list yours with GET /workloads (saturn list)`);
    this.workloadId = workloadId;
  }
}

/**
 * The workload exists and belongs to someone else. HTTP 403 (not 404): ids are random
 * UUIDs, so the status code leaks nothing a caller could guess, and it tells a user who
 * switched credentials what went wrong.
 */
export class AccessDeniedError extends Error {
  override readonly name = "AccessDeniedError";
  constructor(workloadId: string, principal: string) {
    super(`workload '${workloadId}' belongs to another principal; '${principal}' may read and cancel only its own`);
  }
}

/** The request does not fit the workload's state (approving a workload that is not planned). HTTP 409. */
export class WorkloadStateError extends Error {
  override readonly name = "WorkloadStateError";
  readonly status: string;
  constructor(workloadId: string, status: string, message: string) {
    super(`workload '${workloadId}' is ${status}: ${message}`);
    this.status = status;
  }
}

/** The same Idempotency-Key came with a different body. HTTP 409. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = "IdempotencyKeyReusedError";
  constructor(key: string, workloadId: string) {
    super(
      `Idempotency-Key '${key}' was already used for workload '${workloadId}' with a different spec; use a new key for a new workload`,
    );
  }
}
