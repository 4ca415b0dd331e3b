/**
 * Deadline safety for spot, after the uniform-progress idea of "Can't Be Late" (Wu et al.,
 * NSDI 2024): stay on spot only while the job's slack can still absorb one more
 * interruption. An interruption costs a changeover (boot a replacement, restart from the
 * checkpoint) plus the work lost since the last checkpoint. The reconciler checkpoints a
 * job as soon as the two-minute notice arrives, so by default the lost work is one
 * reconciler tick (the reaction time); with `checkpointOnNotice` off it is a whole
 * checkpoint interval. Once slack falls below that cost (plus one tick), the job moves to
 * on-demand now: the move costs only a changeover, which the slack still covers.
 */
export interface SlackInput {
  readonly now: number;
  readonly deadlineAt: number;
  readonly remainingSamples: number;
  readonly samplesPerSecond: number;
  readonly bootSeconds: number;
  readonly restartSeconds: number;
  readonly checkpointIntervalSeconds: number;
  readonly tickSeconds: number;
  /** The job saves a checkpoint on the interruption notice (the reconciler asks for one). */
  readonly checkpointOnNotice: boolean;
}

export function remainingSlackSeconds(input: SlackInput): number {
  const runSeconds = input.remainingSamples / Math.max(input.samplesPerSecond, 1e-9);
  return input.deadlineAt - input.now - runSeconds;
}

export function interruptionCostSeconds(input: SlackInput): number {
  const lostWork = input.checkpointOnNotice ? input.tickSeconds : input.checkpointIntervalSeconds;
  return lostWork + input.bootSeconds + input.restartSeconds;
}

export function mustLeaveSpot(input: SlackInput): boolean {
  return remainingSlackSeconds(input) < interruptionCostSeconds(input) + input.tickSeconds;
}
