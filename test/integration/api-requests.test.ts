/**
 * The api function against DynamoDB and SQS in moto: what a request may do, and that a
 * refused request writes nothing (no item in the table, no plan request on the queue).
 */
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import { SqsControlQueues } from "../../lambdas/adapters/sqs-control-queues.ts";
import { createApiHandler } from "../../lambdas/handlers/api.ts";
import type { ApiRuntime } from "../../lambdas/handlers/api-routes.ts";
import { ADMIN_ROLE, ADMIN_SESSION, ALICE, apiEvent, lambdaContext, MALLORY } from "./support/api-events.ts";
import { createLocalResources, type LocalResources } from "./support/local-resources.ts";
import { quietObservability } from "./support/quiet-observability.ts";
import { submitBody, tinySpec } from "./support/specs.ts";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const catalog = loadCatalog();

let resources: LocalResources;
let runtime: ApiRuntime;
let api: ReturnType<typeof createApiHandler>;
let ids = 0;

async function call(method: string, path: string, options: Parameters<typeof apiEvent>[2] = {}) {
  const response = await api(apiEvent(method, path, options), lambdaContext());
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

async function tableItems(): Promise<number> {
  const answer = await resources.table.client.send(new ScanCommand({ TableName: resources.table.tableName }));
  return answer.Items?.length ?? 0;
}

async function planRequests(): Promise<string[]> {
  const answer = await resources.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: resources.planQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (answer.Messages ?? []).map((m) => (JSON.parse(m.Body ?? "{}") as { workloadId: string }).workloadId);
}

beforeEach(async () => {
  // A fresh table and queues per test keep "nothing was written" exact.
  resources = await createLocalResources();
  runtime = {
    store: new DynamoDbStore({ tableName: resources.table.tableName, client: resources.table.client }),
    queues: new SqsControlQueues({
      client: resources.sqs,
      planQueueUrl: resources.planQueueUrl,
      reconcileQueueUrl: resources.reconcileQueueUrl,
    }),
    catalog,
    limits: { allowedInstanceTypes: undefined, budgetCapUsd: undefined },
    admins: [ADMIN_ROLE],
    clock: () => NOW,
    newId: () => `w-test-${++ids}`,
  };
  api = createApiHandler(() => runtime, quietObservability());
});

describe("POST /workloads", () => {
  it("stores the workload in planning, owned by the caller, and asks the planner", async () => {
    const { status, body } = await call("POST", "/workloads", { body: submitBody() });
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: "planning", owner: ALICE, name: "tiny-sweep", jobCount: 2, planVersion: 0 });
    expect(body.specText).toBeUndefined();
    expect(await planRequests()).toEqual([body.id]);
  });

  it("answers a repeated Idempotency-Key with the first workload and refuses the key for another spec", async () => {
    const headers = { "Idempotency-Key": "submit-1" };
    const first = await call("POST", "/workloads", { body: submitBody(), headers });
    const again = await call("POST", "/workloads", { body: submitBody(), headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await call("POST", "/workloads", { body: submitBody(tinySpec("other")), headers });
    expect(other.status).toBe(409);
    expect(String(other.body.message)).toContain("submit-1");
    expect((await runtime.store.list(undefined)).map((w) => w.id)).toEqual([first.body.id]);
  });

  it("refuses malformed JSON with the parser's reason and writes nothing", async () => {
    const { status, body } = await call("POST", "/workloads", { body: '{"spec": {"name": "x",' });
    expect(status).toBe(400);
    expect(body.issues).toEqual([
      { path: "body", message: expect.stringMatching(/^expected a JSON document, got malformed JSON: .+/) },
    ]);
    expect(await tableItems()).toBe(0);
    expect(await planRequests()).toEqual([]);
  });

  it("refuses unknown fields by name, in the body and in the spec", async () => {
    const spec = { ...tinySpec(), colour: "blue" };
    const { status, body } = await call("POST", "/workloads", { body: JSON.stringify({ spec, approve: true }) });
    expect(status).toBe(400);
    const paths = (body.issues as { path: string }[]).map((issue) => issue.path);
    expect(paths).toContain("body.approve");
    const inSpec = await call("POST", "/workloads", { body: JSON.stringify({ spec }) });
    expect((inSpec.body.issues as { path: string }[]).map((issue) => issue.path)).toContain("spec.colour");
    expect(await tableItems()).toBe(0);
  });

  it("lists every problem of a bad spec at once (a negative budget among them)", async () => {
    const spec = {
      ...tinySpec(),
      objective: { kind: "min-time", budgetUsd: -10 },
      jobs: [{ id: "a", model: "gpt2-xl", batchSize: -1, work: { samples: 100 } }],
    };
    const { status, body } = await call("POST", "/workloads", { body: submitBody(spec) });
    expect(status).toBe(400);
    const issues = body.issues as { path: string; message: string }[];
    expect(issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(["spec.objective.budgetUsd", "spec.jobs[0].batchSize"]),
    );
    expect(issues.find((issue) => issue.path === "spec.objective.budgetUsd")?.message).toMatch(/got -10/);
    expect(await tableItems()).toBe(0);
  });

  it("refuses an oversized body with 413 and writes nothing", async () => {
    const padding = "x".repeat(2 * 1024 * 1024 + 1);
    const { status, body } = await call("POST", "/workloads", { body: JSON.stringify({ spec: padding }) });
    expect(status).toBe(413);
    expect(String(body.message)).toMatch(/at most 2097152/);
    expect(await tableItems()).toBe(0);
  });

  it("refuses a request without an IAM principal", async () => {
    const event = apiEvent("POST", "/workloads", { body: submitBody() });
    const response = await api(
      { ...event, requestContext: { ...event.requestContext, identity: {} } } as typeof event,
      lambdaContext(),
    );
    expect(response.statusCode).toBe(403);
    expect(await tableItems()).toBe(0);
  });

  it("answers 400 with reasons to 1,000 generated malformed bodies and writes nothing", async () => {
    const valid = tinySpec();
    const notJson = fc.string({ maxLength: 200 }).filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    });
    const notABody = fc
      .jsonValue({ maxDepth: 3 })
      .filter((value) => value === null || typeof value !== "object" || Array.isArray(value) || !("spec" in value));
    const badValue = fc.oneof(
      fc.constant(null),
      fc.constant(-1),
      fc.constant(""),
      fc.constant([]),
      fc.constant({ unexpected: true }),
      fc.double({ max: -0.001, noNaN: true }),
      fc.string({ maxLength: 10 }).map((text) => `${text}!?`),
    );
    const field = fc.constantFrom(
      ["name"],
      ["objective"],
      ["objective", "deadlineHours"],
      ["objective", "kind"],
      ["markets"],
      ["jobs"],
      ["jobs", 0, "batchSize"],
      ["jobs", 0, "model"],
      ["jobs", 0, "work"],
      ["jobs", 0, "work", "samples"],
      ["planner", "timeLimitSeconds"],
      ["quotas", 0, "vcpus"],
      ["spot", "restartMinutes"],
    );
    const brokenSpec = fc.tuple(field, badValue).map(([path, value]) => {
      const spec = structuredClone(valid) as Record<string, unknown>;
      let node = spec as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      node[path.at(-1) as string | number] = value;
      return JSON.stringify({ spec });
    });
    const extraField = fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((key) => key !== "spec" && key !== "__proto__")
      .map((key) => JSON.stringify({ spec: valid, [key]: 1 }));
    const truncated = fc.integer({ min: 1, max: 200 }).map((cut) => submitBody().slice(0, cut));
    const bodies = fc.oneof(
      notJson,
      notABody.map((value) => JSON.stringify(value)),
      brokenSpec,
      extraField,
      truncated,
    );

    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await api(apiEvent("POST", "/workloads", { body }), lambdaContext());
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const answer = JSON.parse(response.body) as { issues?: { path: string; message: string }[] };
        expect(response.statusCode).toBe(400);
        expect(answer.issues?.length).toBeGreaterThan(0);
        for (const issue of answer.issues ?? []) expect(issue.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000, seed: 8 },
    );
    expect(statuses.get(400)).toBe(1000);
    expect(await tableItems()).toBe(0);
    expect(await planRequests()).toEqual([]);
  });
});

