/**
 * Simulated worker agents for the instances moto launches: each reads its orders document
 * from the stack's bucket (as the real agent polls it), "trains" at the planned throughput
 * on the suite's clock, and sends protocol messages (heartbeat, checkpoint-saved,
 * completed, stopped, agent-alive) to the real worker-event queue. Only node rank 0 of an
 * attempt reports progress, as the real agent's rank-0 process does.
 */
import { randomUUID } from "node:crypto";
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  bucketLayout,
  instanceOrdersSchema,
  WORKER_PROTOCOL,
  type WorkerEvent,
} from "../../../lambdas/core/protocol/worker-protocol.ts";

interface RunningAttempt {
  readonly workloadId: string;
  readonly jobId: string;
  readonly attemptId: string;
  readonly instanceId: string;
  /** Every node of the attempt: each reports its part of a checkpoint, as real agents do. */
  readonly nodes: readonly string[];
  readonly startedAt: number;
  readonly fromSamples: number;
  readonly totalSamples: number;
  readonly samplesPerSecond: number;
  readonly checkpointable: boolean;
  ended: boolean;
}

export interface AgentOptions {
  readonly ec2: EC2Client;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly bucket: string;
  readonly queueUrl: string;
  /** Rewrites the bodies of one step before they are sent (duplicates, reordering, garbage). */
  readonly transform?: (bodies: string[]) => string[];
}

