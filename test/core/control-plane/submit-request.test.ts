import { describe, expect, it } from "vitest";
import { parseSubmitRequest } from "../../../lambdas/core/control-plane/submit-request.ts";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";

const SPEC = {
  name: "tiny",
  objective: { kind: "min-cost", deadlineHours: 12 },
  jobs: [{ id: "a", model: "gpt2-xl", batchSize: 16, work: { samples: 1000 } }],
};

function issuesOf(body: string): readonly { path: string; message: string }[] {
  try {
    parseSubmitRequest(body);
  } catch (error) {
    if (error instanceof InvalidWorkloadError) return error.issues;
    throw error;
  }
  throw new Error("expected the body to be refused");
}

describe("parseSubmitRequest", () => {
  it("accepts the spec as a JSON object and stores it as JSON text", () => {
    const request = parseSubmitRequest(JSON.stringify({ spec: SPEC }));
    expect(request.workload.jobs.map((job) => job.id)).toEqual(["a"]);
    expect(JSON.parse(request.specText)).toEqual(SPEC);
  });

  it("accepts the spec as YAML text and stores the text as sent", () => {
    const yaml =
      "name: tiny\nobjective: { kind: min-cost, deadlineHours: 12 }\njobs:\n  - { id: a, model: gpt2-xl, batchSize: 16, work: { samples: 1000 } }\n";
    const request = parseSubmitRequest(JSON.stringify({ spec: yaml }));
    expect(request.specText).toBe(yaml);
    expect(request.workload.name).toBe("tiny");
  });

  it("names the reason of malformed JSON", () => {
    const [issue] = issuesOf('{"spec": ');
    expect(issue?.path).toBe("body");
    expect(issue?.message).toMatch(/^expected a JSON document, got malformed JSON: /);
  });

  it("refuses unknown top-level fields by name", () => {
    const issues = issuesOf(JSON.stringify({ spec: SPEC, approve: true }));
    expect(issues.map((issue) => issue.path)).toEqual(["body.approve"]);
  });

  it("lists every problem of the spec under spec.", () => {
    const bad = {
      ...SPEC,
      objective: { kind: "min-time", budgetUsd: -5 },
      jobs: [{ id: "a", model: "gpt2-xl", batchSize: 0, work: { samples: 1000 } }],
    };
    const paths = issuesOf(JSON.stringify({ spec: bad })).map((issue) => issue.path);
    expect(paths).toContain("spec.objective.budgetUsd");
    expect(paths).toContain("spec.jobs[0].batchSize");
  });

  it("points YAML syntax errors at their line", () => {
    const [issue] = issuesOf(JSON.stringify({ spec: "name: [unclosed\n" }));
    expect(issue?.path).toMatch(/^spec (line \d+|\(file\))/);
  });

  it("refuses a body that is not an object", () => {
    expect(issuesOf("[1, 2]")[0]?.path).toBe("body");
    expect(issuesOf('"text"')[0]?.path).toBe("body");
  });

  it("refuses a spec that names a region the deployment does not cover, naming the field and the covered ones", () => {
    const body = JSON.stringify({ spec: { ...SPEC, region: "us-east-1", regions: ["us-east-1", "eu-west-1"] } });
    expect(parseSubmitRequest(body).workload.regions).toEqual(["us-east-1", "eu-west-1"]);
    let issues: readonly { path: string; message: string }[] = [];
    try {
      parseSubmitRequest(body, ["us-east-1", "us-west-2"]);
    } catch (error) {
      if (error instanceof InvalidWorkloadError) issues = error.issues;
    }
    expect(issues.map((issue) => issue.path)).toEqual(["spec.regions"]);
    expect(issues[0]?.message).toMatch(
      /^expected regions this deployment covers \('us-east-1', 'us-west-2'; deploy with -c regions=\.\.\. to cover more\), got 'eu-west-1'$/,
    );
  });

  it("accepts a spec whose regions the deployment covers", () => {
    const body = JSON.stringify({ spec: { ...SPEC, region: "us-east-1", regions: ["us-east-1", "us-west-2"] } });
    expect(parseSubmitRequest(body, ["us-east-1", "us-west-2"]).workload.regions).toEqual(["us-east-1", "us-west-2"]);
    expect(parseSubmitRequest(JSON.stringify({ spec: SPEC }), ["us-east-1"]).workload.region).toBe("us-east-1");
    const elsewhere = JSON.stringify({ spec: { ...SPEC, region: "us-west-2" } });
    expect(() => parseSubmitRequest(elsewhere, ["us-east-1"])).toThrow(/got 'us-west-2'/);
  });
});
