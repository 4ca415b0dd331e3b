/**
 * Instances whose worker agent is silent: paid for, and no work can come of them. The
 * reconciler ends them within a pass instead of leaving them to the hourly sweeper:
 *
 * - never heard from `bootTimeoutSeconds` after launch: the instance did not boot, or its
 *   user data never started the agent (the agent reports `agent-alive` as soon as it starts);
 * - heard from, then silent for `silenceTimeoutSeconds`: the agent or the machine hung (an
 *   agent reports `agent-alive` every 30 s while idle, a heartbeat per minute while training).
 *
 * Only where the worker port can tell who it heard from (`ObservedState.heardFrom`): the
 * simulated cloud's workers cannot fail to boot and report nothing per instance, so the rule
 * stays off there. The instances found are marked `shutting-down` in the observation the
 * pass decides on, so the pass re-plans around them (a needed slot whose instance ended) and
 * never binds a new slot to them; the next pass observes them ended and counts the attempts
 * on them as lost (`instance-lost`), resuming from their last checkpoint.
 */
import type { Action, ObservedState } from "./execution-record.ts";
import { isLive } from "./plan-view.ts";
import type { ReconcilerRules } from "./reconciler-rules.ts";

export interface SilentInstance {
  readonly instanceId: string;
  readonly reason: string;
}

export function silentInstances(
  observed: ObservedState,
  rules: Pick<ReconcilerRules, "bootTimeoutSeconds" | "silenceTimeoutSeconds">,
): SilentInstance[] {
  const heard = observed.heardFrom;
  if (heard === undefined) return [];
  const found: SilentInstance[] = [];
  for (const instance of observed.instances) {
    if (!isLive(instance)) continue;
    const last = heard.get(instance.id);
    const age = observed.now - instance.launchedAt;
    if (last === undefined) {
      if (age >= rules.bootTimeoutSeconds) {
        found.push({
          instanceId: instance.id,
          reason: `no worker agent report ${minutes(age)} min after launch (boot timeout ${minutes(rules.bootTimeoutSeconds)} min)`,
        });
      }
    } else if (observed.now - last >= rules.silenceTimeoutSeconds) {
      found.push({
        instanceId: instance.id,
        reason: `worker agent silent for ${minutes(observed.now - last)} min (timeout ${minutes(rules.silenceTimeoutSeconds)} min)`,
      });
    }
  }
  return found;
}

/** The observation with these instances on their way out (this pass terminates them). */
export function withInstancesEnding(observed: ObservedState, ids: ReadonlySet<string>): ObservedState {
  if (ids.size === 0) return observed;
  return {
    ...observed,
    instances: observed.instances.map((instance) =>
      ids.has(instance.id) ? { ...instance, state: "shutting-down" as const } : instance,
    ),
  };
}

/** One terminate action for the silent instances (the audit trail keeps each reason). */
export function terminateSilent(silent: readonly SilentInstance[]): Action | undefined {
  if (silent.length === 0) return undefined;
  return {
    kind: "terminate",
    instanceIds: silent.map((s) => s.instanceId),
    reason: silent.map((s) => `${s.instanceId}: ${s.reason}`).join("; "),
  };
}

function minutes(seconds: number): number {
  return Math.round(seconds / 60);
}
