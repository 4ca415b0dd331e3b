import { describe, expect, it } from "vitest";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";
import { calibrate, parseCalibrationRows } from "../../../lambdas/core/estimator/calibration.ts";
import { catalog, publishedThroughputDocument } from "./job-fixtures.ts";

const rows = parseCalibrationRows(publishedThroughputDocument());
const included = rows.filter((row) => row.excludedBecause === undefined);

describe("published throughput data", () => {
  it("holds at least 12 calibration rows that the check covers", () => {
    expect(included.length).toBeGreaterThanOrEqual(12);
  });

  it("cites a repository, path and commit for every row", () => {
    for (const row of rows) {
      expect(row.source, row.id).toMatch(/@[0-9a-f]{7,40}/);
    }
  });

  it("has unique row ids", () => {
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  });

  it("rejects a row with a misspelt field, naming it", () => {
    const document = publishedThroughputDocument() as { rows: Record<string, unknown>[] };
    const [first] = document.rows;
    const broken = { ...document, rows: [{ ...first, gpuz: "A100" }] };
    expect(() => parseCalibrationRows(broken)).toThrow(InvalidWorkloadError);
    expect(() => parseCalibrationRows(broken)).toThrow(/rows\[0\]\.gpuz/);
  });
});

describe("estimator calibration", () => {
  it.each(included.map((row) => [row.id, row] as const))("lands within ±35%% of %s", (_id, row) => {
    const result = calibrate(row, catalog);

    expect(result.estimate.fits, result.estimate.fits ? "" : result.estimate.reason).toBe(true);
    expect(result.relativeError).toBeDefined();
    expect(Math.abs(result.relativeError ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(0.35);
  });

  it("states why each excluded row is excluded, and the estimator indeed disagrees on it", () => {
    for (const row of rows.filter((candidate) => candidate.excludedBecause !== undefined)) {
      const result = calibrate(row, catalog);
      expect(result.relativeError === undefined || Math.abs(result.relativeError) > 0.35, row.id).toBe(true);
    }
  });
});
