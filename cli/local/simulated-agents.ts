/**
 * The worker agents of the local stack: for every instance Saturn launched in the emulator,
 * an agent played with the simulated-worker model (docs/execution.md, "Simulated cloud") that
 * speaks the real worker protocol. It reads its orders document from the deployed bucket,
 * "trains" at the planned throughput times a drawn factor in virtual time, and reports
 * through the deployed worker-event queue (agent-alive, heartbeat, checkpoint-saved,
 * completed, stopped, interruption-notice) exactly as the agent on a GPU instance would.
 *
 * Profile assignments (`profile` set, the profiling phase) "train" their warm-up and
 * measured steps at the same drawn true throughput a training attempt would have, then
 * report it as `throughput-measured` (where: `local:<instance id>`) and `completed`; the
 * model's `profileDoesNotFit` can make a configuration report does-not-fit instead, as the
 * harness does when every rank agrees on an out-of-memory.
 *
 * Spot instances are interrupted at the model's rate: the agent reports the notice, the
 * stack delivers EventBridge's "EC2 Spot Instance Interruption Warning" to the EC2-event
 * handler, and two minutes later the instance is terminated in the emulator (moto never
 * reclaims anything itself). Draws come from streams keyed by the seed and the instance or
 * attempt, so a run is reproducible for a given seed and step sequence.
 */
import { randomUUID } from "node:crypto";
import { DescribeInstancesCommand, type EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import {
  type AssignmentMessage,
  bucketLayout,
  type InstanceOrders,
  instanceOrdersSchema,
  WORKER_PROTOCOL,
  type WorkerEvent,
} from "../../lambdas/core/protocol/worker-protocol.ts";
import { exponential, seededStream, standardNormal } from "../../lambdas/core/random/seeded-random.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface AgentModel {
  readonly seed: number;
  /** Boot plus agent start, virtual seconds (the planner allows `planner.bootMinutes`). */
  readonly bootSeconds: number;
  /** Loading a checkpoint before training resumes (the spec's `spot.restartMinutes`). */
  readonly restartSeconds: number;
  readonly heartbeatSeconds: number;
  /** Spot interruptions per instance-hour by instance type (0: never). */
  readonly interruptionRatePerHour: (instanceType: string) => number;
  /** True throughput = planned x lognormal(sigma), drawn once per attempt. */
  readonly throughputSigma: number;
  /** AWS's two-minute notice (EC2 User Guide, "Spot Instance interruption notices"). */
  readonly interruptionNoticeSeconds: number;
  /** A reason when a profile run of this assignment on this type runs out of memory (default: it fits). */
  readonly profileDoesNotFit?: (assignment: AssignmentMessage, instanceType: string) => string | undefined;
}

export const DEFAULT_AGENT_MODEL: AgentModel = {
  seed: 1,
  bootSeconds: 180,
  restartSeconds: 600,
  heartbeatSeconds: 60,
  interruptionRatePerHour: () => 0,
  throughputSigma: 0.1,
  interruptionNoticeSeconds: 120,
};

export interface SimulatedAgentsOptions {
  readonly ec2: EC2Client;
  /** Clients of the deployment's other regions: agents run on the instances launched there too. */
  readonly otherRegionsEc2?: readonly EC2Client[];
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly bucketName: string;
  readonly workerEventsQueueUrl: string;
  readonly clock: VirtualClock;
  readonly model: AgentModel;
  /** Delivers EventBridge's EC2 events for an instance to the stack's rules. */
  readonly onEc2Event: (event: Ec2EventKind, instance: { readonly id: string }) => Promise<void>;
}

export type Ec2EventKind = "spot-interruption-warning" | "state-terminated";

interface Attempt {
  readonly assignment: AssignmentMessage;
  readonly startedAt: number;
  readonly trainingFrom: number;
  readonly fromSamples: number;
  readonly samplesPerSecond: number;
  lastCheckpoint: number;
  lastHeartbeatAt: number;
}

interface LiveInstance {
  readonly ec2: EC2Client;
  readonly id: string;
  readonly workloadId: string;
  readonly instanceType: string;
  readonly spot: boolean;
  readonly state: string;
}

