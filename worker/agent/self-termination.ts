/**
 * How the instance ends itself: the last line of defence against a lost control plane
 * and the way an idle or finished instance stops costing money. Injected into the agent,
 * so tests record the call instead of ending the machine they run on.
 *
 * - `terminate-instance`: EC2 TerminateInstances on its own id. The instance role allows
 *   it only on instances tagged with the instance's own workload (a tag condition).
 * - `shutdown`: `shutdown -h now`; the launch template sets
 *   `InstanceInitiatedShutdownBehavior: terminate`, so halting terminates.
 * Either way, if the call fails the agent falls back to the other.
 */
import { type EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import type { ProcessRunner } from "./process-runner.ts";

export type TerminationReason =
  | "idle"
  | "control-plane-unreachable"
  | "shutdown-ordered"
  | "spot-interruption"
  | "rebalance"
  | "identity-unavailable";

export type SelfTerminate = (reason: TerminationReason) => Promise<void>;

export function terminateInstanceAction(ec2: EC2Client, instanceId: () => string | undefined): SelfTerminate {
  return async () => {
    const id = instanceId();
    if (!id) throw new Error("cannot terminate: the instance id is not known");
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  };
}

export function shutdownAction(runner: ProcessRunner, logFile: string): SelfTerminate {
  return async () => {
    const { exitCode } = await runner.start({
      command: "shutdown",
      args: ["-h", "now"],
      env: process.env,
      cwd: "/",
      logFile,
    }).exited;
    if (exitCode !== 0) throw new Error(`shutdown -h now exited ${exitCode}`);
  };
}

/** Tries each action in turn; throws only when all fail. */
export function firstThatWorks(actions: readonly SelfTerminate[]): SelfTerminate {
  return async (reason) => {
    const errors: unknown[] = [];
    for (const action of actions) {
      try {
        await action(reason);
        return;
      } catch (error) {
        errors.push(error);
      }
    }
    throw new AggregateError(errors, "every self-termination action failed");
  };
}
