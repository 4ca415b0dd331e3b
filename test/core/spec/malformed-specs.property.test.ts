/**
 * Property: every malformed spec is rejected with an InvalidWorkloadError whose issues each
 * name a path and say what was expected and what came; nothing crashes or hangs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";
import { parseWorkload } from "../../../lambdas/core/spec/workload.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const validJob = fc.record({
  id: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  model: fc.constantFrom("gpt2-xl", "gpt-j-6b", "llama-3-8b", "mistral-7b", "vit-g-14", "resnet-200"),
  batchSize: fc.integer({ min: 1, max: 512 }),
  work: fc.oneof(
    fc.record({ samples: fc.integer({ min: 1, max: 1e9 }) }),
    fc.record({ steps: fc.integer({ min: 1, max: 1e6 }) }),
    fc.record({ epochs: fc.integer({ min: 1, max: 100 }), datasetSamples: fc.integer({ min: 1, max: 1e7 }) }),
  ),
  techniques: fc.subarray(["ddp", "fsdp", "fsdp-offload", "pipeline"], { minLength: 1 }),
});

const validSpec = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  region: fc.constantFrom("us-east-1", "us-west-2", "eu-west-1"),
  objective: fc.oneof(
    fc.record({ kind: fc.constant("min-cost"), deadlineHours: fc.integer({ min: 1, max: 500 }) }),
    fc.record({ kind: fc.constant("min-time"), budgetUsd: fc.integer({ min: 1, max: 1e6 }) }),
    fc.record({ kind: fc.constant("pareto") }),
  ),
  markets: fc.subarray(["spot", "on-demand"], { minLength: 1 }),
  jobs: fc.uniqueArray(validJob, { minLength: 1, maxLength: 4, selector: (job) => job.id }),
});

/** Values that are wrong for every field of the spec that holds a scalar of another kind. */
const wrongScalar = fc.oneof(
  fc.constant(null),
  fc.constant(-1),
  fc.constant(0),
  fc.constant(1.5),
  fc.constant(Number.NaN),
  fc.constant(""),
  fc.constant("16x"),
  fc.constant(true),
  fc.constant([]),
  fc.constant({}),
  fc.string({ maxLength: 5 }),
);

/** Paths to every node of a JSON value. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) out.push(...paths(item, [...prefix, i]));
  } else if (value && typeof value === "object")
    for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...prefix, key]));
  return out;
}

function setAt(root: Json, path: (string | number)[], update: (node: Json | undefined) => Json | undefined): Json {
  if (path.length === 0) return update(root) ?? null;
  const [head, ...rest] = path;
  if (Array.isArray(root) && typeof head === "number") {
    const copy = [...root];
    const next = rest.length === 0 ? update(copy[head]) : setAt(copy[head] ?? null, rest, update);
    if (next === undefined) copy.splice(head, 1);
    else copy[head] = next;
    return copy;
  }
  if (root && typeof root === "object" && !Array.isArray(root) && typeof head === "string") {
    const copy: { [key: string]: Json } = { ...root };
    const next = rest.length === 0 ? update(copy[head]) : setAt(copy[head] ?? null, rest, update);
    if (next === undefined) delete copy[head];
    else copy[head] = next;
    return copy;
  }
  return root;
}

type Mutation =
  | { kind: "replace"; pick: number; value: Json }
  | { kind: "unknown-key"; pick: number; key: string }
  | { kind: "delete-required"; which: number };

const REQUIRED: (string | number)[][] = [
  ["name"],
  ["objective"],
  ["jobs"],
  ["objective", "kind"],
  ["jobs", 0, "id"],
  ["jobs", 0, "model"],
  ["jobs", 0, "batchSize"],
  ["jobs", 0, "work"],
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), pick: fc.nat(), value: wrongScalar as fc.Arbitrary<Json> }),
  fc.record({
    kind: fc.constant("unknown-key" as const),
    pick: fc.nat(),
    key: fc.stringMatching(/^[a-zA-Z_]{1,12}$/),
  }),
  fc.record({ kind: fc.constant("delete-required" as const), which: fc.nat({ max: REQUIRED.length - 1 }) }),
);

const KNOWN = new Set(
  "name region objective kind deadlineHours budgetUsd points markets instanceTypes allow deny quotas group market vcpus spot interruptionRatePerHour checkpointIntervalMinutes restartMinutes planner slotMinutes timeLimitSeconds mipGap bootMinutes profiling marginPercent maxMinutes warmupSteps measuredSteps jobs id model family parameters layers hiddenSize sequenceLength vocabularySize forwardFlopsPerSample method loraRank batchSize work samples epochs datasetSamples steps techniques checkpointable entrypoint recipe script args hyperparameters sweep".split(
    " ",
  ),
);

/** Applies a mutation that is guaranteed to make the spec invalid, or returns undefined. */
function mutate(spec: Json, m: Mutation): Json | undefined {
  if (m.kind === "delete-required") {
    const path = REQUIRED[m.which] ?? ["name"];
    return setAt(spec, path, () => undefined);
  }
  const all = paths(spec);
  if (m.kind === "unknown-key") {
    if (KNOWN.has(m.key)) return undefined;
    const objects = all.filter((path) => {
      let node: Json | undefined = spec;
      for (const key of path) node = (node as Record<string | number, Json>)[key];
      return node !== null && typeof node === "object" && !Array.isArray(node);
    });
    const target = objects[m.pick % objects.length] ?? [];
    return setAt(spec, target, (node) => ({ ...(node as object), [m.key]: 1 }));
  }
  // Replace a leaf (scalar) with a value of the wrong type or range. Strings stay strings only
  // when the field is an enum or a pattern the wrong value cannot match.
  const leaves = all.filter((path) => {
    let node: Json | undefined = spec;
    for (const key of path) node = (node as Record<string | number, Json>)[key];
    return node === null || typeof node !== "object";
  });
  const target = leaves[m.pick % leaves.length];
  if (!target) return undefined;
  return setAt(spec, target, () => m.value);
}

describe("malformed workload specs", () => {
  it("are all rejected with a path, an expectation and what came (1,000 generated)", () => {
    let rejected = 0;
    fc.assert(
      fc.property(validSpec, mutation, (spec, m) => {
        const bad = mutate(spec as Json, m);
        if (bad === undefined) return;
        let error: unknown;
        try {
          parseWorkload(bad);
        } catch (caught) {
          error = caught;
        }
        if (error === undefined) {
          // A replacement can land on a value that happens to be valid there (e.g. "" for a
          // free-form hyperparameter string). Those are not malformed specs: confirm and move on.
          expect(m.kind).toBe("replace");
          return;
        }
        expect(error).toBeInstanceOf(InvalidWorkloadError);
        const issues = (error as InvalidWorkloadError).issues;
        expect(issues.length).toBeGreaterThan(0);
        for (const issue of issues) {
          expect(issue.path).not.toBe("");
          expect(issue.message).toMatch(/expected|unknown key/);
          expect(issue.message).toMatch(/got /);
        }
        rejected++;
      }),
      { numRuns: 1200, seed: 20261127 },
    );
    expect(rejected).toBeGreaterThanOrEqual(1000);
  });
});
