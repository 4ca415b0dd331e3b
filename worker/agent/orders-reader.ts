/**
 * Reads an orders document as strictly as the protocol says, but fault by fault: a bad
 * assignment does not hide the good ones or the stops next to it. What cannot be used is
 * returned as a rejection the agent reports (`failed` for an attempt it can name,
 * `orders-rejected` otherwise) and then ignores. Nothing here throws on bad input.
 */
import { z } from "zod";
import {
  type AssignmentMessage,
  assignmentSchema,
  instanceOrdersSchema,
  type StopOrder,
  stopOrderSchema,
  WORKER_PROTOCOL,
} from "../../lambdas/core/protocol/worker-protocol.ts";

export interface AttemptRejection {
  readonly jobId: string;
  readonly attemptId: string;
  readonly problems: string;
}

export interface OrdersReading {
  /** Null when the envelope itself is unusable: nothing in the document is acted on. */
  readonly sequence: number | null;
  readonly assignments: readonly AssignmentMessage[];
  readonly stops: readonly StopOrder[];
  readonly shutdown: boolean;
  readonly attemptRejections: readonly AttemptRejection[];
  /** Problems not tied to a nameable attempt, as `path: message`. */
  readonly documentProblems: readonly string[];
}

const envelopeSchema = instanceOrdersSchema.extend({
  assignments: z.array(z.unknown()),
  stops: z.array(z.unknown()),
});

const attemptKey = z.object({ jobId: assignmentSchema.shape.jobId, attemptId: assignmentSchema.shape.attemptId });

function describe(issues: readonly z.core.$ZodIssue[], prefix: string): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".");
    return `${path || "(document)"}: ${issue.message}`;
  });
}

export function readOrders(
  text: string,
  expected: { readonly workloadId: string; readonly instanceId: string },
): OrdersReading {
  const empty = { assignments: [], stops: [], shutdown: false, attemptRejections: [] } as const;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ...empty,
      sequence: null,
      documentProblems: [`(document): expected JSON, got a parse error: ${(error as Error).message}`],
    };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const problems = describe(envelope.error.issues, "");
    if (typeof json === "object" && json !== null && (json as { protocol?: unknown }).protocol !== WORKER_PROTOCOL)
      problems.unshift(
        `protocol: expected "${WORKER_PROTOCOL}", got ${JSON.stringify((json as { protocol?: unknown }).protocol)}`,
      );
    return { ...empty, sequence: null, documentProblems: [...new Set(problems)] };
  }
  const document = envelope.data;
  const mismatches: string[] = [];
  if (document.workloadId !== expected.workloadId)
    mismatches.push(
      `workloadId: expected this instance's workload "${expected.workloadId}", got "${document.workloadId}"`,
    );
  if (document.instanceId !== expected.instanceId)
    mismatches.push(`instanceId: expected this instance "${expected.instanceId}", got "${document.instanceId}"`);
  if (mismatches.length > 0) return { ...empty, sequence: document.sequence, documentProblems: mismatches };

  const assignments: AssignmentMessage[] = [];
  const attemptRejections: AttemptRejection[] = [];
  const documentProblems: string[] = [];
  document.assignments.forEach((candidate, index) => {
    const parsed = assignmentSchema.safeParse(candidate);
    const problems = parsed.success ? [] : describe(parsed.error.issues, `assignments.${index}`);
    if (parsed.success && parsed.data.workloadId !== document.workloadId)
      problems.push(
        `assignments.${index}.workloadId: expected "${document.workloadId}", got "${parsed.data.workloadId}"`,
      );
    if (parsed.success && !parsed.data.instanceIds.includes(document.instanceId))
      problems.push(`assignments.${index}.instanceIds: expected to include "${document.instanceId}"`);
    if (parsed.success && parsed.data.gpuIndices.length !== parsed.data.gpusPerInstance)
      problems.push(
        `assignments.${index}.gpuIndices: expected ${parsed.data.gpusPerInstance} indices (gpusPerInstance), got ${parsed.data.gpuIndices.length}`,
      );
    if (parsed.success && parsed.data.instanceIds.length > 1 && parsed.data.rendezvous === null)
      problems.push(`assignments.${index}.rendezvous: expected an endpoint for a multi-node attempt, got null`);
    if (parsed.success && problems.length === 0) {
      assignments.push(parsed.data);
      return;
    }
    const key = attemptKey.safeParse(candidate);
    if (key.success) attemptRejections.push({ ...key.data, problems: problems.join("; ") });
    else documentProblems.push(...problems);
  });
  const stops: StopOrder[] = [];
  document.stops.forEach((candidate, index) => {
    const parsed = stopOrderSchema.safeParse(candidate);
    if (parsed.success) stops.push(parsed.data);
    else documentProblems.push(...describe(parsed.error.issues, `stops.${index}`));
  });
  return {
    sequence: document.sequence,
    assignments,
    stops,
    shutdown: document.shutdown,
    attemptRejections,
    documentProblems,
  };
}