interface Agent {
  readonly instanceId: string;
  /** The client of the instance's region (its reclaim is a TerminateInstances there). */
  readonly ec2: EC2Client;
  readonly workloadId: string;
  readonly instanceType: string;
  readonly spot: boolean;
  readonly seenAt: number;
  noticeAt: number;
  forcedNoticeAt: number | undefined;
  noticed: boolean;
  /** Set by the step that sent the notice; the reclaim comes in a later step, after the stack's rules ran. */
  noticeSentInStep: number;
  alive: boolean;
  lastAliveAt: number;
  ordersSequence: number;
  readonly started: Set<string>;
  readonly attempts: Map<string, Attempt>;
  gone: boolean;
}

export class SimulatedAgents {
  readonly #options: SimulatedAgentsOptions;
  readonly #agents = new Map<string, Agent>();
  #steps = 0;
  #lastStepAt = Number.NaN;
  /** Events sent plus new orders documents read, ever. */
  #activity = 0;
  /** Events sent, by kind (the benchmark and tests read it). */
  readonly sent = new Map<WorkerEvent["kind"], number>();
  /** Virtual time of the latest `completed` event sent (NaN before any). */
  lastCompletedAt = Number.NaN;
  /** Virtual time of each spot interruption warning, by instance. */
  readonly interruptions: { readonly instanceId: string; readonly at: number }[] = [];

  constructor(options: SimulatedAgentsOptions) {
    this.#options = options;
  }