export class SimulatedAgents {
  readonly #options: AgentOptions;
  /**
   * Running and ended attempts by `attemptKey`. Attempt ids are unique within a workload only
   * (`<job>#<n>`), so two workloads of one spec share them: keyed by the id alone, an attempt
   * of an earlier workload in the same harness counted as already started and the later
   * workload's agent never ran it (docs/control-plane.md, "Handlers").
   */
  readonly #attempts = new Map<string, RunningAttempt>();
  /** Every attempt any agent started: workload, attempt id, instance and resume point. */
  readonly started: { workloadId: string; attemptId: string; instanceId: string; fromSamples: number }[] = [];
  transform: ((bodies: string[]) => string[]) | undefined;
  /** Attempts whose orders the agents read but never start (a broken agent); their alive reports omit them. */
  ignore: ((attemptId: string) => boolean) | undefined;
  /** Instances whose agent never starts (a failed boot): they read no orders and report nothing. */
  silent: ((instanceId: string) => boolean) | undefined;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.transform = options.transform;
  }

  /** One poll of every running instance of the workload at `now` (seconds); returns the events sent. */
  async step(workloadId: string, now: number): Promise<WorkerEvent[]> {
    const events: WorkerEvent[] = [];
    const sentAt = new Date(now * 1000).toISOString();
    const base = (instanceId: string) => ({
      protocol: WORKER_PROTOCOL,
      eventId: randomUUID(),
      workloadId,
      instanceId,
      sentAt,
    });
    // Every node of the attempt reports its part of a checkpoint, as real agents do.
    const checkpointSaved = (attempt: RunningAttempt, samples: number): WorkerEvent[] =>
      attempt.nodes.map((node) => ({
        ...base(node),
        jobId: attempt.jobId,
        attemptId: attempt.attemptId,
        kind: "checkpoint-saved",
        samples,
        uri: this.#checkpointUri(attempt, samples),
      }));
    const running = await this.#runningInstances(workloadId);
    for (const instanceId of running) {
      if (this.silent?.(instanceId)) continue;
      events.push({ ...base(instanceId), kind: "agent-alive", runningAttempts: this.#runningOn(instanceId) });
      const orders = await this.#orders(workloadId, instanceId);
      if (orders === undefined) continue;
      for (const assignment of orders.assignments) {
        const key = attemptKey(workloadId, assignment.attemptId);
        if (assignment.instanceIds[0] !== instanceId || this.#attempts.has(key)) continue;
        if (this.ignore?.(assignment.attemptId)) continue;
        const fromSamples = assignment.checkpoint.resumeFrom?.samples ?? 0;
        this.#attempts.set(key, {
          workloadId,
          jobId: assignment.jobId,
          attemptId: assignment.attemptId,
          instanceId,
          nodes: [...assignment.instanceIds],
          startedAt: now,
          fromSamples,
          totalSamples: assignment.task.totalSamples,
          samplesPerSecond: assignment.plannedSamplesPerSecond,
          checkpointable: assignment.checkpointable,
          ended: false,
        });
        this.started.push({ workloadId, attemptId: assignment.attemptId, instanceId, fromSamples });
      }
      for (const stop of orders.stops) {
        const attempt = this.#attempts.get(attemptKey(workloadId, stop.attemptId));
        if (attempt === undefined || attempt.ended || attempt.instanceId !== instanceId) continue;
        attempt.ended = true;
        const samples = attempt.checkpointable ? this.#samplesAt(attempt, now) : 0;
        const ids = { jobId: attempt.jobId, attemptId: attempt.attemptId };
        if (samples > 0) events.push(...checkpointSaved(attempt, samples));
        events.push({ ...base(instanceId), ...ids, kind: "stopped", samples, reason: "stop-order" });
      }
    }
    for (const attempt of this.#attempts.values()) {
      if (attempt.ended || attempt.workloadId !== workloadId || !running.includes(attempt.instanceId)) continue;
      const samples = this.#samplesAt(attempt, now);
      const ids = { jobId: attempt.jobId, attemptId: attempt.attemptId };
      if (samples >= attempt.totalSamples) {
        attempt.ended = true;
        events.push({ ...base(attempt.instanceId), ...ids, kind: "completed", samples, finalUri: null });
        continue;
      }
      events.push({
        ...base(attempt.instanceId),
        ...ids,
        kind: "heartbeat",
        samplesDone: samples,
        samplesPerSecond: attempt.samplesPerSecond,
        peakGpuMemoryBytes: null,
      });
      if (attempt.checkpointable && samples > attempt.fromSamples) events.push(...checkpointSaved(attempt, samples));
    }
    await this.send(events.map((event) => JSON.stringify(event)));
    return events;
  }

  /** Sends raw bodies to the worker-event queue (after `transform`). */
  async send(bodies: string[]): Promise<void> {
    const out = this.transform === undefined ? bodies : this.transform(bodies);
    for (let k = 0; k < out.length; k += 10) {
      const entries = out.slice(k, k + 10).map((body, index) => ({ Id: String(index), MessageBody: body }));
      await this.#options.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.#options.queueUrl, Entries: entries }));
    }
  }

  #samplesAt(attempt: RunningAttempt, now: number): number {
    return Math.min(
      attempt.totalSamples,
      Math.floor(attempt.fromSamples + attempt.samplesPerSecond * (now - attempt.startedAt)),
    );
  }

  #checkpointUri(attempt: RunningAttempt, samples: number): string {
    return `s3://${this.#options.bucket}/${bucketLayout.checkpointPrefix(attempt.workloadId, attempt.jobId)}${samples}.pt`;
  }

  #runningOn(instanceId: string): string[] {
    // Every node of a multi-node attempt runs its part of it (and says so when alive).
    return [...this.#attempts.values()].filter((a) => !a.ended && a.nodes.includes(instanceId)).map((a) => a.attemptId);
  }

  async #runningInstances(workloadId: string): Promise<string[]> {
    const answer = await this.#options.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:saturn:workload", Values: [workloadId] },
          { Name: "instance-state-name", Values: ["running"] },
        ],
      }),
    );
    return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId ?? "");
  }

  async #orders(workloadId: string, instanceId: string) {
    try {
      const answer = await this.#options.s3.send(
        new GetObjectCommand({ Bucket: this.#options.bucket, Key: bucketLayout.orders(workloadId, instanceId) }),
      );
      return instanceOrdersSchema.parse(JSON.parse((await answer.Body?.transformToString()) ?? "{}"));
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
  }
}

/** An attempt's identity: its id is unique within its workload only. */
function attemptKey(workloadId: string, attemptId: string): string {
  return `${workloadId} ${attemptId}`;
}
