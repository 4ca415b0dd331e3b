/**
 * The body of `POST /workloads`: `{"spec": <the spec as YAML or JSON text, or as a JSON
 * object>}` and nothing else. Parsing never stops at the first problem: every problem of
 * the body and of the spec comes back at once, each naming its field (`spec.jobs[0].batchSize`),
 * what was expected and what came.
 */
import { z } from "zod";
import { type InputIssue, InvalidWorkloadError } from "../errors.ts";
import { formatIssues } from "../spec/format-issues.ts";
import { parseWorkload, parseWorkloadText, type Workload } from "../spec/workload.ts";

/** Largest body accepted, bytes. A 5,000-job spec written out job by job is about 1 MB of JSON. */
export const MAX_SUBMIT_BODY_BYTES = 2 * 1024 * 1024;

const submitBodySchema = z.strictObject({
  spec: z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
    error: "expected the workload spec as YAML or JSON text, or as a JSON object",
  }),
});

export interface SubmitRequest {
  readonly workload: Workload;
  /** What is stored and re-parsed later: the text as sent, or the object as JSON. */
  readonly specText: string;
}

const REQUEST = { subject: "request" } as const;

/**
 * Parses and validates the body text; throws InvalidWorkloadError (HTTP 400) listing every problem.
 *
 * `deploymentRegions`: the regions the deployed stack covers (its own and those of its
 * regional stacks). Launch templates, subnets and security groups exist only there, so a
 * spec that names another region (home or `regions`) is refused here rather than planned
 * into a region this deployment cannot launch in. Absent: any region (`saturn plan`, the
 * simulated cloud).
 */
export function parseSubmitRequest(body: string, deploymentRegions?: readonly string[]): SubmitRequest {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidWorkloadError(
      [{ path: "body", message: `expected a JSON document, got malformed JSON: ${reason}` }],
      {
        ...REQUEST,
        cause: error,
      },
    );
  }
  const parsed = submitBodySchema.safeParse(data);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error.issues, data).map((issue) => ({
      path: issue.path === "(root)" || issue.path === "" ? "body" : `body.${issue.path}`,
      message: issue.message,
    }));
    throw new InvalidWorkloadError(issues, REQUEST);
  }
  const spec = parsed.data.spec;
  let request: SubmitRequest;
  try {
    request =
      typeof spec === "string"
        ? { workload: parseWorkloadText(spec), specText: spec }
        : { workload: parseWorkload(spec), specText: JSON.stringify(spec) };
  } catch (error) {
    if (!(error instanceof InvalidWorkloadError)) throw error;
    throw new InvalidWorkloadError(error.issues.map(inSpec), { ...REQUEST, cause: error });
  }
  const named = [...new Set([request.workload.region, ...request.workload.regions])];
  const uncovered = named.filter((region) => deploymentRegions !== undefined && !deploymentRegions.includes(region));
  if (deploymentRegions !== undefined && uncovered.length > 0) {
    const field = request.workload.regions.some((region) => uncovered.includes(region))
      ? "spec.regions"
      : "spec.region";
    const list = (regions: readonly string[]) => regions.map((region) => `'${region}'`).join(", ");
    throw new InvalidWorkloadError(
      [
        {
          path: field,
          message: `expected regions this deployment covers (${list(deploymentRegions)}; deploy with -c regions=... to cover more), got ${list(uncovered)}`,
        },
      ],
      REQUEST,
    );
  }
  return request;
}

function inSpec(issue: InputIssue): InputIssue {
  const path =
    /^[A-Za-z_]/.test(issue.path) && !issue.path.startsWith("line ") ? `spec.${issue.path}` : `spec ${issue.path}`;
  return { path, message: issue.message };
}
