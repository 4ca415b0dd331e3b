/**
 * The execution record's worker fold in bucket items (dynamodb-fold-buckets.ts), against
 * moto: a 5,000-job fold stores and loads whole, a save writes only the buckets that changed,
 * a save that loses the race leaves nothing visible, and a record with the fold inline (as
 * stored before the buckets) still loads.
 */
import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { DOCUMENT_LIMITS, decodeDocument, encodeDocument } from "../../lambdas/adapters/dynamodb-documents.ts";
import { FOLD_PREFIX, foldBucketKey } from "../../lambdas/adapters/dynamodb-fold-buckets.ts";
import { type DocumentClientPort, DynamoDbStore, StoreReadError } from "../../lambdas/adapters/dynamodb-store.ts";
import { createExecutionRecord } from "../../lambdas/core/reconciler/create-record.ts";
import type { ExecutionRecord } from "../../lambdas/core/reconciler/execution-record.ts";
import { splitWorkerFold } from "../../lambdas/core/reconciler/worker-fold-buckets.ts";
import { applyToFold, type WorkerFoldState } from "../../lambdas/core/reconciler/worker-fold-state.ts";
import { VersionConflictError } from "../../lambdas/core/store/workload-store.ts";
import { twoJobPlan } from "../core/reconciler/fixtures.ts";
import { smallWorkload } from "../sim/fixtures/workloads.ts";
import { createTestTable, type TestTable } from "../support/dynamodb-table.ts";
import { foldCompleted, foldEvents, maxWorkerFold } from "./fixtures/max-worker-fold.ts";

/** The fold items a pass puts, by sort key (BatchWriteItem put requests). */
class FoldWrites implements DocumentClientPort {
  readonly keys: string[] = [];
  constructor(private readonly inner: DocumentClientPort) {}
  send(command: object): Promise<unknown> {
    const input = (
      command as { input?: { RequestItems?: Record<string, { PutRequest?: { Item: { sk: string } } }[]> } }
    ).input;
    for (const requests of Object.values(input?.RequestItems ?? {})) {
      for (const request of Array.isArray(requests) ? requests : []) {
        const sk = request.PutRequest?.Item.sk;
        if (sk?.startsWith(FOLD_PREFIX)) this.keys.push(sk);
      }
    }
    return this.inner.send(command);
  }
}

const small = createExecutionRecord(smallWorkload({ jobs: 2 }), twoJobPlan(), 1000);
const withFold = (state: WorkerFoldState, cursor = "EL#000000000000001"): ExecutionRecord => ({
  ...small,
  workerFold: { cursor, state },
});

