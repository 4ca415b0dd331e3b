/** Default options of the simulated cloud for a workload, with overrides. */
import type { Catalog } from "../../core/catalog/types.ts";
import { interruptionRatePerHour } from "../../core/planner/spot-overhead.ts";
import type { Workload } from "../../core/spec/workload.ts";
import type { SimCloudOptions } from "./sim-options.ts";

export function defaultSimOptions(
  workload: Workload,
  catalog: Catalog,
  overrides: Partial<SimCloudOptions> = {},
): SimCloudOptions {
  const types = new Map(catalog.instanceTypes.map((type) => [type.name, type]));
  return {
    seed: 1,
    region: workload.region,
    interruptionRatePerHour: (name) => {
      const type = types.get(name);
      return type === undefined ? 0 : interruptionRatePerHour(type, workload.spot);
    },
    interruptionNoticeSeconds: 120,
    bootSeconds: workload.planner.bootMinutes * 60,
    bootFraction: [0.6, 1],
    restartSeconds: workload.spot.restartMinutes * 60,
    shutdownSeconds: 30,
    throughputSigma: 0.1,
    throughputBias: 1,
    capacityFailureProbability: 0,
    capacityOutages: [],
    quotas: undefined,
    scriptedCrashes: [],
    workerCrashRatePerHour: 0,
    duplicateEventProbability: 0,
    shuffleEvents: false,
    ...overrides,
  };
}
