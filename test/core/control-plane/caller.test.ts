import { describe, expect, it } from "vitest";
import { authorize, callerOf, principalMatches } from "../../../lambdas/core/control-plane/caller.ts";
import { AccessDeniedError } from "../../../lambdas/core/control-plane/control-plane-errors.ts";
import type { WorkloadSummary } from "../../../lambdas/core/store/workload-store.ts";

const ALICE = "arn:aws:iam::123456789012:user/alice";
const OPS_SESSION = "arn:aws:sts::123456789012:assumed-role/SaturnOps/bob@example.com";

function owned(owner: string): WorkloadSummary {
  return {
    id: "w-1",
    name: "tiny",
    owner,
    status: "running",
    statusReason: undefined,
    createdAt: "2026-12-01T00:00:00Z",
    updatedAt: "2026-12-01T00:00:00Z",
    version: 3,
    planVersion: 1,
    jobCount: 2,
    cancelRequested: false,
  };
}

describe("principalMatches", () => {
  it("matches the same ARN", () => {
    expect(principalMatches(ALICE, ALICE)).toBe(true);
  });

  it("matches a session of a configured role, with or without a role path", () => {
    expect(principalMatches(OPS_SESSION, "arn:aws:iam::123456789012:role/SaturnOps")).toBe(true);
    expect(principalMatches(OPS_SESSION, "arn:aws:iam::123456789012:role/teams/SaturnOps")).toBe(true);
  });

  it("does not match another account, another role, or a role whose name only starts alike", () => {
    expect(principalMatches(OPS_SESSION, "arn:aws:iam::999999999999:role/SaturnOps")).toBe(false);
    expect(principalMatches(OPS_SESSION, "arn:aws:iam::123456789012:role/SaturnOpsAdmin")).toBe(false);
    expect(principalMatches(ALICE, "arn:aws:iam::123456789012:user/alice2")).toBe(false);
  });
});

describe("authorize", () => {
  it("lets the owner and admins through", () => {
    expect(() => authorize(owned(ALICE), callerOf(ALICE, []))).not.toThrow();
    expect(() =>
      authorize(owned(ALICE), callerOf(OPS_SESSION, ["arn:aws:iam::123456789012:role/SaturnOps"])),
    ).not.toThrow();
  });

  it("refuses another principal with AccessDeniedError", () => {
    expect(() => authorize(owned(ALICE), callerOf(OPS_SESSION, []))).toThrow(AccessDeniedError);
  });
});
