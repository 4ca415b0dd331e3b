/**
 * Typed launch failures. A capacity error means "not here, not now": try another
 * availability zone, type or market. A quota error means the account may not run more
 * vCPUs of that quota group: the planner must see a lower quota. Codes from the EC2 API
 * reference as summarised in ../shared/reference/aws-gpu.md ("Launching").
 */
import type { Market } from "../spec/workload-schema.ts";

export const CAPACITY_ERROR_CODES = [
  "InsufficientInstanceCapacity",
  "InsufficientHostCapacity",
  "InsufficientCapacity",
  "UnfulfillableCapacity",
  "SpotMaxPriceTooLow",
  "Unsupported",
] as const;

/**
 * MaxSpotInstanceCountExceeded is an account limit on spot requests, not a lack of capacity
 * in a zone: trying another zone or type does not help, a lower quota does.
 */
export const QUOTA_ERROR_CODES = [
  "VcpuLimitExceeded",
  "InstanceLimitExceeded",
  "MaxSpotInstanceCountExceeded",
] as const;

export interface LaunchFailureDetails {
  readonly code: string;
  readonly instanceType: string;
  readonly market: Market;
  readonly availabilityZone: string | undefined;
}

/** A launch the cloud refused, with what was asked for; the subclasses say why. */
export abstract class LaunchError extends Error {
  readonly details: LaunchFailureDetails;
  constructor(details: LaunchFailureDetails, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = details;
  }
}

/** No capacity for this type, zone or market right now: try another (via a re-plan). */
export class CapacityError extends LaunchError {
  override readonly name = "CapacityError";
}

/** The account's vCPU quota refused it: lower the quota the planner sees. */
export class QuotaError extends LaunchError {
  override readonly name = "QuotaError";
}

/** Any other refusal (bad parameter, unsupported configuration): this offer will not launch as asked. */
export class LaunchRefusedError extends LaunchError {
  override readonly name = "LaunchRefusedError";
}

export type LaunchErrorKind = "capacity" | "quota" | "other";

/** Classifies an EC2 error code; adapters use it to throw the right class. */
export function classifyLaunchErrorCode(code: string): LaunchErrorKind {
  if ((CAPACITY_ERROR_CODES as readonly string[]).includes(code)) return "capacity";
  if ((QUOTA_ERROR_CODES as readonly string[]).includes(code)) return "quota";
  return "other";
}
