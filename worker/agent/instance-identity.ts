/**
 * Who this instance is, from IMDS: its id, private address and type, and the Saturn tags
 * the control plane launched it with (tags in instance metadata must be enabled on the
 * launch template). The workload tag is required: an instance that cannot tell which
 * workload it serves cannot find its orders.
 */
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import type { ImdsPort } from "./imds-client.ts";

export interface InstanceIdentity {
  readonly instanceId: string;
  readonly localIpv4: string;
  readonly instanceType: string;
  readonly workloadId: string;
  /** The plan slot the instance fills, e.g. "i3"; null when the tag is absent. */
  readonly slot: string | null;
}

export class InstanceIdentityError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InstanceIdentityError";
  }
}

async function required(imds: ImdsPort, path: string): Promise<string> {
  const value = await imds.get(path);
  if (value === null || value.trim() === "") throw new InstanceIdentityError(`IMDS has no ${path}`);
  return value.trim();
}

export async function readInstanceIdentity(
  imds: ImdsPort,
  fallbackWorkloadId: string | undefined,
): Promise<InstanceIdentity> {
  const instanceId = await required(imds, "meta-data/instance-id");
  const localIpv4 = await required(imds, "meta-data/local-ipv4");
  const instanceType = await required(imds, "meta-data/instance-type");
  const workloadTag = (await imds.get(`meta-data/tags/instance/${SATURN_TAGS.workload}`))?.trim();
  const slotTag = (await imds.get(`meta-data/tags/instance/${SATURN_TAGS.slot}`))?.trim();
  const workloadId = workloadTag || fallbackWorkloadId;
  if (!workloadId)
    throw new InstanceIdentityError(
      `instance ${instanceId} has no ${SATURN_TAGS.workload} tag in IMDS (enable tags in instance metadata on the launch template) and the config names no workloadId`,
    );
  return { instanceId, localIpv4, instanceType, workloadId, slot: slotTag || null };
}
