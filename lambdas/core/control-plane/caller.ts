/**
 * Who is calling: the IAM principal API Gateway authenticated (`requestContext.identity.userArn`)
 * and whether it is one of the stack's admins. A caller sees and cancels only workloads
 * whose `owner` is exactly its principal; admins see every workload.
 */
import type { WorkloadSummary } from "../store/workload-store.ts";
import { AccessDeniedError } from "./control-plane-errors.ts";

export interface Caller {
  readonly principal: string;
  readonly admin: boolean;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/**
 * True when `principal` is `configured`, or is a session of the configured role
 * (`arn:aws:sts::A:assumed-role/R/session` is a session of `arn:aws:iam::A:role/R`, with or
 * without a role path), so admins can be named by role ARN.
 */
export function principalMatches(principal: string, configured: string): boolean {
  if (principal === configured) return true;
  const session = ASSUMED_ROLE.exec(principal);
  if (session === null) return false;
  const [, partition, account, role] = session;
  const roleArn = new RegExp(`^arn:${partition}:iam::${account}:role/(?:.+/)?${escapeRegExp(role ?? "")}$`);
  return roleArn.test(configured);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function callerOf(principal: string, admins: readonly string[]): Caller {
  return { principal, admin: admins.some((admin) => principalMatches(principal, admin)) };
}

/** Throws AccessDeniedError unless the caller owns the workload or is an admin. */
export function authorize(workload: WorkloadSummary, caller: Caller): void {
  if (caller.admin || workload.owner === caller.principal) return;
  throw new AccessDeniedError(workload.id, caller.principal);
}
