/**
 * The workload a stored record describes, as the planner and the reconciler see it: the
 * spec re-parsed (it was valid at submit), named by the workload's id rather than the
 * spec's name, so that the tags `saturn:workload=<id>` of two submissions of the same spec
 * never mix; and the stack's allowed instance types applied as extra deny entries.
 */
import type { Catalog } from "../catalog/types.ts";
import { parseWorkloadText, type Workload } from "../spec/workload.ts";
import type { WorkloadRecord } from "../store/workload-store.ts";

/** What the stack (CDK context) imposes on every workload. */
export interface StackLimits {
  /** Instance types or families (`g6e`, `p4d.24xlarge`) the stack may launch; undefined: any in the catalog. */
  readonly allowedInstanceTypes: readonly string[] | undefined;
  /** A plan whose worst-case cost passes this ends `infeasible`; undefined: no cap. */
  readonly budgetCapUsd: number | undefined;
}

export function storedWorkload(record: WorkloadRecord, catalog: Catalog, limits: StackLimits): Workload {
  const workload = parseWorkloadText(record.specText);
  const allowed = limits.allowedInstanceTypes;
  const outside =
    allowed === undefined
      ? []
      : catalog.instanceTypes.filter((type) => !allowed.some((entry) => allows(entry, type))).map((type) => type.name);
  return {
    ...workload,
    name: record.id,
    instanceTypes: { ...workload.instanceTypes, deny: [...new Set([...workload.instanceTypes.deny, ...outside])] },
  };
}

/**
 * One entry of the stack's allowed list: a family (`g6e`), a family pattern (`g6e.*`, the
 * form the stack writes for IAM's `ec2:InstanceType` condition) or an exact type.
 */
function allows(entry: string, type: { readonly name: string; readonly family: string }): boolean {
  if (entry.endsWith(".*")) return type.family === entry.slice(0, -2);
  return entry.includes(".") ? type.name === entry : type.family === entry;
}
