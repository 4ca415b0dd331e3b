/**
 * `saturn run --cloud sim` with a `profiling` section: plan from estimates (and any stored
 * profiles), choose the profile runs that could change the plan (core/planner/
 * profiling-phase.ts), carry them out on the simulated cloud, append the records to the
 * profile file, and hand back the store to plan again with. The caller prints the choice
 * (runs and their estimated price) before anything launches.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { appendProfileRecord } from "../../lambdas/adapters/profile-file.ts";
import { profileOnSimulatedCloud, type SimProfilingResult } from "../../lambdas/adapters/sim-cloud/profile-on-sim.ts";
import type { Catalog } from "../../lambdas/core/catalog/types.ts";
import { InMemoryProfileStore } from "../../lambdas/core/estimator/profiles.ts";
import type { ProfileRecord, ProfileStore } from "../../lambdas/core/estimator/types.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { chooseProfilingRuns, type ProfilingChoice } from "../../lambdas/core/planner/profiling-phase.ts";
import type { Workload } from "../../lambdas/core/spec/workload.ts";
import type { ProfilingSettings } from "../../lambdas/core/spec/workload-schema.ts";

export interface SimProfilingPhase {
  readonly choice: ProfilingChoice;
  readonly result: SimProfilingResult;
  /** Stored records plus the new ones (the new ones win: they are the latest). */
  readonly profiles: ProfileStore;
  readonly records: readonly ProfileRecord[];
}

export async function runSimProfilingPhase(options: {
  readonly workload: Workload;
  readonly settings: ProfilingSettings;
  readonly catalog: Catalog;
  readonly plan: Plan;
  readonly stored: readonly ProfileRecord[];
  readonly seed: number;
  readonly profilesPath: string;
  readonly epoch: string;
  /** Called with the choice before anything launches. */
  readonly onChoice: (choice: ProfilingChoice) => void;
}): Promise<SimProfilingPhase> {
  const { workload, settings, catalog } = options;
  const choice = chooseProfilingRuns(
    options.plan,
    workload,
    new InMemoryProfileStore(options.stored),
    settings,
    catalog,
  );
  options.onChoice(choice);
  const result = await profileOnSimulatedCloud({
    workload,
    catalog,
    runs: choice.runs,
    warmupSteps: settings.warmupSteps,
    measuredSteps: settings.measuredSteps,
    epoch: options.epoch,
    sim: { seed: options.seed },
  });
  if (result.records.length > 0) mkdirSync(dirname(options.profilesPath), { recursive: true });
  for (const record of result.records) appendProfileRecord(options.profilesPath, record);
  const all = [...options.stored, ...result.records];
  return { choice, result, profiles: new InMemoryProfileStore(all), records: result.records };
}
