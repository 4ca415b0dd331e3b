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
  /**
   * What the stack may launch, as the stack writes it for IAM's `ec2:InstanceType`
   * condition: families (`g6e`), types (`p4d.24xlarge`) or patterns (`g6e.*`); undefined:
   * any type in the catalog.
   */
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
      : catalog.instanceTypes
          .filter((type) => !allowed.some((entry) => allows(entry, type.name, type.family)))
          .map((type) => type.name);
  return {
    ...workload,
    name: record.id,
    instanceTypes: { ...workload.instanceTypes, deny: [...new Set([...workload.instanceTypes.deny, ...outside])] },
  };
}

/** One allow entry against a type: a pattern (`*`, `?`), an exact type (has a dot), or a family. */
export function allows(entry: string, typeName: string, family: string): boolean {
  if (/[*?]/.test(entry)) {
    const pattern = entry
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    return new RegExp(`^${pattern}$`).test(typeName);
  }
  return entry.includes(".") ? typeName === entry : family === entry;
}
