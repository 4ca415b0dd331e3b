/**
 * Every event the agent sends passes through here: stamped (protocol, eventId, workload,
 * instance, sentAt), validated against the shared schema, queued, and sent in order. A
 * send that fails keeps the event and everything after it for the next flush; the
 * ingest dedupes by `eventId`, so a resend after an unclear failure is harmless. An event
 * that fails the schema is an agent bug: it is logged and dropped, never sent.
 */
import { randomUUID } from "node:crypto";
import { WORKER_PROTOCOL, type WorkerEvent, workerEventSchema } from "../../lambdas/core/protocol/worker-protocol.ts";
import type { AgentLog } from "./agent-log.ts";
import type { Clock } from "./clock.ts";
import type { ControlPlanePort } from "./control-plane-client.ts";

type Stamp = "protocol" | "eventId" | "workloadId" | "instanceId" | "sentAt";
/** An event as the agent's parts describe it; the outbox adds the stamp fields. */
export type EventBody = WorkerEvent extends infer E ? (E extends WorkerEvent ? Omit<E, Stamp> : never) : never;

export interface EventOutboxOptions {
  readonly controlPlane: ControlPlanePort;
  readonly clock: Clock;
  readonly log: AgentLog;
  readonly workloadId: string;
  readonly instanceId: string;
  /** Called after each successful send: the control plane is reachable. */
  readonly onDelivered: () => void;
}

export class EventOutbox {
  readonly #options: EventOutboxOptions;
  readonly #pending: string[] = [];
  #flushing: Promise<void> | undefined;

  constructor(options: EventOutboxOptions) {
    this.#options = options;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Queues one event and starts a flush; resolves once this flush ends (sent or kept). */
  send(body: EventBody): Promise<void> {
    const event = {
      protocol: WORKER_PROTOCOL,
      eventId: randomUUID(),
      workloadId: this.#options.workloadId,
      instanceId: this.#options.instanceId,
      sentAt: this.#options.clock.now().toISOString(),
      ...body,
    };
    const parsed = workerEventSchema.safeParse(event);
    if (!parsed.success) {
      this.#options.log.error("dropping an event that fails the worker protocol", {
        kind: body.kind,
        problems: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
      });
      return Promise.resolve();
    }
    this.#pending.push(JSON.stringify(parsed.data));
    return this.flush();
  }

  /** Sends what is queued, in order, one flush at a time. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const next = this.#pending[0] as string;
      try {
        await this.#options.controlPlane.sendEvent(next);
      } catch (error) {
        this.#options.log.warn("could not send an event; keeping it for the next flush", {
          pending: this.#pending.length,
          error: String(error),
        });
        return;
      }
      this.#pending.shift();
      this.#options.onDelivered();
    }
  }
}
