import { describe, expect, it } from "vitest";
import type { CloudInstance } from "../../../lambdas/core/cloud/cloud-port.ts";
import {
  silentInstances,
  terminateSilent,
  withInstancesEnding,
} from "../../../lambdas/core/reconciler/agent-silence.ts";
import type { ObservedState } from "../../../lambdas/core/reconciler/execution-record.ts";
import { DEFAULT_RECONCILER_RULES } from "../../../lambdas/core/reconciler/reconciler-rules.ts";

const rules = DEFAULT_RECONCILER_RULES;

function instance(id: string, launchedAt: number, state: CloudInstance["state"] = "running"): CloudInstance {
  return {
    id,
    instanceType: "g5.xlarge",
    market: "spot",
    availabilityZone: "us-east-1a",
    state,
    tags: {},
    launchedAt,
    runningSince: launchedAt,
    hourlyPriceUsd: 0.5,
    interruptionNoticeAt: undefined,
  };
}

function observed(now: number, instances: CloudInstance[], heardFrom?: Map<string, number>): ObservedState {
  return {
    now,
    instances,
    jobs: [],
    launchFailures: [],
    events: [],
    spendUsd: 0,
    ...(heardFrom === undefined ? {} : { heardFrom }),
  };
}

describe("silent instances", () => {
  it("finds an instance never heard from once the boot timeout has passed, and not a second before", () => {
    const boot = rules.bootTimeoutSeconds;
    const fresh = observed(1000 + boot - 1, [instance("i-a", 1000)], new Map());
    expect(silentInstances(fresh, rules)).toEqual([]);
    const late = observed(1000 + boot, [instance("i-a", 1000)], new Map());
    expect(silentInstances(late, rules)).toEqual([
      { instanceId: "i-a", reason: "no worker agent report 15 min after launch (boot timeout 15 min)" },
    ]);
  });

  it("finds an instance whose agent went silent, keeps one that reports, and ignores ended instances", () => {
    const now = 10_000;
    const heard = new Map([
      ["i-quiet", now - rules.silenceTimeoutSeconds],
      ["i-talking", now - 30],
      ["i-ended", now - 5 * rules.silenceTimeoutSeconds],
    ]);
    const found = silentInstances(
      observed(now, [instance("i-quiet", 0), instance("i-talking", 0), instance("i-ended", 0, "terminated")], heard),
      rules,
    );
    expect(found.map((s) => s.instanceId)).toEqual(["i-quiet"]);
    expect(found[0]?.reason).toBe("worker agent silent for 30 min (timeout 30 min)");
  });

  it("is off where the worker port cannot tell whom it heard from", () => {
    expect(silentInstances(observed(1e6, [instance("i-a", 0)]), rules)).toEqual([]);
  });

  it("marks the found instances as on their way out and names each in one terminate", () => {
    const seen = observed(5000, [instance("i-a", 0), instance("i-b", 0)], new Map([["i-b", 4990]]));
    const silent = silentInstances(seen, rules);
    const after = withInstancesEnding(seen, new Set(silent.map((s) => s.instanceId)));
    expect(after.instances.map((i) => [i.id, i.state])).toEqual([
      ["i-a", "shutting-down"],
      ["i-b", "running"],
    ]);
    expect(terminateSilent(silent)).toEqual({
      kind: "terminate",
      instanceIds: ["i-a"],
      reason: "i-a: no worker agent report 83 min after launch (boot timeout 15 min)",
    });
    expect(terminateSilent([])).toBeUndefined();
  });
});
