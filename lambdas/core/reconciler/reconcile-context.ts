/** Facts the reconciler reads but never changes. */
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
  /** Quotas as the planner saw them before any cut (the home region's). */
  readonly quotas: QuotaTable;
  /** Other regions' quotas for multi-region workloads; a region without an entry uses `quotas`. */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly rules: ReconcilerRules;
}
