/**
 * Turns zod issues into messages a person can act on: the path as written in the file
 * (`jobs[3].batchSize`), what was expected, and what came (`got "16x"`).
 */
import type { z } from "zod";
import type { InputIssue } from "../errors.ts";
import { editDistance } from "../text/edit-distance.ts";

type PathKey = PropertyKey;

/** Every key the spec knows, for "did you mean" suggestions on unknown keys. */
const KNOWN_KEYS = [
  "name",
  "region",
  "objective",
  "kind",
  "deadlineHours",
  "budgetUsd",
  "points",
  "markets",
  "instanceTypes",
  "allow",
  "deny",
  "quotas",
  "group",
  "market",
  "vcpus",
  "spot",
  "interruptionRatePerHour",
  "checkpointIntervalMinutes",
  "restartMinutes",
  "planner",
  "slotMinutes",
  "timeLimitSeconds",
  "mipGap",
  "bootMinutes",
  "jobs",
  "id",
  "model",
  "family",
  "parameters",
  "layers",
  "hiddenSize",
  "sequenceLength",
  "vocabularySize",
  "forwardFlopsPerSample",
  "method",
  "loraRank",
  "batchSize",
  "work",
  "samples",
  "epochs",
  "datasetSamples",
  "steps",
  "techniques",
  "plugins",
  "module",
  "checkpointable",
  "entrypoint",
  "recipe",
  "script",
  "args",
  "hyperparameters",
  "sweep",
];
const OBJECTIVE_KINDS = ["min-cost", "min-time", "pareto"];

export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

/** A short, unambiguous rendering of the value that came, for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list of ${value.length}`;
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return `${JSON.stringify(value)} (${typeof value})`;
}

function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, small: boolean): string {
  const limit = small ? issue.minimum : issue.maximum;
  const op = small ? (issue.inclusive === false ? ">" : ">=") : issue.inclusive === false ? "<" : "<=";
  return `${op} ${String(limit)}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith("expected ")) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected === "int" ? "an integer" : article(issue.expected)}`;
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const origin = issue.origin as string;
      if (origin === "array" || origin === "set") return `expected a list with ${bound(issue, small)} items`;
      if (origin === "string") return `expected a string of length ${bound(issue, small)}`;
      const integer = "format" in issue && (issue as { format?: string }).format?.includes("int");
      return `expected ${integer ? "an integer" : "a number"} ${bound(issue, small)}`;
    }
    case "invalid_value":
      return `expected ${issue.values.length === 1 ? "" : "one of "}${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
    case "custom":
      return issue.message;
    case "invalid_union": {
      const discriminator = (issue as { discriminator?: string; note?: string }).note;
      if (discriminator) return `expected a valid value (${discriminator})`;
      return issue.message.startsWith("Invalid input") ? "expected one of the documented forms" : issue.message;
    }
    default:
      return issue.message;
  }
}

/** Issues for unknown keys are split per key, each with its own path and a suggestion. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): InputIssue[] {
  const out: InputIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const parent = valueAt(input, issue.path);
      for (const key of issue.keys) {
        const known = knownKeysHint(key);
        const value = parent && typeof parent === "object" ? (parent as Record<string, unknown>)[key] : undefined;
        out.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key${known}, got ${describeValue(value)}`,
        });
      }
      continue;
    }
    if (issue.code === "invalid_union" && isDiscriminatorIssue(issue)) {
      out.push({
        path: formatPath(issue.path),
        message: `expected one of ${OBJECTIVE_KINDS.map((k) => JSON.stringify(k)).join(", ")}, got ${describeValue(valueAt(input, issue.path))}`,
      });
      continue;
    }
    if (issue.code === "invalid_union") {
      const nested = bestUnionBranch(issue);
      if (nested) {
        out.push(...formatIssues(nested, input));
        continue;
      }
    }
    out.push({
      path: formatPath(issue.path),
      message: `${expectation(issue)}, got ${describeValue(valueAt(input, issue.path))}`,
    });
  }
  return out;
}

function knownKeysHint(key: string): string {
  const near = nearestKnownKey(key);
  return near === undefined ? "" : ` (did you mean '${near}'?)`;
}

function nearestKnownKey(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const known of KNOWN_KEYS) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase());
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best;
}

function isDiscriminatorIssue(issue: z.core.$ZodIssue): boolean {
  return issue.code === "invalid_union" && issue.errors.length === 0 && issue.path.at(-1) === "kind";
}

/**
 * For a plain union (model, entrypoint, hyperparameter values) report the branch that got
 * furthest: the one whose issues are fewest and deepest; an object branch beats a scalar one
 * when the value is an object.
 */
function bestUnionBranch(issue: z.core.$ZodIssue): readonly z.core.$ZodIssue[] | undefined {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return undefined;
  const scored = issue.errors.map((branch) => ({
    branch,
    depth: Math.max(...branch.map((i) => i.path.length)),
    typeMismatch: branch.every((i) => (i.code === "invalid_type" || i.code === "invalid_value") && i.path.length === 0),
  }));
  let structural = scored.filter((s) => !s.typeMismatch);
  // Of several object branches, the one whose keys the value uses (no unknown keys at its root).
  if (structural.length > 1) {
    structural = structural.filter((s) => !s.branch.some((i) => i.code === "unrecognized_keys" && i.path.length === 0));
  }
  if (structural.length === 1) {
    const only = structural[0];
    if (only) return only.branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
  }
  return undefined;
}
