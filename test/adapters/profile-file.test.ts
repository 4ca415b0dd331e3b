import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  appendProfileRecord,
  loadProfileRecords,
  loadProfileStore,
  parseProfileRecords,
} from "../../lambdas/adapters/profile-file.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import type { ProfileRecord } from "../../lambdas/core/estimator/types.ts";

const record: ProfileRecord = {
  jobSignature: "gpt2-xl/full/b16/s1024/decoder-p1557611200-l48-h1600-v50257-f0",
  technique: "fsdp",
  instanceType: "p4d.24xlarge",
  nodes: 1,
  gpusPerNode: 8,
  samplesPerSecond: 120,
  peakMemoryGiBPerGpu: 9.5,
  measuredAt: "2026-11-20T10:00:00Z",
  where: "aws:us-east-1:i-0abc",
};

function issuesOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidWorkloadError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error("expected an InvalidWorkloadError");
}

describe("parseProfileRecords", () => {
  it("reads a JSON array and JSON Lines alike", () => {
    expect(parseProfileRecords(JSON.stringify([record, record]))).toEqual([record, record]);
    expect(parseProfileRecords(`${JSON.stringify(record)}\n\n${JSON.stringify(record)}\n`)).toEqual([record, record]);
  });

  it("reads an empty file as no records", () => {
    expect(parseProfileRecords("  \n")).toEqual([]);
  });

  it("names the line and field of a bad record, with what came", () => {
    const bad = JSON.stringify({ ...record, samplesPerSecond: -3 });

    expect(issuesOf(() => parseProfileRecords(`${JSON.stringify(record)}\n${bad}`, "p.jsonl"))).toEqual([
      "p.jsonl line 2: samplesPerSecond: expected a number > 0, got -3 (number)",
    ]);
  });

  it("rejects unknown keys and malformed JSON, listing every problem", () => {
    const issues = issuesOf(() =>
      parseProfileRecords(`${JSON.stringify({ ...record, sampelsPerSecond: 1 })}\nnot json`, "p.jsonl"),
    );

    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^p\.jsonl line 2: expected valid JSON/);
    expect(issues[1]).toMatch(/^p\.jsonl line 1: sampelsPerSecond: unknown key/);
  });

  it("names the index inside a JSON array", () => {
    const issues = issuesOf(() => parseProfileRecords(JSON.stringify([record, { ...record, nodes: 0 }]), "p.json"));

    expect(issues).toEqual(["p.json[1]: nodes: expected an integer >= 1, got 0 (number)"]);
  });
});

describe("profile files on disk", () => {
  it("appends records as JSON lines and loads them back into a store", () => {
    const path = join(mkdtempSync(join(tmpdir(), "saturn-profiles-")), "profiles.jsonl");

    appendProfileRecord(path, record);
    appendProfileRecord(path, { ...record, gpusPerNode: 4, samplesPerSecond: 61 });

    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(2);
    expect(loadProfileRecords(path)).toHaveLength(2);
    const store = loadProfileStore(path);
    expect(
      store.find(record.jobSignature, { technique: "fsdp", instanceType: "p4d.24xlarge", nodes: 1, gpusPerNode: 4 })
        ?.samplesPerSecond,
    ).toBe(61);
  });

  it("refuses to append an invalid record", () => {
    const path = join(mkdtempSync(join(tmpdir(), "saturn-profiles-")), "profiles.jsonl");

    expect(() => appendProfileRecord(path, { ...record, where: "" })).toThrow(/where/);
  });

  it("reports a missing file as bad input with its path", () => {
    const dir = mkdtempSync(join(tmpdir(), "saturn-profiles-"));
    writeFileSync(join(dir, "other"), "");

    expect(issuesOf(() => loadProfileRecords(join(dir, "missing.jsonl")))).toEqual([
      `${join(dir, "missing.jsonl")}: expected a readable profile file, got ENOENT`,
    ]);
  });
});
