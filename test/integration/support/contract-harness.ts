/**
 * The set-up the flow tests share: one ControlPlaneHarness per test file on the stack's
 * resources created from the contract in the suite's moto server (the file's own table,
 * queues and bucket, so its queues see only its workloads), plus the instance filters
 * they assert with. Files sharing the stack the global setup deploys would drain each
 * other's queues, see docs/control-plane.md, "Handlers".
 */
import { beforeAll } from "vitest";
import { SATURN_TAGS } from "../../../lambdas/core/cloud/cloud-port.ts";
import { ADMIN_ROLE } from "./api-events.ts";
import { createContractResources } from "./contract-resources.ts";
import { ControlPlaneHarness } from "./control-plane-harness.ts";

/** Registers the file's `beforeAll` and returns the harness it builds (call it inside tests). */
export function useContractHarness(): () => ControlPlaneHarness {
  let harness: ControlPlaneHarness | undefined;
  beforeAll(async () => {
    harness = new ControlPlaneHarness(await createContractResources([ADMIN_ROLE]));
  });
  return () => {
    if (harness === undefined) throw new Error("expected the harness to be built in beforeAll");
    return harness;
  };
}

type Instances = Awaited<ReturnType<ControlPlaneHarness["instances"]>>;

/** Instances that are pending or running. */
export const live = (instances: Instances) =>
  instances.filter((i) => i.State?.Name === "pending" || i.State?.Name === "running");

/** The plan slot an instance was launched for (its `saturn:slot` tag). */
export const slotOf = (instance: { Tags?: { Key?: string; Value?: string }[] }) =>
  instance.Tags?.find((tag) => tag.Key === SATURN_TAGS.slot)?.Value;
