/**
 * Measured throughput records on disk: a JSON array of ProfileRecords, or JSON Lines (one
 * record per line, which is what appending writers produce). Every record is validated;
 * a bad one fails the whole load with its location and field (`line 3: samplesPerSecond:
 * expected a number > 0, got -1`), so a typo never silently turns into an estimate.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { type InputIssue, InvalidWorkloadError } from "../core/errors.ts";
import { profileRecordSchema } from "../core/estimator/profile-record-schema.ts";
import { InMemoryProfileStore } from "../core/estimator/profiles.ts";
import type { ProfileRecord } from "../core/estimator/types.ts";
import { formatIssues } from "../core/spec/format-issues.ts";

const SUBJECT = "profile file";

export function loadProfileStore(path: string): InMemoryProfileStore {
  return new InMemoryProfileStore(loadProfileRecords(path));
}

export function loadProfileRecords(path: string): ProfileRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new InvalidWorkloadError([{ path, message: `expected a readable profile file, got ${code}` }], {
      cause: error,
      subject: SUBJECT,
    });
  }
  return parseProfileRecords(text, path);
}

/** Parses a JSON array (text starting with `[`) or JSON Lines; blank lines are skipped. */
export function parseProfileRecords(text: string, path = "(profiles)"): ProfileRecord[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const entries: { where: string; value: unknown }[] = [];
  const issues: InputIssue[] = [];
  if (trimmed.startsWith("[")) {
    const value = parseJson(trimmed, path, issues);
    if (value !== undefined && !Array.isArray(value)) {
      issues.push({ path, message: "expected a JSON array of profile records" });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => {
        entries.push({ where: `${path}[${index}]`, value: item });
      });
    }
  } else {
    text.split("\n").forEach((line, index) => {
      if (line.trim() === "") return;
      const where = `${path} line ${index + 1}`;
      const value = parseJson(line, where, issues);
      if (value !== undefined) entries.push({ where, value });
    });
  }
  const records: ProfileRecord[] = [];
  for (const entry of entries) {
    const result = profileRecordSchema.safeParse(entry.value);
    if (result.success) {
      records.push(result.data);
      continue;
    }
    for (const issue of formatIssues(result.error.issues, entry.value)) {
      issues.push({ path: issue.path === "" ? entry.where : `${entry.where}: ${issue.path}`, message: issue.message });
    }
  }
  if (issues.length > 0) throw new InvalidWorkloadError(issues, { subject: SUBJECT });
  return records;
}

/** Appends one validated record as a JSON line (the file is created when missing). */
export function appendProfileRecord(path: string, record: ProfileRecord): void {
  const result = profileRecordSchema.safeParse(record);
  if (!result.success) {
    throw new InvalidWorkloadError(formatIssues(result.error.issues, record), { subject: "profile record" });
  }
  appendFileSync(path, `${JSON.stringify(result.data)}\n`);
}

function parseJson(text: string, where: string, issues: InputIssue[]): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    issues.push({
      path: where,
      message: `expected valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    });
    return undefined;
  }
}