describe("reading and changing a workload", () => {
  async function submitted(principal = ALICE): Promise<string> {
    const { body } = await call("POST", "/workloads", { body: submitBody(), principal });
    return String(body.id);
  }

  it("answers 403 to another owner for read, plan, approve and cancel, and changes nothing", async () => {
    const id = await submitted();
    for (const [method, path] of [
      ["GET", `/workloads/${id}`],
      ["GET", `/workloads/${id}/plan`],
      ["POST", `/workloads/${id}/approve`],
      ["POST", `/workloads/${id}/cancel`],
    ] as const) {
      const { status, body } = await call(method, path, { principal: MALLORY });
      expect(status).toBe(403);
      expect(String(body.message)).toContain("belongs to another principal");
    }
    expect((await runtime.store.get(id))?.status).toBe("planning");
  });

  it("answers 404 for an id that does not exist", async () => {
    expect((await call("GET", "/workloads/w-missing")).status).toBe(404);
  });

  it("lists only the caller's own workloads; an admin's role session sees all", async () => {
    const mine = await submitted(ALICE);
    const theirs = await submitted(MALLORY);
    const own = await call("GET", "/workloads");
    expect((own.body.workloads as { id: string }[]).map((w) => w.id)).toEqual([mine]);
    const all = await call("GET", "/workloads", { principal: ADMIN_SESSION });
    expect((all.body.workloads as { id: string }[]).map((w) => w.id).sort()).toEqual([mine, theirs].sort());
    expect((await call("GET", `/workloads/${theirs}`, { principal: ADMIN_SESSION })).status).toBe(200);
  });

  it("refuses to approve a workload that has no plan yet", async () => {
    const id = await submitted();
    const { status, body } = await call("POST", `/workloads/${id}/approve`);
    expect(status).toBe(409);
    expect(String(body.message)).toContain("no plan yet");
  });

  it("cancels a workload before launch at once, and a second cancel changes nothing", async () => {
    const id = await submitted();
    const first = await call("POST", `/workloads/${id}/cancel`);
    expect(first.status).toBe(202);
    expect(first.body.status).toBe("cancelled");
    const again = await call("POST", `/workloads/${id}/cancel`);
    expect(again.body.version).toBe(first.body.version);
  });

  it("refuses a body on approve, and unknown routes and methods", async () => {
    const id = await submitted();
    expect((await call("POST", `/workloads/${id}/approve`, { body: '{"force": true}' })).status).toBe(400);
    expect((await call("DELETE", `/workloads/${id}`)).status).toBe(405);
    expect((await call("GET", "/nowhere")).status).toBe(404);
  });

  it("serves the catalog with the stack's limits", async () => {
    const { status, body } = await call("GET", "/catalog");
    expect(status).toBe(200);
    expect((body.instanceTypes as unknown[]).length).toBe(catalog.instanceTypes.length);
    expect(body.stack).toEqual({ allowedInstanceTypes: null, budgetCapUsd: null });
  });
});
