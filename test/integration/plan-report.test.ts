/**
 * `GET /workloads/{id}/plan` for a large plan, against DynamoDB, S3 and IAM in moto: the
 * answer stays under Lambda's 6 MB response limit (the plan without its `considered`
 * report, plus a summary), the report is in the bucket behind a presigned link, and
 * `saturn plan <id> --html/--json` renders the whole plan through the local API router.
 * The plan is stored as the planner stores it (storePlanVersion: report to the bucket, the
 * plan without it to the table), so the route reads only what it answers; a plan stored
 * whole (before that) still answers the same way.
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
import { storePlanVersion } from "../../lambdas/core/control-plane/store-plan-version.ts";
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
/** A workload whose plan was stored whole, with its report inside (before storePlanVersion). */
let storedWholeId: string;
const plan = largePlan();
/** Approximate bytes of the items DynamoDB returned (attribute names and values; binary by length). */
let itemBytesRead = 0;

function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    bytes += value instanceof Uint8Array ? value.byteLength : Buffer.byteLength(JSON.stringify(value) ?? "");
  }
  return bytes;
}

/** The document client with a count of the item bytes each answer carried. */
function countingClient(client: { send(command: unknown): Promise<unknown> }) {
  return {
    async send(command: unknown) {
      const answer = (await client.send(command)) as {
        Item?: Record<string, unknown>;
        Items?: Record<string, unknown>[];
      };
      if (answer.Item !== undefined) itemBytesRead += itemBytes(answer.Item);
      for (const item of answer.Items ?? []) itemBytesRead += itemBytes(item);
      return answer;
    },
  };
}

beforeAll(async () => {
  const resources = await createLocalResources();
  const s3 = new S3Client({ ...emulatorClientConfig(), forcePathStyle: true });
  const bucketName = `saturn-reports-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  runtime = {
    store: new DynamoDbStore({
      tableName: resources.table.tableName,
      client: countingClient(resources.table.client) as typeof resources.table.client,
    }),
    queues: new SqsControlQueues({
      client: resources.sqs,
      planQueueUrl: resources.planQueueUrl,
      reconcileQueueUrl: resources.reconcileQueueUrl,
    }),
    catalog: loadCatalog(),
    limits: { allowedInstanceTypes: undefined, budgetCapUsd: undefined },
    admins: [],
    clock: () => Date.now(),
    newId: () => `w-report-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
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
  const whole = await handler(
    apiEvent("POST", "/workloads", { body: submitBody(), principal: user.arn }),
    lambdaContext(),
  );
  storedWholeId = String((JSON.parse(whole.body) as { id: string }).id);
  // As the planner stores it, and as a plan was stored before the planner wrote reports.
  await storePlanVersion({ store: runtime.store, reports: runtime.consideredReports }, workloadId, 1, plan);
  await runtime.store.putPlan(storedWholeId, 1, plan);
  for (const id of [workloadId, storedWholeId]) {
    const record = await runtime.store.get(id);
    await runtime.store.update(id, record?.version ?? 0, { status: "planned", planVersion: 1 });
  }
}, 120_000);

async function planRoute(id: string) {
  const handler = createApiHandler(() => runtime, quietObservability());
  itemBytesRead = 0;
  const response = await handler(apiEvent("GET", `/workloads/${id}/plan`, { principal: user.arn }), lambdaContext());
  return { response, itemBytesRead };
}

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
    const { response } = await planRoute(workloadId);
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

describe("GET /workloads/{id}/plan reads only what it answers", () => {
  it("reads the plan without its report from the table, a fraction of a plan stored whole", async () => {
    const split = await planRoute(workloadId);
    const whole = await planRoute(storedWholeId);
    expect(whole.response.statusCode).toBe(200);
    const answers = [split, whole].map(
      (read) => JSON.parse(read.response.body) as { plan: Plan; considered: Record<string, unknown> },
    );
    // Both answer the same plan and summary; only the report's link differs by workload.
    expect(answers[0]?.plan).toEqual(answers[1]?.plan);
    const summary = (answer: (typeof answers)[number] | undefined) => ({ ...answer?.considered, report: undefined });
    expect(summary(answers[0])).toEqual(summary(answers[1]));
    const wholeLink = answers[1]?.considered.report as { url: string } | undefined;
    expect(new URL(String(wholeLink?.url)).pathname).toContain(consideredReportKey(storedWholeId, 1));
    // The stored plan no longer carries the report (7 MB of JSON here, gzip in the table's chunks).
    expect(split.itemBytesRead).toBeGreaterThan(0);
    expect(split.itemBytesRead).toBeLessThan(whole.itemBytesRead);
    console.log(
      `plan route item bytes read, 1,000 jobs: stored whole ${whole.itemBytesRead}, split ${split.itemBytesRead}`,
    );
  });
});
