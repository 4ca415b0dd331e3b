/**
 * `GET /workloads/{id}/plan` for a large plan, against DynamoDB, S3 and IAM in moto: the
 * answer stays under Lambda's 6 MB response limit (the plan without its `considered`
 * report, plus a summary), the report is in the bucket behind a presigned link, and
 * `saturn plan <id> --html/--json` renders the whole plan through the local API router.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiRouter } from "../../cli/local/api-router.ts";
import { EmulatorIdentities } from "../../cli/local/emulator-identities.ts";
import { main } from "../../cli/main.ts";
import { loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import { consideredReportKey, S3ConsideredReports } from "../../lambdas/adapters/s3-considered-reports.ts";
import { SqsControlQueues } from "../../lambdas/adapters/sqs-control-queues.ts";
import type { ConsideredCandidate, Plan } from "../../lambdas/core/planner/plan.ts";
import { createApiHandler } from "../../lambdas/handlers/api.ts";
import type { ApiRuntime } from "../../lambdas/handlers/api-routes.ts";
import { twoJobPlan } from "../core/reconciler/fixtures.ts";
import { awsEndpoint, emulatorClientConfig, TEST_REGION } from "../support/aws.ts";
import { apiEvent, lambdaContext } from "./support/api-events.ts";
import { createLocalResources } from "./support/local-resources.ts";
import { quietObservability } from "./support/quiet-observability.ts";
import { submitBody } from "./support/specs.ts";

const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;
const JOBS = 1000;
const CANDIDATES_PER_JOB = 30;

/** 1,000 jobs, each with 30 candidates of its own (nothing to group): about 7 MB of `considered`. */
function largePlan(): Plan {
  const base = twoJobPlan();
  const template = base.assignments[0] ?? (undefined as never);
  const assignments = Array.from({ length: JOBS }, (_, k) => ({ ...template, jobId: `job-${k}` }));
  const considered = assignments.map((assignment, k) => ({
    jobId: assignment.jobId,
    candidates: Array.from(
      { length: CANDIDATES_PER_JOB },
      (_, c): ConsideredCandidate => ({
        config: { technique: "ddp", instanceType: c % 2 === 0 ? "g5.xlarge" : "g6e.xlarge", nodes: 1, gpusPerNode: 1 },
        fits: true,
        reason: undefined,
        samplesPerSecond: 100 + k + c / 100,
        runtimeSeconds: 3600 + k * 7 + c,
        costUsd: { spot: 0.42 + c / 1000, "on-demand": 1.006 + k / 1e5 },
        chosen: c === 0,
      }),
    ),
  }));
  return { ...base, assignments, considered };
}

let runtime: ApiRuntime;
let router: ApiRouter;
let apiUrl: string;
let user: Awaited<ReturnType<EmulatorIdentities["createUser"]>>;
let workloadId: string;
const plan = largePlan();

beforeAll(async () => {
  const resources = await createLocalResources();
  const s3 = new S3Client({ ...emulatorClientConfig(), forcePathStyle: true });
  const bucketName = `saturn-reports-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  runtime = {
    store: new DynamoDbStore({ tableName: resources.table.tableName, client: resources.table.client }),
    queues: new SqsControlQueues({
      client: resources.sqs,
      planQueueUrl: resources.planQueueUrl,
      reconcileQueueUrl: resources.reconcileQueueUrl,
    }),
    catalog: loadCatalog(),
    limits: { allowedInstanceTypes: undefined, budgetCapUsd: undefined },
    admins: [],
    clock: () => Date.now(),
    newId: () => `w-report-${Date.now()}`,
    consideredReports: new S3ConsideredReports({ bucketName, s3 }),
  };
  const handler = createApiHandler(() => runtime, quietObservability());
  const identities = new EmulatorIdentities({ endpoint: awsEndpoint(), region: TEST_REGION });
  user = await identities.createUser(`plan-report-${Date.now()}`);
  router = new ApiRouter({
    region: TEST_REGION,
    secretOf: identities.secretOf,
    identityOf: identities.identityOf,
    handler,
  });
  apiUrl = await router.listen(0);
  const submitted = await handler(
    apiEvent("POST", "/workloads", { body: submitBody(), principal: user.arn }),
    lambdaContext(),
  );
  workloadId = String((JSON.parse(submitted.body) as { id: string }).id);
  await runtime.store.putPlan(workloadId, 1, plan);
  const record = await runtime.store.get(workloadId);
  await runtime.store.update(workloadId, record?.version ?? 0, { status: "planned", planVersion: 1 });
}, 120_000);

afterAll(async () => {
  await router?.close();
});

async function saturn(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await main([...args, "--api", apiUrl], {
      remote: {
        credentials: user,
        ask: undefined,
        stdout: { write: (text: string) => (stdout += text), isTTY: false },
        sleep: async () => {},
      },
    });
    return { code, stdout };
  } finally {
    err.mockRestore();
  }
}

describe("GET /workloads/{id}/plan of a large plan", () => {
  it("answers under Lambda's 6 MB limit: the plan without its report, a summary, and a link to the report in the bucket", async () => {
    expect(Buffer.byteLength(JSON.stringify(plan))).toBeGreaterThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    const handler = createApiHandler(() => runtime, quietObservability());
    const response = await handler(
      apiEvent("GET", `/workloads/${workloadId}/plan`, { principal: user.arn }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(200);
    expect(Buffer.byteLength(response.body)).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    const body = JSON.parse(response.body) as {
      plan: Plan;
      considered: { jobs: number; candidates: number; distinctLists: number; report: { url: string } | null };
    };
    expect(body.plan.assignments).toHaveLength(JOBS);
    expect(body.plan.considered).toEqual([]);
    expect(body.considered).toMatchObject({ jobs: JOBS, candidates: JOBS * CANDIDATES_PER_JOB, distinctLists: JOBS });
    const url = new URL(body.considered.report?.url ?? "");
    expect(url.pathname).toContain(consideredReportKey(workloadId, 1));
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
  });

  it("renders the whole plan with saturn plan <id> --json and --html through the link", async () => {
    const json = await saturn(["plan", workloadId, "--json"]);
    expect(json.code).toBe(0);
    const printed = JSON.parse(json.stdout) as Plan;
    expect(printed.considered).toEqual(JSON.parse(JSON.stringify(plan.considered)));

    const html = join(await mkdtemp(join(tmpdir(), "saturn-plan-report-")), "plan.html");
    const text = await saturn(["plan", workloadId, "--html", html]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Plan v1 for ${workloadId}`);
    const page = await readFile(html, "utf8");
    expect(page).toContain("job-999");
    expect(page).toContain("g6e.xlarge");
  });
});
