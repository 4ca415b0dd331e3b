/** Workload specs the integration suite submits: small enough to plan in a second or two. */

/** Two GPT-2 XL jobs on G instances, 12 h deadline: HiGHS plans them in about a second. */
export function tinySpec(name = "tiny-sweep"): Record<string, unknown> {
  return {
    name,
    region: "us-east-1",
    objective: { kind: "min-cost", deadlineHours: 12 },
    markets: ["spot", "on-demand"],
    instanceTypes: { allow: ["g5", "g6e"] },
    quotas: [
      { group: "G", market: "spot", vcpus: 256 },
      { group: "G", market: "on-demand", vcpus: 256 },
    ],
    spot: { checkpointIntervalMinutes: 15, restartMinutes: 3 },
    planner: { timeLimitSeconds: 2, bootMinutes: 4 },
    jobs: [{ id: "tiny", model: "gpt2-xl", batchSize: 16, work: { samples: 40000 }, sweep: { lr: [0.0001, 0.001] } }],
  };
}

export function submitBody(spec: unknown = tinySpec()): string {
  return JSON.stringify({ spec });
}
