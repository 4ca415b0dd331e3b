/**
 * The EC2 client seam of the local stack (`ControlPlaneSeams.wrapEc2`): moto stamps
 * `LaunchTime` and the "User initiated (...)" termination reason with its own wall clock,
 * while the handlers run on the stack's virtual clock, which runs tens of times faster.
 * Unwrapped, an instance launched an hour (virtual) into a run looked as if it had been
 * billed since a few real minutes after the start: the adapter's spend (now - LaunchTime)
 * counted most of that hour again for every replacement instance (issue 8, part f: $103 of
 * GPU metered for a $10.86 plan).
 *
 * This wrapper rewrites those two timestamps in `DescribeInstances` answers to virtual time:
 * the exact virtual instant of a launch or terminate that went through it, else the virtual
 * time the clock showed at moto's real timestamp (launches: the start of moto's second,
 * ends: its end, so spend is never under-counted). Termination reasons are written the way
 * EC2 writes them ("... GMT)"); moto writes "UTC". Nothing else is touched. On AWS no
 * wrapper is needed: EC2 and the Lambdas share the real clock.
 */
import {
  CreateFleetCommand,
  type CreateFleetCommandOutput,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type Instance,
  RunInstancesCommand,
  type RunInstancesCommandOutput,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { Ec2ClientPort } from "../../lambdas/adapters/ec2-fleet.ts";
import type { VirtualClock } from "./virtual-clock.ts";

const REASON_TIME = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (?:UTC|GMT)\)/;

export class VirtualTimeEc2 implements Ec2ClientPort {
  readonly #inner: Ec2ClientPort;
  readonly #clock: Pick<VirtualClock, "nowMs" | "virtualAt">;
  /** instance id -> virtual ms of the launch / of the first terminate sent through this client. */
  readonly #launchedAt = new Map<string, number>();
  readonly #terminatedAt = new Map<string, number>();

  constructor(inner: Ec2ClientPort, clock: Pick<VirtualClock, "nowMs" | "virtualAt">) {
    this.#inner = inner;
    this.#clock = clock;
  }

  async send(command: object): Promise<unknown> {
    const now = this.#clock.nowMs();
    if (command instanceof TerminateInstancesCommand) {
      for (const id of command.input.InstanceIds ?? [])
        if (!this.#terminatedAt.has(id)) this.#terminatedAt.set(id, now);
    }
    const output = await this.#inner.send(command);
    if (command instanceof CreateFleetCommand) {
      for (const group of (output as CreateFleetCommandOutput).Instances ?? [])
        for (const id of group.InstanceIds ?? []) this.#launchedAt.set(id, now);
    } else if (command instanceof RunInstancesCommand) {
      for (const instance of (output as RunInstancesCommandOutput).Instances ?? [])
        if (instance.InstanceId !== undefined) this.#launchedAt.set(instance.InstanceId, now);
    } else if (command instanceof DescribeInstancesCommand) {
      const described = output as DescribeInstancesCommandOutput;
      return {
        ...described,
        Reservations: described.Reservations?.map((reservation) => ({
          ...reservation,
          Instances: reservation.Instances?.map((instance) => this.#virtual(instance)),
        })),
      };
    }
    return output;
  }

  #virtual(instance: Instance): Instance {
    const id = instance.InstanceId ?? "";
    const launchMs =
      this.#launchedAt.get(id) ??
      (instance.LaunchTime === undefined ? undefined : this.#clock.virtualAt(instance.LaunchTime.getTime()));
    const reason = instance.StateTransitionReason;
    const match = reason === undefined ? null : REASON_TIME.exec(reason);
    let virtualReason = reason;
    if (reason !== undefined && match !== null) {
      const realMs = Date.parse(`${match[1]}T${match[2]}Z`);
      const endMs = this.#terminatedAt.get(id) ?? this.#clock.virtualAt(realMs + 999);
      virtualReason = reason.replace(REASON_TIME, `(${gmt(endMs)})`);
    }
    return {
      ...instance,
      ...(launchMs === undefined ? {} : { LaunchTime: new Date(launchMs) }),
      ...(virtualReason === undefined ? {} : { StateTransitionReason: virtualReason }),
    };
  }
}

/** EC2's format: "2017-06-19 16:28:04 GMT" (whole seconds, rounded up so an end is never early). */
function gmt(ms: number): string {
  return `${new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19).replace("T", " ")} GMT`;
}
