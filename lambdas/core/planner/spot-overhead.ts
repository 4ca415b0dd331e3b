/**
 * Expected cost of spot interruptions. An interruption loses, on average, half a
 * checkpoint interval of work plus the restart time, so a run of `r` hours on spot is
 * expected to take r * (1 + rate * (checkpointInterval / 2 + restart)) hours, with `rate`
 * the expected interruptions per instance-hour (docs/plan.md, "Spot pricing").
 */
import type { InstanceType } from "../catalog/types.ts";
import type { SpotSettings } from "../spec/workload-schema.ts";

/**
 * The AWS Spot Instance Advisor reports, per type and region, the share of spot instances
 * interrupted over the trailing month in five bands: <5%, 5-10%, 10-15%, 15-20%, >20%
 * (https://aws.amazon.com/ec2/spot/instance-advisor/, band list quoted by
 * sparecores.com/article/spot-instance-terminate-rates-per-az, 2024-04-16). It publishes no
 * per-hour rate. The defaults below take a band's upper edge as the chance that one
 * day-long (24 h) run is interrupted, i.e. rate = edge / 24 per hour; the open band >20%
 * is taken as 25%. The band per family is an ASSUMPTION, not read from the Advisor (it
 * changes monthly, per region, and needs a network call): the newest, most contended
 * families (p4d, p4de, p5, p5e, p5en, g6e) are put in >20%, the others in 15-20%.
 * Override per type or family with `spot.interruptionRatePerHour` in the spec.
 */
const RUN_HOURS_PER_BAND = 24;
const BAND_OVER_20_PERCENT = 0.25;
const BAND_15_TO_20_PERCENT = 0.2;

export const DEFAULT_INTERRUPTION_RATE_PER_HOUR: Readonly<Record<string, number>> = {
  p4d: BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND,
  p4de: BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND,
  p5: BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND,
  p5e: BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND,
  p5en: BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND,
  g6e: BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND,
  g4dn: BAND_15_TO_20_PERCENT / RUN_HOURS_PER_BAND,
  g5: BAND_15_TO_20_PERCENT / RUN_HOURS_PER_BAND,
  g6: BAND_15_TO_20_PERCENT / RUN_HOURS_PER_BAND,
  p3: BAND_15_TO_20_PERCENT / RUN_HOURS_PER_BAND,
  p3dn: BAND_15_TO_20_PERCENT / RUN_HOURS_PER_BAND,
};

/** Rate for a family missing from the table: the worst band. */
export const FALLBACK_INTERRUPTION_RATE_PER_HOUR = BAND_OVER_20_PERCENT / RUN_HOURS_PER_BAND;

/** Expected interruptions per instance-hour: spec override by type, then by family, then the defaults. */
export function interruptionRatePerHour(type: InstanceType, settings: SpotSettings): number {
  return (
    settings.interruptionRatePerHour[type.name] ??
    settings.interruptionRatePerHour[type.family] ??
    DEFAULT_INTERRUPTION_RATE_PER_HOUR[type.family] ??
    FALLBACK_INTERRUPTION_RATE_PER_HOUR
  );
}

/** Factor >= 1 by which a spot run's expected duration exceeds its on-demand duration. */
export function spotSlowdown(type: InstanceType, settings: SpotSettings): number {
  const lostHoursPerInterruption = (settings.checkpointIntervalMinutes / 2 + settings.restartMinutes) / 60;
  return 1 + interruptionRatePerHour(type, settings) * lostHoursPerInterruption;
}

/**
 * Reaction time the reconciler needs after an interruption: one tick of lost work (it
 * checkpoints on the two-minute notice) plus one tick to react, at its default 60-second
 * tick (`DEFAULT_RECONCILER_RULES`, lambdas/core/reconciler/reconciler-rules.ts).
 */
export const SPOT_REACTION_SECONDS = 120;

/**
 * How long before its deadline a spot run must end: the slack that absorbs one more
 * interruption (boot a replacement, restart from the checkpoint, react). The reconciler
 * moves a running spot job to on-demand once its slack falls below this ("Can't Be Late"
 * rule, lambdas/core/reconciler/spot-fallback.ts), so a plan whose spot run ended closer
 * to the deadline would be re-planned, at on-demand prices, as soon as the job started.
 */
export function spotDeadlineMarginSeconds(bootSeconds: number, settings: SpotSettings): number {
  return bootSeconds + settings.restartMinutes * 60 + SPOT_REACTION_SECONDS;
}

/**
 * Share of a spot run's planned end that the plan keeps free before the deadline, on top of
 * `spotDeadlineMarginSeconds`, for runs going slower than planned. Jobs run at the measured,
 * not the estimated, pace, and a late job delays every later job on its instances, so the
 * drift grows with the planned end. The simulated cloud draws each job's throughput with a
 * 10% spread around the plan (docs/execution.md); two spreads cover a run that is 20% slow
 * end to end. Without it, in the tight-deadline execution benchmark the reconciler moved
 * such runs to on-demand mid-run and executed cost came out 19-23% above plan
 * (docs/benchmarks.md, Execution). A run that cannot keep this allowance on spot is planned
 * on on-demand from the start, at a price the plan shows.
 */
export const SPOT_PACE_ALLOWANCE = 0.2;

/**
 * The latest end of a spot run with the deadline `deadlineSeconds` (from the plan's start):
 * end x (1 + SPOT_PACE_ALLOWANCE) + the interruption margin <= deadline.
 */
export function spotLatestEndSeconds(deadlineSeconds: number, bootSeconds: number, settings: SpotSettings): number {
  return (deadlineSeconds - spotDeadlineMarginSeconds(bootSeconds, settings)) / (1 + SPOT_PACE_ALLOWANCE);
}
