/**
 * After a workload ends, the CLI asks EC2 itself, by tag, whether anything of it is still
 * up: tags are the truth about what runs (docs/control-plane.md), not the control plane's
 * last observation. The standard credential chain and endpoint settings apply, so against
 * `saturn local` (which prints `AWS_ENDPOINT_URL_EC2`) this describes the emulator.
 */
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";

export interface LeftoverInstance {
  readonly id: string;
  readonly state: string;
}

export type LeftoverLookup = (workloadId: string, region: string) => Promise<readonly LeftoverInstance[]>;

export const describeLeftoverInstances: LeftoverLookup = async (workloadId, region) => {
  const ec2 = new EC2Client({ region, maxAttempts: 2 });
  try {
    const found: LeftoverInstance[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${SATURN_TAGS.workload}`, Values: [workloadId] },
            { Name: "instance-state-name", Values: ["pending", "running", "shutting-down", "stopping", "stopped"] },
          ],
          NextToken: token,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          found.push({ id: instance.InstanceId ?? "?", state: instance.State?.Name ?? "?" });
        }
      }
      token = page.NextToken;
    } while (token !== undefined);
    return found;
  } finally {
    ec2.destroy();
  }
};
