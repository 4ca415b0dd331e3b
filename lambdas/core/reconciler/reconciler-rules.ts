/**
 * Tunable rules of the reconciler, with their defaults and reasons. Documented in
 * docs/execution.md ("Rules").
 */
export interface ReconcilerRules {
  /** Re-plan when a job's measured throughput is off the plan by more than this fraction. */
  readonly throughputDeviation: number;
  /** Measure an attempt at least this long before judging its throughput. */
  readonly throughputGraceSeconds: number;
  /**
   * Periodic re-plan ("introspection") interval. Saturn re-solves every 1,000 s; here every
   * deviation that matters (interruption, launch failure, throughput off by more than
   * `throughputDeviation`, a projected deadline or budget miss) already triggers a re-plan,
   * so the periodic one is a backstop for slow drift and is kept rare: each costs a solve.
   */
  readonly replanIntervalSeconds: number;
  /** A voluntary re-plan is adopted only when it improves the objective by more than this fraction. */
  readonly adoptionThreshold: number;
  /** A job fails after this many worker crashes. */
  readonly maxWorkerCrashes: number;
  /**
   * Seconds between two reconciler runs at most (the EventBridge schedule is 60 s). The
   * budget guard keeps enough money for every running instance to run this long again plus
   * the time a termination takes.
   */
  readonly tickSeconds: number;
  /** Seconds from a terminate call to the end of billing. */
  readonly terminationSeconds: number;
  /**
   * Spot-to-on-demand rule: count an interruption as losing no work beyond one tick, because
   * the job checkpoints on the two-minute notice. Off: it loses a whole checkpoint interval.
   */
  readonly checkpointOnNotice: boolean;
  /**
   * An instance whose worker agent has not reported this long after launch did not boot (or
   * its agent never started): the pass terminates it and re-plans (agent-silence.ts). Three
   * times the DLAMI's ~5-minute boot plus the agent's start.
   */
  readonly bootTimeoutSeconds: number;
  /**
   * An instance whose agent reported once and has then been silent this long is hung: the
   * pass terminates it and re-plans. The same 30 minutes as the sweeper's heartbeat timeout
   * (sweep.ts), which stays the backstop for workloads no pass runs for.
   */
  readonly silenceTimeoutSeconds: number;
}

export const DEFAULT_RECONCILER_RULES: ReconcilerRules = {
  throughputDeviation: 0.2,
  throughputGraceSeconds: 600,
  replanIntervalSeconds: 12 * 3600,
  adoptionThreshold: 0.05,
  maxWorkerCrashes: 3,
  tickSeconds: 60,
  terminationSeconds: 60,
  checkpointOnNotice: true,
  bootTimeoutSeconds: 15 * 60,
  silenceTimeoutSeconds: 30 * 60,
};
