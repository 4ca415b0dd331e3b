/**
 * Measured throughput records, looked up by job signature and configuration. A measured
 * record overrides the estimator for that exact configuration; the file adapter
 * (`lambdas/adapters/profile-file.ts`) loads them from disk.
 */
import { configurationKey } from "./estimate.ts";
import type { Configuration, ProfileRecord, ProfileStore } from "./types.ts";

export class InMemoryProfileStore implements ProfileStore {
  readonly #byKey = new Map<string, ProfileRecord>();

  /** When several records share a signature and configuration, the latest `measuredAt` wins. */
  constructor(records: readonly ProfileRecord[]) {
    for (const record of records) {
      const key = recordKey(record.jobSignature, record);
      const existing = this.#byKey.get(key);
      if (existing === undefined || existing.measuredAt < record.measuredAt) this.#byKey.set(key, record);
    }
  }

  find(jobSignature: string, config: Configuration): ProfileRecord | undefined {
    return this.#byKey.get(recordKey(jobSignature, config));
  }

  get size(): number {
    return this.#byKey.size;
  }
}

function recordKey(jobSignature: string, config: Configuration): string {
  return `${jobSignature}|${configurationKey(config)}`;
}
