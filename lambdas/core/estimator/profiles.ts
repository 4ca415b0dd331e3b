/**
 * Measured throughput records, looked up by job signature and configuration. A measured
 * record overrides the estimator for that exact configuration; the file adapter
 * (`lambdas/adapters/profile-file.ts`) loads them from disk.
 */
import { configurationKey } from "./estimate.ts";
import type { Configuration, ProfileRecord, ProfileStore } from "./types.ts";

export class InMemoryProfileStore implements ProfileStore {
  readonly #byKey = new Map<string, ProfileRecord>();

  /**
   * When several records share a signature and configuration, a measurement beats a
   * plug-in's own estimate whatever their dates (timed steps are the better evidence), and
   * among records of the same basis the latest `measuredAt` wins.
   */
  constructor(records: readonly ProfileRecord[]) {
    for (const record of records) {
      const key = recordKey(record.jobSignature, record);
      const existing = this.#byKey.get(key);
      if (existing === undefined || preferred(record, existing)) this.#byKey.set(key, record);
    }
  }

  find(jobSignature: string, config: Configuration): ProfileRecord | undefined {
    return this.#byKey.get(recordKey(jobSignature, config));
  }

  get size(): number {
    return this.#byKey.size;
  }
}

/** Whether `record` should replace `existing` (same signature and configuration). */
function preferred(record: ProfileRecord, existing: ProfileRecord): boolean {
  const rank = isMeasurement(record) ? 1 : 0;
  const existingRank = isMeasurement(existing) ? 1 : 0;
  if (rank !== existingRank) return rank > existingRank;
  return existing.measuredAt < record.measuredAt;
}

/** Timed steps (profile mode, a finished job), as opposed to a plug-in's own estimate. */
export function isMeasurement(record: ProfileRecord): boolean {
  return record.basis !== "plugin-estimate";
}

function recordKey(jobSignature: string, config: Configuration): string {
  return `${jobSignature}|${configurationKey(config)}`;
}
