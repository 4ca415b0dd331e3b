/**
 * The EC2 client seam for tests: a wrapper around a real EC2Client (pointed at moto) that
 * records every command and, for the CreateFleet calls a test chooses, answers with an
 * `Errors` list instead of forwarding (moto never reports capacity or quota errors).
 * Everything else goes to moto unchanged.
 */
import { CreateFleetCommand, type CreateFleetCommandOutput, EC2Client } from "@aws-sdk/client-ec2";
import type { Ec2ClientPort } from "../../lambdas/adapters/ec2-fleet.ts";
import { emulatorClientConfig } from "./aws.ts";

export interface FleetFault {
  /** One error code per override, cycled (one code: every override fails with it). */
  readonly codes: readonly string[];
}

export class FaultyEc2 implements Ec2ClientPort {
  readonly real = new EC2Client({ ...emulatorClientConfig(), maxAttempts: 1 });
  readonly commands: object[] = [];
  readonly #faults: (FleetFault | undefined)[] = [];

  /** The next CreateFleet calls answer with these errors (undefined: forward that call). */
  failNextFleets(...faults: (FleetFault | undefined)[]): void {
    this.#faults.push(...faults);
  }

  fleetInputs(): CreateFleetCommand["input"][] {
    return this.commands.filter((c) => c instanceof CreateFleetCommand).map((c) => (c as CreateFleetCommand).input);
  }

  async send(command: object): Promise<unknown> {
    this.commands.push(command);
    if (command instanceof CreateFleetCommand && this.#faults.length > 0) {
      const fault = this.#faults.shift();
      if (fault !== undefined) {
        const input = command.input;
        const output: CreateFleetCommandOutput = {
          $metadata: { httpStatusCode: 200 },
          FleetId: "fleet-injected",
          Instances: [],
          Errors: (input.LaunchTemplateConfigs?.[0]?.Overrides ?? []).map((override, index) => ({
            ErrorCode: fault.codes[index % fault.codes.length],
            ErrorMessage: `${fault.codes[index % fault.codes.length]} (injected at the client seam)`,
            Lifecycle: input.TargetCapacitySpecification?.DefaultTargetCapacityType === "spot" ? "spot" : "on-demand",
            LaunchTemplateAndOverrides: {
              LaunchTemplateSpecification: input.LaunchTemplateConfigs?.[0]?.LaunchTemplateSpecification,
              Overrides: { InstanceType: override.InstanceType, SubnetId: override.SubnetId },
            },
          })),
        };
        return output;
      }
    }
    return this.real.send(command as Parameters<EC2Client["send"]>[0]);
  }
}
