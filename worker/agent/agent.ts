/**
 * The agent's main loop on a GPU instance. Level-triggered like the reconciler: each tick
 * it looks at the instance's interruption signals, its orders document and its running
 * attempts, and closes the difference.
 *
 * Invariants:
 * - An attempt id starts at most once per instance, across agent restarts: its work
 *   folder (`workRoot/attempts/<attemptId>`) is created before it starts and marks it.
 * - A document older (`sequence`) than one already read changes nothing; an attempt
 *   missing from a newer document is not a stop.
 * - Every path out of the loop ends the instance (idle, shutdown ordered, control plane
 *   unreachable, interruption) except a signal to the agent itself (systemd stopping it
 *   during an instance shutdown that is already under way).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { bucketLayout } from "../../lambdas/core/protocol/worker-protocol.ts";
import type { AgentConfig } from "./agent-config.ts";
import type { AgentLog } from "./agent-log.ts";
import { AttemptRun, type StopReason } from "./attempt-run.ts";
import type { Clock } from "./clock.ts";
import type { ControlPlanePort } from "./control-plane-client.ts";
import { EventOutbox } from "./event-outbox.ts";
import type { ImdsPort } from "./imds-client.ts";
import { type InstanceIdentity, readInstanceIdentity } from "./instance-identity.ts";
import { readInterruptionNotice } from "./interruption-watch.ts";
import { readOrders } from "./orders-reader.ts";
import type { ProcessRunner } from "./process-runner.ts";
import type { SelfTerminate, TerminationReason } from "./self-termination.ts";

export interface AgentDependencies {
  readonly config: AgentConfig;
  readonly imds: ImdsPort;
  readonly controlPlane: ControlPlanePort;
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly log: AgentLog;
  readonly selfTerminate: SelfTerminate;
  /** Whether the instance has an EFA device (looked up once, at boot). */
  readonly efaPresent: () => Promise<boolean>;
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Aborted when the agent process is asked to stop (SIGTERM from systemd). */
  readonly signal?: AbortSignal;
  /** Told the instance id once IMDS gave it (the terminate action needs it). */
  readonly onIdentity?: (identity: InstanceIdentity) => void;
}

export interface AgentOutcome {
  readonly reason: TerminationReason | "signal";
  readonly identity: InstanceIdentity | undefined;
}

const PROBLEMS_LIMIT = 4096;

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