describe("DynamoDbStore's worker fold buckets", { timeout: 60_000 }, () => {
  let table: TestTable;
  let writes: FoldWrites;
  let store: DynamoDbStore;

  beforeEach(async () => {
    table = await createTestTable();
    writes = new FoldWrites(table.client);
    store = new DynamoDbStore({ tableName: table.tableName, client: writes });
  });

  async function foldItems(): Promise<string[]> {
    const result = (await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": "W#w1", ":prefix": FOLD_PREFIX },
      }),
    )) as { Items?: { sk: string }[] };
    return (result.Items ?? []).map((item) => item.sk).sort();
  }

  /** The bucket keys the stored record names (its head is one inline document here). */
  async function namedBuckets(): Promise<string[]> {
    const result = (await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: "pk = :pk AND sk = :sk",
        ExpressionAttributeValues: { ":pk": "W#w1", ":sk": "EXEC" },
      }),
    )) as { Items?: Record<string, unknown>[] };
    const head = result.Items?.[0] ?? {};
    const stored = decodeDocument(head, undefined) as { workerFold?: { buckets?: Record<string, string> } };
    return Object.values(stored.workerFold?.buckets ?? {}).sort();
  }

  it("stores a 5,000-job fold in buckets and loads it whole", async () => {
    const state = maxWorkerFold(5000, 4000);
    await store.saveExecution("w1", 0, withFold(state));
    const buckets = splitWorkerFold(state).buckets.size;
    expect(writes.keys).toHaveLength(buckets);
    expect(await foldItems()).toEqual(await namedBuckets());

    const fresh = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    const loaded = await fresh.getExecution("w1");
    expect(loaded?.version).toBe(1);
    expect(loaded?.record).toEqual(withFold(state));
  });

  it("writes only the bucket a changed attempt is in, and deletes the one it replaces", async () => {
    const state = maxWorkerFold(1000, 600);
    await store.saveExecution("w1", 0, withFold(state));
    const before = await foldItems();
    writes.keys.length = 0;

    // A late event of an attempt that completed, and heartbeats of the running ones.
    const next = applyToFold(state, {
      starts: [],
      events: [
        foldCompleted(7, 3700),
        ...Array.from({ length: 400 }, (_, k) => foldEvents(600 + k, 3720, false)).flat(),
      ],
    });
    await store.saveExecution("w1", 1, withFold(next, "EL#000000000000002"));
    expect(writes.keys).toHaveLength(1);
    const after = await foldItems();
    expect(after.filter((sk) => !before.includes(sk))).toEqual(writes.keys);
    expect(before.filter((sk) => !after.includes(sk))).toHaveLength(1);
    expect(after).toEqual(await namedBuckets());
    expect((await store.getExecution("w1"))?.record).toEqual(withFold(next, "EL#000000000000002"));
  });

  it("leaves nothing visible when a save loses the race, and removes the buckets it wrote", async () => {
    const state = maxWorkerFold(300, 200);
    await store.saveExecution("w1", 0, withFold(state));
    // Two passes read version 1 (two store instances, as two Lambda invocations would).
    const other = new FoldWrites(table.client);
    const rival = new DynamoDbStore({ tableName: table.tableName, client: other });
    expect((await rival.getExecution("w1"))?.version).toBe(1);
    const winner = withFold(applyToFold(state, { starts: [], events: [foldCompleted(3, 3700)] }), "EL#2");
    const loser = withFold(applyToFold(state, { starts: [], events: [foldCompleted(150, 3700)] }), "EL#3");
    await store.saveExecution("w1", 1, winner);
    await expect(rival.saveExecution("w1", 1, loser)).rejects.toBeInstanceOf(VersionConflictError);
    // The loser wrote its changed bucket before the record's condition failed...
    expect(other.keys).toHaveLength(1);
    // ...and none of it is left: the winner's record and buckets, nothing more.
    const stored = await rival.getExecution("w1");
    expect(stored?.version).toBe(2);
    expect(stored?.record).toEqual(winner);
    expect(await foldItems()).toEqual(await namedBuckets());
  });

  it("loads a record stored with its fold inline, and moves the fold to buckets on its next save", async () => {
    const record = withFold(maxWorkerFold(200, 100));
    // The layout before session 6: plain JSON up to the inline limit.
    const encoded = encodeDocument(record, "EXEC", 1, { ...DOCUMENT_LIMITS, plainLimitBytes: 350_000 });
    expect(encoded.head.encoding).toBe("json");
    await table.client.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: "W#w1", sk: "EXEC", ...encoded.head, version: 3 } }),
    );
    const loaded = await store.getExecution("w1");
    expect(loaded).toEqual({ record, version: 3 });

    await store.saveExecution("w1", 3, record);
    expect((await foldItems()).length).toBeGreaterThan(0);
    expect(await store.getExecution("w1")).toEqual({ record, version: 4 });
  });

  it("deletes on load a bucket a crashed save left behind, and keeps one a save in flight wrote", async () => {
    await store.saveExecution("w1", 0, withFold(maxWorkerFold(100, 100)));
    const named = await namedBuckets();
    const crashed = foldBucketKey(1, 3, "0".repeat(24));
    const inFlight = foldBucketKey(2, 3, "1".repeat(24));
    for (const sk of [crashed, inFlight]) {
      await table.client.send(
        new PutCommand({ TableName: table.tableName, Item: { pk: "W#w1", sk, body: new Uint8Array([1]) } }),
      );
    }
    expect((await store.getExecution("w1"))?.record).toEqual(withFold(maxWorkerFold(100, 100)));
    expect(await foldItems()).toEqual([...named, inFlight].sort());
  });

  it("rewrites every bucket when the count grows, and a store that did not read the record leaves no stale bucket", async () => {
    const few = withFold(maxWorkerFold(300, 30));
    await store.saveExecution("w1", 0, few);
    const firstCount = (await foldItems()).length;
    // 300 completed attempts need more buckets than 30 did: every bucket splits.
    const many = withFold(maxWorkerFold(300, 300), "EL#2");
    const cold = new DynamoDbStore({ tableName: table.tableName, client: table.client });
    await cold.saveExecution("w1", 1, many);
    const loaded = await store.getExecution("w1");
    expect(loaded?.record).toEqual(many);
    expect(splitWorkerFold(many.workerFold?.state ?? maxWorkerFold(0)).count).toBeGreaterThan(firstCount);
    // The cold store knew no previous map to delete; the load removed what nothing names.
    expect(await foldItems()).toEqual(await namedBuckets());
  });

  it("refuses to load a record whose bucket is missing", async () => {
    await store.saveExecution("w1", 0, withFold(maxWorkerFold(100, 100)));
    const [first] = await foldItems();
    await table.client.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: "W#w1", sk: first } }));
    await expect(store.getExecution("w1")).rejects.toBeInstanceOf(StoreReadError);
  });
});