  /**
   * Brings every agent up to the clock's now: boots, orders, progress, interruptions.
   * Answers how much it did (events sent plus new orders documents read): the stack calls it
   * again at the same instant until that is 0, so an order a pass writes at t starts at t
   * (an agent on AWS polls its orders within seconds), not a step later. Calls at one
   * instant are one step for the interruption notice's reclaim (it comes at a later instant).
   */
  async step(): Promise<number> {
    const now = this.#options.clock.nowSeconds();
    if (now !== this.#lastStepAt) this.#steps++;
    this.#lastStepAt = now;
    const before = this.#activity;
    for (const instance of await this.#liveInstances()) {
      let agent = this.#agents.get(instance.id);
      if (agent === undefined) {
        agent = this.#newAgent(instance, now);
        this.#agents.set(instance.id, agent);
      }
    }
    for (const agent of this.#agents.values()) {
      if (agent.gone) continue;
      await this.#stepAgent(agent, now);
    }
    return this.#activity - before;
  }

  /**
   * The earliest instant after `now` at which an agent has something to say on its own: an
   * instance finishing its boot, an attempt finishing its training, a spot notice falling
   * due. The local stack moves its clock there within a step (local-stack.ts), so a job that
   * ends 20 s into a 60 s step is reported, and its GPUs get their next job, 20 s in (as an
   * agent on AWS reports within seconds), not at the end of the step. Infinity: nothing due.
   */
  nextEventAt(): number {
    const { model } = this.#options;
    const now = this.#options.clock.nowSeconds();
    let next = Number.POSITIVE_INFINITY;
    const consider = (at: number) => {
      if (at > now + 1e-3 && at < next) next = at;
    };
    for (const agent of this.#agents.values()) {
      if (agent.gone) continue;
      consider(agent.seenAt + model.bootSeconds);
      if (agent.spot && !agent.noticed)
        consider(Math.min(agent.noticeAt, agent.forcedNoticeAt ?? Number.POSITIVE_INFINITY));
      for (const attempt of agent.attempts.values()) {
        const speed = attempt.samplesPerSecond;
        if (speed > 0) {
          consider(attempt.trainingFrom + (attempt.assignment.task.totalSamples - attempt.fromSamples) / speed);
        }
      }
    }
    return next;
  }

  /**
   * Makes the next step send a spot interruption notice for the instance (the benchmark
   * measures the control plane's reaction to one); false when it is not a live spot agent.
   */
  interruptNow(instanceId: string): boolean {
    const agent = this.#agents.get(instanceId);
    if (agent === undefined || agent.gone || !agent.spot || agent.noticed) return false;
    agent.forcedNoticeAt = this.#options.clock.nowSeconds();
    return true;
  }

  /** Live spot instances with an agent, oldest first. */
  spotInstanceIds(): string[] {
    return [...this.#agents.values()].filter((a) => a.spot && !a.gone && !a.noticed).map((a) => a.instanceId);
  }

  /** Instances the agents know that the emulator still runs. */
  get liveAgents(): number {
    return [...this.#agents.values()].filter((agent) => !agent.gone).length;
  }

  async #liveInstances(): Promise<LiveInstance[]> {
    const found: LiveInstance[] = [];
    const live = new Set<string>();
    for (const ec2 of [this.#options.ec2, ...(this.#options.otherRegionsEc2 ?? [])]) {
      for (const instance of await this.#liveIn(ec2)) {
        live.add(instance.id);
        found.push(instance);
      }
    }
    // An instance the emulator no longer runs takes its attempts with it (no event: it is gone).
    for (const agent of this.#agents.values()) if (!live.has(agent.instanceId)) agent.gone = true;
    return found;
  }

  async #liveIn(ec2: EC2Client): Promise<LiveInstance[]> {
    const found: LiveInstance[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: "tag-key", Values: [SATURN_TAGS.workload] },
            { Name: "instance-state-name", Values: ["pending", "running"] },
          ],
          NextToken: token,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const id = instance.InstanceId;
          const workloadId = instance.Tags?.find((tag) => tag.Key === SATURN_TAGS.workload)?.Value;
          if (id === undefined || workloadId === undefined) continue;
          found.push({
            ec2,
            id,
            workloadId,
            instanceType: instance.InstanceType ?? "unknown",
            spot: instance.InstanceLifecycle === "spot",
            state: instance.State?.Name ?? "unknown",
          });
        }
      }
      token = page.NextToken;
    } while (token !== undefined);
    return found;
  }

  #newAgent(instance: LiveInstance, now: number): Agent {
    const { model } = this.#options;
    const rate = instance.spot ? model.interruptionRatePerHour(instance.instanceType) : 0;
    const untilNotice = exponential(seededStream(model.seed, "interruption", instance.id), rate / 3600);
    return {
      instanceId: instance.id,
      ec2: instance.ec2,
      workloadId: instance.workloadId,
      instanceType: instance.instanceType,
      spot: instance.spot,
      seenAt: now,
      noticeAt: now + model.bootSeconds + untilNotice,
      forcedNoticeAt: undefined,
      noticed: false,
      noticeSentInStep: -1,
      alive: false,
      lastAliveAt: Number.NEGATIVE_INFINITY,
      ordersSequence: -1,
      started: new Set(),
      attempts: new Map(),
      gone: false,
    };
  }

  async #stepAgent(agent: Agent, now: number): Promise<void> {
    const { model } = this.#options;
    if (now < agent.seenAt + model.bootSeconds) return;
    const noticeAt = Math.min(agent.noticeAt, agent.forcedNoticeAt ?? Number.POSITIVE_INFINITY);
    if (agent.spot && !agent.noticed && now >= noticeAt) {
      agent.noticed = true;
      agent.noticeAt = noticeAt;
      agent.noticeSentInStep = this.#steps;
      this.interruptions.push({ instanceId: agent.instanceId, at: noticeAt });
      await this.#send(agent, now, {
        kind: "interruption-notice",
        notice: "spot-instance-action",
        actionAt: iso(noticeAt + model.interruptionNoticeSeconds),
      });
      await this.#options.onEc2Event("spot-interruption-warning", { id: agent.instanceId });
    }
    const orders = await this.#orders(agent);
    if (orders !== undefined) await this.#follow(agent, orders, now);
    for (const attempt of agent.attempts.values()) await this.#train(agent, attempt, now);
    const idle = agent.attempts.size === 0;
    if (!agent.alive || (idle && now - agent.lastAliveAt >= model.heartbeatSeconds * 5)) {
      agent.alive = true;
      agent.lastAliveAt = now;
      await this.#send(agent, now, { kind: "agent-alive", runningAttempts: [...agent.attempts.keys()] });
    }
    const reclaimDue = agent.noticed && now >= agent.noticeAt + model.interruptionNoticeSeconds;
    if (reclaimDue && agent.noticeSentInStep < this.#steps && !agent.gone) {
      // Reclaimed: the agent had the notice to save a checkpoint; work after it is lost.
      for (const attempt of agent.attempts.values()) {
        await this.#send(agent, now, {
          kind: "stopped",
          jobId: attempt.assignment.jobId,
          attemptId: attempt.assignment.attemptId,
          samples: attempt.lastCheckpoint,
          reason: "spot-interruption",
        });
      }
      agent.attempts.clear();
      agent.gone = true;
      await agent.ec2.send(new TerminateInstancesCommand({ InstanceIds: [agent.instanceId] }));
      await this.#options.onEc2Event("state-terminated", { id: agent.instanceId });
    }
  }

  async #orders(agent: Agent): Promise<InstanceOrders | undefined> {
    const key = bucketLayout.orders(agent.workloadId, agent.instanceId);
    let text: string;
    try {
      const object = await this.#options.s3.send(new GetObjectCommand({ Bucket: this.#options.bucketName, Key: key }));
      text = (await object.Body?.transformToString("utf8")) ?? "";
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
    const parsed = instanceOrdersSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new Error(
        `Expected a valid orders document at s3://${this.#options.bucketName}/${key}, got: ${parsed.error.message}`,
      );
    }
    // An agent ignores a document older than one it has read.
    if (parsed.data.sequence < agent.ordersSequence) return undefined;
    if (parsed.data.sequence > agent.ordersSequence) this.#activity++;
    agent.ordersSequence = parsed.data.sequence;
    return parsed.data;
  }

  async #follow(agent: Agent, orders: InstanceOrders, now: number): Promise<void> {
    const { model } = this.#options;
    for (const stop of orders.stops) {
      const attempt = agent.attempts.get(stop.attemptId);
      if (attempt === undefined) continue;
      const progress = this.#progress(attempt, now);
      const samples =
        stop.mode === "checkpoint" && attempt.assignment.checkpointable ? progress : attempt.lastCheckpoint;
      if (samples > attempt.lastCheckpoint) await this.#checkpoint(agent, attempt, samples, now);
      await this.#send(agent, now, {
        kind: "stopped",
        jobId: attempt.assignment.jobId,
        attemptId: attempt.assignment.attemptId,
        samples,
        reason: "stop-order",
      });
      agent.attempts.delete(stop.attemptId);
    }
    if (orders.shutdown) {
      for (const attempt of agent.attempts.values()) {
        await this.#send(agent, now, {
          kind: "stopped",
          jobId: attempt.assignment.jobId,
          attemptId: attempt.assignment.attemptId,
          samples: attempt.lastCheckpoint,
          reason: "shutdown",
        });
      }
      agent.attempts.clear();
      return;
    }
    for (const assignment of orders.assignments) {
      // Node 0 of a multi-node attempt speaks for it; an attempt id never starts twice.
      if (assignment.instanceIds[0] !== agent.instanceId || agent.started.has(assignment.attemptId)) continue;
      agent.started.add(assignment.attemptId);
      const fromSamples = assignment.profile === null ? (assignment.checkpoint.resumeFrom?.samples ?? 0) : 0;
      const sigma = model.throughputSigma;
      const draw = standardNormal(seededStream(model.seed, "throughput", assignment.attemptId));
      agent.attempts.set(assignment.attemptId, {
        assignment,
        startedAt: now,
        trainingFrom: now + (fromSamples > 0 ? model.restartSeconds : 0),
        fromSamples,
        samplesPerSecond: assignment.plannedSamplesPerSecond * Math.exp(sigma * draw - (sigma * sigma) / 2),
        lastCheckpoint: fromSamples,
        lastHeartbeatAt: Number.NEGATIVE_INFINITY,
      });
    }
  }

  #progress(attempt: Attempt, at: number): number {
    const trained = Math.max(0, at - attempt.trainingFrom);
    return Math.min(
      attempt.assignment.task.totalSamples,
      Math.floor(attempt.fromSamples + trained * attempt.samplesPerSecond),
    );
  }

  async #train(agent: Agent, attempt: Attempt, now: number): Promise<void> {
    const { assignment } = attempt;
    const total = assignment.task.totalSamples;
    const speed = attempt.samplesPerSecond;
    const doneAt = speed > 0 ? attempt.trainingFrom + (total - attempt.fromSamples) / speed : Number.POSITIVE_INFINITY;
    if (assignment.profile !== null) {
      if (now >= doneAt) await this.#reportProfile(agent, attempt, doneAt);
      return;
    }
    if (assignment.checkpointable) {
      const interval = assignment.checkpoint.intervalSeconds;
      const lastDue = Math.floor((Math.min(now, doneAt) - attempt.trainingFrom) / interval) * interval;
      if (lastDue > 0) {
        const samples = this.#progress(attempt, attempt.trainingFrom + lastDue);
        if (samples > attempt.lastCheckpoint && samples < total) {
          await this.#checkpoint(agent, attempt, samples, attempt.trainingFrom + lastDue);
        }
      }
    }
    if (now >= doneAt) {
      this.lastCompletedAt = Number.isNaN(this.lastCompletedAt) ? doneAt : Math.max(this.lastCompletedAt, doneAt);
      await this.#send(agent, doneAt, {
        kind: "completed",
        jobId: assignment.jobId,
        attemptId: assignment.attemptId,
        samples: total,
        finalUri: `${assignment.checkpoint.prefix}final`,
      });
      agent.attempts.delete(assignment.attemptId);
      return;
    }
    if (now - attempt.lastHeartbeatAt >= this.#options.model.heartbeatSeconds) {
      attempt.lastHeartbeatAt = now;
      await this.#send(agent, now, {
        kind: "heartbeat",
        jobId: assignment.jobId,
        attemptId: assignment.attemptId,
        samplesDone: this.#progress(attempt, now),
        samplesPerSecond: now > attempt.trainingFrom ? speed : null,
        peakGpuMemoryBytes: null,
      });
    }
  }

  /** The end of a profile run: the measurement (or does-not-fit), then completion, as the agent reports them. */
  async #reportProfile(agent: Agent, attempt: Attempt, at: number): Promise<void> {
    const { assignment } = attempt;
    const profile = assignment.profile;
    if (profile === null) return;
    const reason = this.#options.model.profileDoesNotFit?.(assignment, agent.instanceType);
    await this.#send(agent, at, {
      kind: "throughput-measured",
      jobId: assignment.jobId,
      attemptId: assignment.attemptId,
      record: {
        jobSignature: profile.jobSignature,
        technique: assignment.technique,
        instanceType: agent.instanceType,
        nodes: assignment.instanceIds.length,
        gpusPerNode: assignment.gpusPerInstance,
        samplesPerSecond: reason === undefined ? attempt.samplesPerSecond : 0,
        // The simulated workers have no memory model (as the simulated cloud's profile runs).
        peakMemoryGiBPerGpu: 0,
        measuredAt: iso(at),
        where: `local:${agent.instanceId}`,
        ...(reason === undefined ? {} : { fits: false, reason }),
      },
    });
    await this.#send(agent, at, {
      kind: "completed",
      jobId: assignment.jobId,
      attemptId: assignment.attemptId,
      samples: assignment.task.totalSamples,
      finalUri: null,
    });
    agent.attempts.delete(assignment.attemptId);
  }

  async #checkpoint(agent: Agent, attempt: Attempt, samples: number, at: number): Promise<void> {
    attempt.lastCheckpoint = samples;
    // As on GPU instances, every node uploads its own ranks' shards and reports its part: the
    // control plane counts a multi-node checkpoint only once all nodes have.
    for (const node of attempt.assignment.instanceIds) {
      await this.#send(
        agent,
        at,
        {
          kind: "checkpoint-saved",
          jobId: attempt.assignment.jobId,
          attemptId: attempt.assignment.attemptId,
          samples,
          uri: `${attempt.assignment.checkpoint.prefix}ckpt-${samples}`,
        },
        node,
      );
    }
  }

  async #send(
    agent: Agent,
    at: number,
    body: DistributiveOmit<WorkerEvent, "protocol" | "eventId" | "workloadId" | "instanceId" | "sentAt">,
    instanceId = agent.instanceId,
  ): Promise<void> {
    const event = {
      protocol: WORKER_PROTOCOL,
      eventId: randomUUID(),
      workloadId: agent.workloadId,
      instanceId,
      sentAt: iso(at),
      ...body,
    } as WorkerEvent;
    this.sent.set(event.kind, (this.sent.get(event.kind) ?? 0) + 1);
    this.#activity++;
    await this.#options.sqs.send(
      new SendMessageCommand({ QueueUrl: this.#options.workerEventsQueueUrl, MessageBody: JSON.stringify(event) }),
    );
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function iso(seconds: number): string {
  return new Date(Math.round(seconds * 1000)).toISOString();
}
