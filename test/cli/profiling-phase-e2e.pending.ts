/**
 * NOT PASSING, NOT PART OF THE SUITE (the name does not match vitest's include): the end-to-end
 * profiling phase on the local stack. It was written to run inside test/cli/remote-commands.test.ts
 * (whose beforeAll starts the LocalStack `stack` and defines `saturn`, `idIn`, `SPEC`, `directory`).
 * Observed on 2026-12-02: submit, the proposed phase with the plan, nothing before approval,
 * launch of the profile instances (on demand, tagged), their assignments and the agents' reports
 * all happen; but worker events sent by the simulated agents in one step are partly never
 * received from the deployed worker-event queue (traced with the sent and received SQS message
 * ids), so a run's throughput-measured may never arrive and the phase ends over-time instead of
 * measured. Cause not found before the deadline (suspect: the emulator acting on the deployed
 * stack's own SQS event source mappings). See docs/plan.md, "On AWS".
 */

/** The tiny sweep with a profiling phase (as test/sim/fixtures/tiny-profiled.yaml), margin 0: only the configuration each plan chose is measured. */
const PROFILED_SPEC = `${SPEC.replace("name: tiny-sweep", "name: tiny-profiled")}
profiling: { budgetUsd: 5, maxMinutes: 120, marginPercent: 0, warmupSteps: 5, measuredSteps: 20 }
`;

describe("the profiling phase on the local stack", () => {
  const emulator = () => ({
    region: "us-east-1",
    endpoint: stack.emulatorEndpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });

  async function instancesOf(id: string) {
    const ec2 = new EC2Client(emulator());
    try {
      const described = await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: "tag:saturn:workload", Values: [id] }] }),
      );
      return (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    } finally {
      ec2.destroy();
    }
  }
  const tag = (instance: { Tags?: { Key?: string; Value?: string }[] }, key: string) =>
    instance.Tags?.find((t) => t.Key === key)?.Value;

  async function storedProfiles(signatures: readonly string[]): Promise<ProfileRecord[]> {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient(emulator()));
    try {
      const records: ProfileRecord[] = [];
      for (const signature of new Set(signatures)) {
        const page = await client.send(
          new QueryCommand({
            TableName: deployedStack().environment[ENV.tableName],
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": `PROFILE#${signature}` },
          }),
        );
        for (const item of page.Items ?? []) records.push(item.record as ProfileRecord);
      }
      return records;
    } finally {
      client.destroy();
    }
  }

  it("shows the profiling price with the plan, profiles on the local stack after approval, plans again on measured figures, and runs that plan to completion", async () => {
    const path = join(directory, "profiled.yaml");
    writeFileSync(path, PROFILED_SPEC);
    const submitted = await saturn(["submit", path]);
    expect(submitted.code, submitted.stdout + submitted.stderr).toBe(EXIT.ok);
    expect(submitted.stdout).toMatch(
      /Profiling phase first \(approving this plan approves it\): \d+ on-demand profile runs, about \$\d+\.\d\d \(hard limit \$5\.00, 120 min\)/,
    );
    const id = idIn(submitted.stdout);

    const first = JSON.parse((await saturn(["plan", id, "--json"])).stdout) as Plan;
    expect(first.assignments.every((a) => a.throughputSource === "estimated")).toBe(true);
    const proposed = JSON.parse((await saturn(["status", id, "--json"])).stdout) as { profiling: ProfilingPhase };
    const phase = proposed.profiling;
    expect(phase.status).toBe("proposed");
    expect(phase.runs.length).toBeGreaterThanOrEqual(1);
    expect(phase.estimatedCostUsd).toBeLessThanOrEqual(5);

    // Nothing launches before approval, even with passes and agents running.
    await stack.step(600);
    expect(await instancesOf(id)).toEqual([]);

    expect((await saturn(["approve", id])).code).toBe(EXIT.ok);
    let status = "";
    let sawProfilers = false;
    for (let step = 0; step < 40; step++) {
      await stack.step(60);
      const profilers = (await instancesOf(id)).filter((i) => tag(i, "saturn:role") === "profiler");
      for (const instance of profilers) {
        sawProfilers = true;
        expect(instance.InstanceLifecycle).toBeUndefined(); // on demand
        expect(tag(instance, "saturn:slot")).toMatch(/^profile-\d+-n\d+$/);
      }
      status = JSON.parse((await saturn(["status", id, "--json"])).stdout).status as string;
      if (status === "planned") break;
    }
    expect(sawProfilers).toBe(true);
    expect(status).toBe("planned");
    // Every profile instance is gone before the measured plan is shown.
    const afterPhase = await instancesOf(id);
    expect(afterPhase.length).toBeGreaterThanOrEqual(phase.runs.length);
    expect(afterPhase.every((i) => i.State?.Name === "terminated")).toBe(true);

    const detail = JSON.parse((await saturn(["status", id, "--json"])).stdout) as {
      planVersion: number;
      profiling: ProfilingPhase;
    };
    expect(detail.planVersion).toBe(2);
    const ended = detail.profiling;
    expect(ended.status).toBe("done");
    expect(ended.runs.map((run) => run.status)).toEqual(ended.runs.map(() => "measured"));
    expect(ended.spentUsd).toBeGreaterThan(0);
    expect(ended.spentUsd).toBeLessThanOrEqual(5);

    // The records are in the profile store with where they were measured.
    const records = await storedProfiles(ended.runs.map((run) => run.jobSignature));
    const key = (r: { technique: string; instanceType: string; nodes: number; gpusPerNode: number }) =>
      `${r.technique}|${r.instanceType}|${r.nodes}|${r.gpusPerNode}`;
    for (const run of ended.runs) {
      const record = records.find((r) => key(r) === key(run.config));
      expect(record?.samplesPerSecond).toBe(run.samplesPerSecond);
      expect(record?.where).toMatch(/^local:i-/);
    }

    // Plan v2 says which figures were measured: those of the profiled configurations.
    const second = JSON.parse((await saturn(["plan", id, "--json"])).stdout) as Plan;
    expect(second.assignments.some((a) => a.throughputSource === "measured")).toBe(true);
    const measuredKeys = new Set(ended.runs.map((run) => key(run.config)));
    for (const assignment of second.assignments) {
      const instanceType = second.instances.find((slot) => slot.id === assignment.instanceIds[0])?.instanceType ?? "";
      const config = {
        technique: assignment.technique,
        instanceType,
        nodes: assignment.instanceIds.length,
        gpusPerNode: assignment.gpusPerInstance,
      };
      expect(assignment.throughputSource === "measured").toBe(measuredKeys.has(key(config)));
    }

    // The second approval runs the measured plan to the end; nothing is left running.
    const watched = await saturn(["approve", id]);
    expect(watched.code).toBe(EXIT.ok);
    const done = await saturn(["status", id, "--watch"]);
    expect(done.stdout).toMatch(/ended completed: 2\/2 jobs completed/);
    expect((await instancesOf(id)).every((i) => i.State?.Name === "terminated")).toBe(true);
  }, 300_000);
});
