/**
 * Submit: validate the body (nothing is written when anything is wrong), record the
 * caller as owner, store the workload in `planning`, ask the planner. Idempotent under an
 * `Idempotency-Key`: the store's conditional create returns the first workload for a
 * repeated key, and a repeat asks for planning again (the planner plans only a workload
 * still in `planning`, so the second request is a no-op, and a crash between the create
 * and the first request cannot strand the workload).
 */
import { InvalidWorkloadError } from "../errors.ts";
import type { WorkloadRecord, WorkloadStore } from "../store/workload-store.ts";
import type { Caller } from "./caller.ts";
import { IdempotencyKeyReusedError } from "./control-plane-errors.ts";
import type { ControlQueues } from "./control-queues.ts";
import { parseSubmitRequest } from "./submit-request.ts";

export interface SubmitDeps {
  readonly store: WorkloadStore;
  readonly queues: ControlQueues;
}

export interface SubmitInput {
  readonly caller: Caller;
  readonly body: string;
  readonly idempotencyKey: string | undefined;
  /** Id for a new workload (the handler draws a random UUID). */
  readonly newId: string;
  /** ISO 8601. */
  readonly now: string;
  /** The regions the deployed stack covers: a spec naming another one is refused (`parseSubmitRequest`). */
  readonly deploymentRegions?: readonly string[];
}

export interface SubmitResult {
  readonly record: WorkloadRecord;
  /** False when the key was seen before and this is the first submit's workload. */
  readonly created: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export async function submitWorkload(deps: SubmitDeps, input: SubmitInput): Promise<SubmitResult> {
  const key = input.idempotencyKey;
  const keyProblem =
    key !== undefined && !IDEMPOTENCY_KEY.test(key)
      ? [
          {
            path: "headers.Idempotency-Key",
            message: `expected 1-128 printable ASCII characters without spaces, got ${JSON.stringify(key.slice(0, 40))}`,
          },
        ]
      : [];
  let request: ReturnType<typeof parseSubmitRequest>;
  try {
    request = parseSubmitRequest(input.body, input.deploymentRegions);
  } catch (error) {
    if (error instanceof InvalidWorkloadError && keyProblem.length > 0) {
      throw new InvalidWorkloadError([...keyProblem, ...error.issues], { subject: "request", cause: error });
    }
    throw error;
  }
  if (keyProblem.length > 0) throw new InvalidWorkloadError(keyProblem, { subject: "request" });

  const record: WorkloadRecord = {
    id: input.newId,
    name: request.workload.name,
    owner: input.caller.principal,
    status: "planning",
    statusReason: undefined,
    createdAt: input.now,
    updatedAt: input.now,
    version: 1,
    planVersion: 0,
    jobCount: request.workload.jobs.length,
    cancelRequested: false,
    specText: request.specText,
  };
  const stored = await deps.store.create(record, key === undefined ? undefined : `${input.caller.principal}|${key}`);
  if (key !== undefined && stored.id !== record.id && stored.specText !== record.specText) {
    throw new IdempotencyKeyReusedError(key, stored.id);
  }
  await deps.queues.requestPlan(stored.id);
  return { record: stored, created: stored.id === record.id };
}
