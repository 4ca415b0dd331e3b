import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkerEvent } from "../../lambdas/core/protocol/worker-protocol.ts";
import { ControlPlaneClient } from "../../worker/agent/control-plane-client.ts";
import { type AgentSession, openAgentSession } from "./agent-session.ts";

type Kind = WorkerEvent["kind"];
const ofKind = <K extends Kind>(events: readonly WorkerEvent[], kind: K) =>
  events.filter((event): event is Extract<WorkerEvent, { kind: K }> => event.kind === kind);

async function keysUnder(session: AgentSession, prefix: string): Promise<string[]> {
  const page = await session.s3.send(new ListObjectsV2Command({ Bucket: session.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key ?? "").sort();
}

async function readInvocations(session: AgentSession, attemptId: string) {
  const text = await readFile(join(session.workRoot, "attempts", attemptId, "invocations.jsonl"), "utf8");
  return text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { torchrun: string[]; harness: string[]; cuda: string | null });
}

describe("the worker agent", () => {
  let session: AgentSession;
  beforeEach(async () => {
    session = await openAgentSession();
  });
  afterEach(async () => {
    await session.dispose();
  });

  it("resumes from the assigned checkpoint, trains to completion, uploads what it saved and never starts the attempt twice", async () => {
    const resumeKey = "workloads/wl-agent-test/checkpoints/job-1/samples-000000000020/";
    await session.s3.send(
      new PutObjectCommand({
        Bucket: session.bucket,
        Key: `${resumeKey}state.json`,
        Body: JSON.stringify({ samples: 20 }),
      }),
    );
    const assignment = session.assignment(
      {
        checkpoint: {
          prefix: `s3://${session.bucket}/workloads/wl-agent-test/checkpoints/job-1/`,
          intervalSeconds: 1,
          resumeFrom: { uri: `s3://${session.bucket}/${resumeKey}`, samples: 20 },
        },
      },
      { totalSamples: 200, hyperparameters: { stepSeconds: 0.02, checkpointEverySteps: 20 } },
    );
    await session.writeOrders({ sequence: 1, assignments: [assignment] });
    const outcome = session.start();

    await session.waitFor((events) => ofKind(events, "completed").length === 1, "completed");
    // A rewritten document that still lists the finished attempt must not start it again.
    await session.writeOrders({ sequence: 2, assignments: [assignment] });
    await session.waitFor(
      (events) => ofKind(events, "agent-alive").length >= 3,
      "the agent to keep polling after the rewrite",
    );
    await session.writeOrders({ sequence: 3, assignments: [assignment], shutdown: true });

    expect((await outcome).reason).toBe("shutdown-ordered");
    expect(session.terminations).toEqual(["shutdown-ordered"]);
    const invocations = await readInvocations(session, assignment.attemptId);
    expect(invocations).toHaveLength(1);
    expect(invocations[0]?.torchrun).toEqual(["--nnodes", "1", "--nproc-per-node", "2", "--standalone"]);
    expect(invocations[0]?.cuda).toBe("2,3");
    const taskFile = JSON.parse(
      await readFile(join(session.workRoot, "attempts", assignment.attemptId, "task.json"), "utf8"),
    );
    expect(taskFile.resumeFrom).toBe(join(session.workRoot, "attempts", assignment.attemptId, "resume"));
    expect(taskFile.technique).toBe("ddp");

    await session.waitFor(() => true, "the last events");
    const completed = ofKind(session.events, "completed");
    expect(completed).toHaveLength(1);
    expect(completed[0]?.samples).toBe(200);
    expect(completed[0]?.finalUri).toBe(`s3://${session.bucket}/workloads/wl-agent-test/checkpoints/job-1/final/`);
    const heartbeats = ofKind(session.events, "heartbeat");
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats.every((beat) => beat.samplesDone >= 20)).toBe(true);
    const saved = ofKind(session.events, "checkpoint-saved");
    expect(saved.length).toBeGreaterThan(0);
    const keys = await keysUnder(session, "workloads/wl-agent-test/checkpoints/job-1/");
    for (const event of saved) {
      const key = event.uri.replace(`s3://${session.bucket}/`, "");
      expect(keys).toContain(`${key}state.json`);
      expect(keys).toContain(`${key}shard-0.distcp`);
    }
    expect(keys).toContain("workloads/wl-agent-test/checkpoints/job-1/final/model.safetensors");
    expect(await keysUnder(session, `workloads/wl-agent-test/logs/job-1/${assignment.attemptId}.log`)).toHaveLength(1);
  });

  it("hands the job back on a spot interruption notice: checkpoint uploaded, stopped sent, instance ended", async () => {
    const assignment = session.assignment({}, { totalSamples: 1_000_000, hyperparameters: { stepSeconds: 0.02 } });
    await session.writeOrders({ sequence: 1, assignments: [assignment] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "heartbeat").some((beat) => beat.samplesDone > 0), "a heartbeat");

    session.imds.announceSpotInterruption(new Date("2026-12-01T12:02:00Z"));
    expect((await outcome).reason).toBe("spot-interruption");

    await session.waitFor((events) => ofKind(events, "stopped").length === 1, "stopped");
    const [notice] = ofKind(session.events, "interruption-notice");
    expect(notice).toMatchObject({ notice: "spot-instance-action", actionAt: "2026-12-01T12:02:00.000Z" });
    const [stopped] = ofKind(session.events, "stopped");
    expect(stopped?.reason).toBe("spot-interruption");
    const lastSaved = ofKind(session.events, "checkpoint-saved").at(-1);
    expect(lastSaved?.samples).toBe(stopped?.samples);
    expect(stopped?.samples).toBeGreaterThan(0);
    const key = (lastSaved?.uri ?? "").replace(`s3://${session.bucket}/`, "");
    const body = await session.s3.send(new GetObjectCommand({ Bucket: session.bucket, Key: `${key}state.json` }));
    expect(JSON.parse(await (body.Body?.transformToString() ?? "{}"))).toEqual({ samples: stopped?.samples });
    expect(session.events.indexOf(notice as WorkerEvent)).toBeLessThan(session.events.indexOf(stopped as WorkerEvent));
    expect(session.terminations).toEqual(["spot-interruption"]);
    // IMDSv2 only: every read carried a token the fake had issued.
    expect(session.imds.stats.unauthorizedGets).toBe(0);
    expect(session.imds.stats.tokensIssued).toBeGreaterThan(0);
  });

  it("stops on a rebalance recommendation the same way, with its own reason", async () => {
    const assignment = session.assignment({}, { totalSamples: 1_000_000 });
    await session.writeOrders({ sequence: 1, assignments: [assignment] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "heartbeat").length > 0, "a heartbeat");
    session.imds.announceRebalance(new Date("2026-12-01T12:00:30Z"));
    expect((await outcome).reason).toBe("rebalance");
    await session.waitFor((events) => ofKind(events, "stopped").length === 1, "stopped");
    expect(ofKind(session.events, "stopped")[0]?.reason).toBe("rebalance");
    expect(ofKind(session.events, "interruption-notice")[0]?.notice).toBe("rebalance-recommendation");
  });

  it("ends the instance after the idle limit without an assignment", async () => {
    const outcome = await session.start({ idleShutdownSeconds: 0.8 });
    expect(outcome.reason).toBe("idle");
    expect(session.terminations).toEqual(["idle"]);
    await session.waitFor((events) => ofKind(events, "agent-alive").length > 0, "agent-alive");
    expect(ofKind(session.events, "agent-alive")[0]?.instanceId).toBe(session.instanceId);
  });

  it("ends the instance when the control plane cannot be reached for the limit", async () => {
    const unreachable = {
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
      maxAttempts: 1,
    };
    const controlPlane = new ControlPlaneClient({
      s3: new S3Client({ ...unreachable, forcePathStyle: true }),
      sqs: new SQSClient(unreachable),
      bucket: session.bucket,
      queueUrl: session.queueUrl,
    });
    const outcome = await session.start({ unreachableShutdownSeconds: 1 }, controlPlane);
    expect(outcome.reason).toBe("control-plane-unreachable");
    expect(session.terminations).toEqual(["control-plane-unreachable"]);
  });

  it("rejects malformed orders, reports them and keeps running the valid assignment next to a bad one", async () => {
    const outcome = session.start();
    await session.writeRawOrders("{ not json");
    await session.waitFor((events) => ofKind(events, "orders-rejected").length === 1, "orders-rejected for bad JSON");
    await session.writeRawOrders(JSON.stringify({ protocol: "saturn.worker/v0", sequence: 1 }));
    await session.waitFor(
      (events) => ofKind(events, "orders-rejected").length === 2,
      "orders-rejected for a bad envelope",
    );

    const good = session.assignment({}, { totalSamples: 8 });
    const bad = { ...session.assignment({ attemptId: "att-bad" }), task: { ...good.task, batchSize: 0 } };
    await session.writeOrders({ sequence: 2, assignments: [bad, good] });
    await session.waitFor(
      (events) => ofKind(events, "completed").length === 1 && ofKind(events, "failed").length === 1,
      "the bad assignment failed and the good one completed",
    );
    await session.writeOrders({ sequence: 3, shutdown: true });
    expect((await outcome).reason).toBe("shutdown-ordered");

    const [notJson, badEnvelope] = ofKind(session.events, "orders-rejected");
    expect(notJson?.sequence).toBeNull();
    expect(notJson?.problems).toMatch(/expected JSON/);
    expect(badEnvelope?.problems).toMatch(/protocol: expected "saturn.worker\/v1", got "saturn.worker\/v0"/);
    expect(badEnvelope?.problems).toMatch(/workloadId/);
    const [failed] = ofKind(session.events, "failed");
    expect(failed?.attemptId).toBe("att-bad");
    expect(failed?.reason).toMatch(/assignments\.0\.task\.batchSize: expected an integer >= 1/);
    expect(ofKind(session.events, "completed")[0]?.attemptId).toBe(good.attemptId);
  });

  it("honours a checkpoint stop order and ignores a stale document that lists the attempt again", async () => {
    const assignment = session.assignment({}, { totalSamples: 1_000_000 });
    await session.writeOrders({ sequence: 5, assignments: [assignment] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "heartbeat").length > 0, "a heartbeat");
    await session.writeOrders({
      sequence: 6,
      stops: [{ attemptId: assignment.attemptId, mode: "checkpoint", reason: "re-plan" }],
    });
    await session.waitFor((events) => ofKind(events, "stopped").length === 1, "stopped");
    await session.writeOrders({ sequence: 4, assignments: [assignment] });
    await session.writeOrders({ sequence: 7, shutdown: true });
    expect((await outcome).reason).toBe("shutdown-ordered");

    const [stopped] = ofKind(session.events, "stopped");
    expect(stopped?.reason).toBe("stop-order");
    expect(stopped?.samples).toBe(ofKind(session.events, "checkpoint-saved").at(-1)?.samples);
    expect(await readInvocations(session, assignment.attemptId)).toHaveLength(1);
  });

  it("abandons an attempt at once on an abandon order, reporting the last durable samples", async () => {
    const assignment = session.assignment(
      { checkpoint: { ...session.assignment().checkpoint, intervalSeconds: 3600 } },
      { totalSamples: 1_000_000 },
    );
    await session.writeOrders({ sequence: 1, assignments: [assignment] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "heartbeat").length > 0, "a heartbeat");
    await session.writeOrders({
      sequence: 2,
      stops: [{ attemptId: assignment.attemptId, mode: "abandon", reason: "cancelled" }],
    });
    await session.waitFor((events) => ofKind(events, "stopped").length === 1, "stopped");
    await session.writeOrders({ sequence: 3, shutdown: true });
    await outcome;
    expect(ofKind(session.events, "stopped")[0]).toMatchObject({ reason: "stop-order", samples: 0 });
    expect(ofKind(session.events, "checkpoint-saved")).toHaveLength(0);
  });

  it("reports a crash with its exit code and log tail, and bad input with the field the harness named", async () => {
    const crash = session.assignment({ attemptId: "att-crash" }, { hyperparameters: { fake: "crash" } });
    const badInput = session.assignment(
      { attemptId: "att-bad-input", gpuIndices: [0, 1] },
      { hyperparameters: { fake: "bad-input" } },
    );
    await session.writeOrders({ sequence: 1, assignments: [crash, badInput] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "failed").length === 2, "two failures");
    await session.writeOrders({ sequence: 2, shutdown: true });
    await outcome;
    const failed = new Map(ofKind(session.events, "failed").map((event) => [event.attemptId, event]));
    expect(failed.get("att-crash")).toMatchObject({ exitCode: 3, reason: "the harness exited with code 3" });
    expect(failed.get("att-crash")?.logTail).toMatch(/RuntimeError: boom/);
    expect(failed.get("att-bad-input")).toMatchObject({
      exitCode: 2,
      reason: "bad input (entrypoint.script): user module has no get_model()",
    });
  });

  it("maps the harness's collective does-not-fit to a throughput-measured record with fits false", async () => {
    const profile = session.assignment(
      { profile: { warmupSteps: 1, measuredSteps: 3, jobSignature: "sig-oom" } },
      { hyperparameters: { fake: "profile-oom" } },
    );
    await session.writeOrders({ sequence: 1, assignments: [profile] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "completed").length === 1, "completed");
    await session.writeOrders({ sequence: 2, shutdown: true });
    await outcome;
    const [measured] = ofKind(session.events, "throughput-measured");
    expect(measured?.record).toMatchObject({
      jobSignature: "sig-oom",
      technique: profile.technique,
      instanceType: "g6e.12xlarge",
      samplesPerSecond: 0,
      fits: false,
      reason: "out of memory on rank 0 at step 1",
      where: `aws:us-east-1:${session.instanceId}`,
    });
    expect(ofKind(session.events, "failed")).toEqual([]);
  });

  it("forwards profile records as throughput-measured and completes the profile attempt", async () => {
    const profile = session.assignment(
      { profile: { warmupSteps: 1, measuredSteps: 3, jobSignature: "sig-abc" } },
      { hyperparameters: { fake: "profile" } },
    );
    await session.writeOrders({ sequence: 1, assignments: [profile] });
    const outcome = session.start();
    await session.waitFor((events) => ofKind(events, "completed").length === 1, "completed");
    await session.writeOrders({ sequence: 2, shutdown: true });
    await outcome;
    const [measured] = ofKind(session.events, "throughput-measured");
    expect(measured?.record).toMatchObject({
      jobSignature: "sig-abc",
      instanceType: "g6e.12xlarge",
      where: `aws:us-east-1:${session.instanceId}`,
      samplesPerSecond: 123.5,
    });
  });
});