export async function runAgent(deps: AgentDependencies): Promise<AgentOutcome> {
  const { config, clock, log } = deps;
  const startedAt = clock.now().getTime();
  const tickMs = Math.min(
    1000,
    Math.max(20, (Math.min(config.ordersPollSeconds, config.interruptionPollSeconds) * 1000) / 2),
  );

  // 1. Who am I? Retried until the unreachable limit: without it there are no orders to read.
  let identity: InstanceIdentity | undefined;
  while (!identity) {
    try {
      identity = await readInstanceIdentity(deps.imds, config.workloadId);
    } catch (error) {
      log.warn("instance identity not available yet", { error: String(error) });
      if (clock.now().getTime() - startedAt >= config.unreachableShutdownSeconds * 1000) {
        await endInstance(deps, "identity-unavailable");
        return { reason: "identity-unavailable", identity: undefined };
      }
      if (deps.signal?.aborted) return { reason: "signal", identity: undefined };
      await clock.sleep(config.ordersPollSeconds * 1000);
    }
  }
  deps.onIdentity?.(identity);
  const me = identity;
  log.info("agent starting", { instanceId: me.instanceId, workloadId: me.workloadId, slot: me.slot });
  const efa = config.efa === "on" || (config.efa === "auto" && (await deps.efaPresent()));

  let lastSendOk = clock.now().getTime();
  let lastOrdersOk = clock.now().getTime();
  const outbox = new EventOutbox({
    controlPlane: deps.controlPlane,
    clock,
    log,
    workloadId: me.workloadId,
    instanceId: me.instanceId,
    onDelivered: () => {
      lastSendOk = clock.now().getTime();
    },
  });

  const runs = new Map<string, AttemptRun>();
  const stopped = new Set<string>();
  const rejected = new Set<string>();
  let lastBusy = clock.now().getTime();
  let ordersEtag: string | undefined;
  let lastSequence: number | undefined;
  let shutdownOrdered = false;
  let nextOrders = 0;
  let nextInterruption = 0;
  let nextAlive = 0;
  const ordersKey = bucketLayout.orders(me.workloadId, me.instanceId);
  const attemptDir = (attemptId: string) => join(config.workRoot, "attempts", attemptId);

  const stopAll = (mode: "checkpoint" | "abandon", reason: StopReason) => {
    for (const run of runs.values()) run.requestStop(mode, reason);
  };
  const drain = async () => {
    await Promise.all([...runs.values()].map((run) => run.start()));
    // The last events (stopped, completed) matter most: a few more tries before the instance ends.
    for (let attempt = 0; attempt < 3 && outbox.pendingCount > 0; attempt += 1) {
      await outbox.flush();
      if (outbox.pendingCount > 0) await clock.sleep(Math.min(2000, config.heartbeatSeconds * 1000));
    }
  };

  const pollOrders = async () => {
    let read: Awaited<ReturnType<ControlPlanePort["readOrders"]>>;
    try {
      read = await deps.controlPlane.readOrders(ordersKey, ordersEtag);
      lastOrdersOk = clock.now().getTime();
    } catch (error) {
      log.warn("could not read the orders document", { key: ordersKey, error: String(error) });
      return;
    }
    if (read.status !== "changed") return;
    ordersEtag = read.etag;
    const reading = readOrders(read.body, { workloadId: me.workloadId, instanceId: me.instanceId });
    if (reading.sequence !== null && lastSequence !== undefined && reading.sequence < lastSequence) {
      log.warn("ignoring an orders document older than one already read", { sequence: reading.sequence, lastSequence });
      return;
    }
    if (reading.documentProblems.length > 0) {
      log.warn("orders document rejected in part or whole", { problems: reading.documentProblems });
      void outbox.send({
        kind: "orders-rejected",
        sequence: reading.sequence,
        problems: clip(reading.documentProblems.join("\n"), PROBLEMS_LIMIT),
      });
    }
    if (reading.sequence === null) return;
    lastSequence = reading.sequence;
    for (const rejection of reading.attemptRejections) {
      if (rejected.has(rejection.attemptId) || runs.has(rejection.attemptId)) continue;
      rejected.add(rejection.attemptId);
      void outbox.send({
        kind: "failed",
        jobId: rejection.jobId,
        attemptId: rejection.attemptId,
        exitCode: -1,
        logTail: "",
        reason: clip(`rejected assignment: ${rejection.problems}`, 500),
      });
    }
    for (const stop of reading.stops) {
      stopped.add(stop.attemptId);
      runs.get(stop.attemptId)?.requestStop(stop.mode, "stop-order");
    }
    if (reading.shutdown) {
      if (!shutdownOrdered) log.info("shutdown ordered");
      shutdownOrdered = true;
      // The workload ended for this instance: its work is no longer wanted, so nothing waits on a checkpoint.
      stopAll("abandon", "shutdown");
      return;
    }
    for (const assignment of reading.assignments) {
      const dir = attemptDir(assignment.attemptId);
      if (runs.has(assignment.attemptId) || stopped.has(assignment.attemptId) || existsSync(dir)) continue;
      mkdirSync(dir, { recursive: true });
      const run = new AttemptRun({
        assignment,
        workDir: dir,
        controlPlane: deps.controlPlane,
        outbox,
        clock,
        log,
        runner: deps.runner,
        invocation: {
          python: config.python,
          instanceId: me.instanceId,
          instanceType: me.instanceType,
          region: config.region,
          devices: config.devices,
          efa,
          baseEnv: deps.baseEnv,
        },
        logsUri: `s3://${config.bucket}/${bucketLayout.logs(me.workloadId, assignment.jobId, assignment.attemptId)}`,
        timings: config,
      });
      runs.set(assignment.attemptId, run);
      log.info("attempt assigned", { attemptId: assignment.attemptId, jobId: assignment.jobId });
      void run.start().then(() => {
        runs.delete(assignment.attemptId);
        lastBusy = clock.now().getTime();
      });
    }
  };

  await outbox.send({ kind: "agent-alive", runningAttempts: [] });

  for (;;) {
    const now = clock.now().getTime();
    if (deps.signal?.aborted) {
      stopAll("checkpoint", "shutdown");
      await drain();
      return { reason: "signal", identity: me };
    }
    if (now >= nextInterruption) {
      nextInterruption = now + config.interruptionPollSeconds * 1000;
      let notice: Awaited<ReturnType<typeof readInterruptionNotice>>;
      try {
        notice = await readInterruptionNotice(deps.imds);
      } catch (error) {
        log.warn("could not read interruption notices from IMDS", { error: String(error) });
      }
      if (notice) {
        log.warn("interruption notice", { ...notice });
        void outbox.send({ kind: "interruption-notice", notice: notice.notice, actionAt: notice.actionAt });
        const reason = notice.notice === "spot-instance-action" ? "spot-interruption" : "rebalance";
        stopAll("checkpoint", reason);
        await drain();
        await endInstance(deps, reason);
        return { reason, identity: me };
      }
    }
    if (now >= nextOrders) {
      nextOrders = now + config.ordersPollSeconds * 1000;
      await pollOrders();
    }
    if (runs.size === 0 && now >= nextAlive) {
      nextAlive = now + config.heartbeatSeconds * 1000;
      void outbox.send({ kind: "agent-alive", runningAttempts: [] });
    } else if (runs.size > 0) nextAlive = now + config.heartbeatSeconds * 1000;
    if (outbox.pendingCount > 0) await outbox.flush();
    else lastSendOk = Math.max(lastSendOk, now);

    const after = clock.now().getTime();
    if (shutdownOrdered && runs.size === 0) {
      await drain();
      await endInstance(deps, "shutdown-ordered");
      return { reason: "shutdown-ordered", identity: me };
    }
    if (runs.size === 0 && after - lastBusy >= config.idleShutdownSeconds * 1000) {
      log.warn("idle too long without an assignment", { idleSeconds: (after - lastBusy) / 1000 });
      await drain();
      await endInstance(deps, "idle");
      return { reason: "idle", identity: me };
    }
    if (after - Math.min(lastOrdersOk, lastSendOk) >= config.unreachableShutdownSeconds * 1000) {
      log.error("control plane unreachable too long", {
        sinceOrdersSeconds: (after - lastOrdersOk) / 1000,
        sinceEventSeconds: (after - lastSendOk) / 1000,
      });
      stopAll("checkpoint", "shutdown");
      await drain();
      await endInstance(deps, "control-plane-unreachable");
      return { reason: "control-plane-unreachable", identity: me };
    }
    await clock.sleep(tickMs);
  }
}

async function endInstance(deps: AgentDependencies, reason: TerminationReason): Promise<void> {
  deps.log.warn("ending this instance", { reason });
  try {
    await deps.selfTerminate(reason);
  } catch (error) {
    deps.log.error("self-termination failed", { reason, error: String(error) });
  }
}
