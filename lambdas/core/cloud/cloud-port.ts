/**
 * The cloud port: what the reconciler's driver needs from a cloud. The simulated cloud
 * (`lambdas/adapters/sim-cloud/`) implements it now; an EC2 adapter (CreateFleet,
 * TerminateInstances, DescribeInstances filtered by tag, EventBridge events) implements it
 * later. Tags, not any database, are the truth about what runs: `describe` by the workload
 * tag returns every instance Saturn launched for it, in any state.
 */
import type { Market } from "../spec/workload-schema.ts";

/** Tag keys every Saturn resource carries (design.md, "Reliability rules"). */
export const SATURN_TAGS = {
  workload: "saturn:workload",
  plan: "saturn:plan",
  role: "saturn:role",
  /** The planned instance (plan slot) this instance fills, e.g. "i3". */
  slot: "saturn:slot",
} as const;

export type InstanceState = "pending" | "running" | "shutting-down" | "terminated";

export interface LaunchRequest {
  readonly instanceType: string;
  readonly market: Market;
  /** The region to launch in (the plan's); absent: the cloud's own region. */
  readonly region?: string;
  readonly availabilityZone: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * Idempotency token (EC2 `ClientToken`): a second launch with the same token returns the
   * instance the first one created instead of creating another.
   */
  readonly clientToken: string;
  /**
   * True for a node of a multi-node attempt: it must share one availability zone and the
   * cluster placement group with its peers (and get EFA where the type has it). Absent: false.
   */
  readonly cluster?: boolean;
}

export interface CloudInstance {
  readonly id: string;
  readonly instanceType: string;
  readonly market: Market;
  /** The region it runs in; absent: the cloud's own (single-region clouds). */
  readonly region?: string;
  readonly availabilityZone: string;
  readonly state: InstanceState;
  readonly tags: Readonly<Record<string, string>>;
  /** Seconds on the cloud's clock. */
  readonly launchedAt: number;
  /** Set once the instance is running (booted and set up). */
  readonly runningSince: number | undefined;
  /** Price being billed, USD per hour (spot: the market price in its availability zone). */
  readonly hourlyPriceUsd: number;
  /** When the cloud announced it will reclaim this spot instance (two-minute notice). */
  readonly interruptionNoticeAt: number | undefined;
  /** The instance's private IPv4 address where the cloud has one (multi-node rendezvous). */
  readonly privateIpAddress?: string | undefined;
}

/** Events a cloud pushes (EventBridge on AWS). They only make the reconciler run sooner. */
export type CloudEvent =
  | {
      readonly kind: "spot-interruption-warning";
      readonly instanceId: string;
      readonly at: number;
      /** When the instance will be reclaimed (notice + 120 s on AWS). */
      readonly reclaimAt: number;
    }
  | {
      readonly kind: "instance-state";
      readonly instanceId: string;
      readonly state: InstanceState;
      readonly at: number;
    };

export interface CloudPort {
  /** Throws `CapacityError` or `QuotaError` (see launch-errors.ts) when the cloud refuses. */
  launch(request: LaunchRequest): Promise<CloudInstance>;
  /** Idempotent: terminating a terminated or unknown instance is not an error. */
  terminate(instanceIds: readonly string[]): Promise<void>;
  /** Every instance carrying all the given tags, in any state (terminated ones included while the cloud remembers them). */
  describe(tags: Readonly<Record<string, string>>): Promise<readonly CloudInstance[]>;
  /** Adds or overwrites tags (EC2 CreateTags); idempotent. */
  tag(instanceId: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** Events received since the last call; may hold duplicates and arrive out of order. */
  drainEvents(): Promise<readonly CloudEvent[]>;
  /** Total billed so far for instances carrying the given tags, USD. */
  spendUsd(tags: Readonly<Record<string, string>>): Promise<number>;
}
