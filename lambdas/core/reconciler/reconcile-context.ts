/** Facts the reconciler reads but never changes. */
import type { Catalog } from "../catalog/types.ts";
import type { QuotaTable } from "../planner/api.ts";
import type { Workload } from "../spec/workload.ts";
import type { Market, QuotaGroup } from "../spec/workload-schema.ts";
import type { ReconcilerRules } from "./reconciler-rules.ts";

/** What the reconciler needs of an instance type (a projection of the catalog entry). */
export interface InstanceShape {
  readonly gpus: number;
  readonly vcpus: number;
  readonly quotaGroups: { readonly [M in Market]: QuotaGroup };
}

export interface ReconcileContext {
  readonly workload: Workload;
  readonly instanceTypes: ReadonlyMap<string, InstanceShape>;
  /** Quotas as the planner saw them before any cut. */
  readonly quotas: QuotaTable;
  readonly rules: ReconcilerRules;
}

/** The reconciler's view of every catalog type. */
export function instanceShapes(catalog: Catalog): ReadonlyMap<string, InstanceShape> {
  return new Map(
    catalog.instanceTypes.map((type) => [
      type.name,
      { gpus: type.gpus, vcpus: type.vcpus, quotaGroups: type.quotaGroups },
    ]),
  );
}
