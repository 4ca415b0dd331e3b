/**
 * Bytes the execution record's save writes per reconcile pass for the worker fold, before
 * (the fold inline in the record: the whole record gzipped, chunked above 350 KB) and after
 * (the hot part inline, ended and quiet entries in bucket items written only when they
 * change: dynamodb-fold-buckets.ts), over a whole run of `--jobs` single-node jobs of which
 * `--concurrent` run at once, staggered, each for `--minutes` with a heartbeat every 60 s, a
 * checkpoint every 15 min, an alive report at boot and a completion at the end; a pass every
 * 60 s folds that minute's events and saves. The record around the fold is a 2-job one, so
 * the figures are the fold's (plus a few KB). "After" is measured: every save goes through
 * the real DynamoDB store on a moto server this script starts, and the item sizes of every
 * write it sends (puts, batch puts, transaction puts) are summed. "Before" is what the old
 * layout wrote: `encodeDocument` of the record with the fold inline, and plain JSON up to
 * 350 KB as documents were then (every 5th pass).
 *
 * Item size follows DynamoDB's rule (attribute names plus values; binary by its bytes);
 * WCU = ceil(item KB) per item, for standard writes (transactions bill twice that).
 *
 * Run: taskset -c 1 npx tsx scripts/worker-fold-writes.ts --jobs 1000 [--concurrent 100]
 *      [--minutes 60] [--buckets N (fixed; default: the store's growing count)]
 * (docs/control-plane.md, "What a pass writes", quotes it)
 */
import { DOCUMENT_LIMITS, encodeDocument } from "../lambdas/adapters/dynamodb-documents.ts";
import { type DocumentClientPort, DynamoDbStore } from "../lambdas/adapters/dynamodb-store.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../lambdas/core/protocol/worker-protocol.ts";
import { createExecutionRecord } from "../lambdas/core/reconciler/create-record.ts";
import type { ExecutionRecord } from "../lambdas/core/reconciler/execution-record.ts";
import type { AttemptStart } from "../lambdas/core/reconciler/worker-events-fold.ts";
import { applyToFold, EMPTY_WORKER_FOLD, type WorkerFoldState } from "../lambdas/core/reconciler/worker-fold-state.ts";
import {
  FOLD_T0,
  foldCompleted,
  foldEvents,
  foldInstanceId,
  foldStart,
} from "../test/adapters/fixtures/max-worker-fold.ts";
import { twoJobPlan } from "../test/core/reconciler/fixtures.ts";
import { smallWorkload } from "../test/sim/fixtures/workloads.ts";
import { startMotoStoreTable } from "./moto-store-table.ts";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const JOBS = arg("jobs", 1000);
const CONCURRENT = arg("concurrent", Math.max(1, Math.round(JOBS / 10)));
const MINUTES = arg("minutes", 60);
/** 0: the store's default (a count that grows with the fold). */
const BUCKETS = arg("buckets", 0);
const PASS = 60;
const CHECKPOINT = 900;
const RUN = MINUTES * 60;

/** DynamoDB's item size: attribute name lengths plus value sizes. */
function itemBytes(value: unknown, name = ""): number {
  const own = Buffer.byteLength(name);
  if (value instanceof Uint8Array) return own + value.byteLength;
  if (typeof value === "string") return own + Buffer.byteLength(value);
  if (typeof value === "number") return own + Math.ceil(String(value).length / 2) + 1;
  if (typeof value === "boolean" || value === null || value === undefined) return own + 1;
  if (Array.isArray(value)) return own + 3 + value.reduce((sum: number, v) => sum + itemBytes(v) + 1, 0);
  return own + 3 + Object.entries(value as object).reduce((sum, [k, v]) => sum + itemBytes(v, k) + 1, 0);
}

interface Written {
  items: number;
  bytes: number;
  wcu: number;
  foldItems: number;
  foldBytes: number;
}

class WriteCounter implements DocumentClientPort {
  written: Written = { items: 0, bytes: 0, wcu: 0, foldItems: 0, foldBytes: 0 };
  constructor(readonly inner: DocumentClientPort) {}
  #count(item: Record<string, unknown>) {
    const bytes = itemBytes(item);
    this.written.items++;
    this.written.bytes += bytes;
    this.written.wcu += Math.ceil(bytes / 1024);
    if (String(item.sk).startsWith("FOLD#")) {
      this.written.foldItems++;
      this.written.foldBytes += bytes;
    }
  }
  /** Bytes and read units (strongly consistent: 4 KB each, per request's total) of the reads. */
  read = { bytes: 0, rru: 0 };
  async send(command: object): Promise<unknown> {
    const name = command.constructor.name;
    if (name === "GetCommand" || name === "QueryCommand") {
      const result = (await this.inner.send(command)) as { Item?: object; Items?: object[] };
      const bytes = [...(result.Item === undefined ? [] : [result.Item]), ...(result.Items ?? [])].reduce(
        (sum: number, item) => sum + itemBytes(item),
        0,
      );
      this.read.bytes += bytes;
      this.read.rru += Math.max(1, Math.ceil(bytes / 4096));
      return result;
    }
    const input = (command as { input: Record<string, unknown> }).input;
    if (name === "PutCommand") this.#count(input.Item as Record<string, unknown>);
    if (name === "TransactWriteCommand") {
      for (const entry of input.TransactItems as { Put?: { Item: Record<string, unknown> } }[]) {
        if (entry.Put !== undefined) this.#count(entry.Put.Item);
      }
    }
    if (name === "BatchWriteCommand") {
      for (const requests of Object.values(
        input.RequestItems as Record<string, { PutRequest?: { Item: Record<string, unknown> } }[]>,
      )) {
        for (const request of requests) if (request.PutRequest !== undefined) this.#count(request.PutRequest.Item);
      }
    }
    return this.inner.send(command);
  }
}

/** Job k starts at (k div CONCURRENT) runs plus a stagger, so completions spread over the passes. */
const startOf = (k: number) =>
  Math.floor(k / CONCURRENT) * RUN + Math.floor(((k % CONCURRENT) * RUN) / CONCURRENT / PASS) * PASS;
const lastPass = startOf(JOBS - 1) + RUN + PASS;

function minuteOf(t: number): { starts: AttemptStart[]; events: WorkerEvent[] } {
  const starts: AttemptStart[] = [];
  const events: WorkerEvent[] = [];
  for (let k = 0; k < JOBS; k++) {
    const begin = startOf(k);
    if (t <= begin || t > begin + RUN + PASS) continue;
    const s = t - begin; // seconds into the job at the end of this minute
    if (s === PASS) {
      starts.push(foldStart(k, FOLD_T0 + begin));
      events.push({
        protocol: WORKER_PROTOCOL,
        eventId: `alive-${k}`,
        workloadId: "w1",
        instanceId: foldInstanceId(k),
        sentAt: new Date((FOLD_T0 + begin + 20) * 1000).toISOString(),
        kind: "agent-alive",
        runningAttempts: [],
      });
    }
    if (s <= RUN) events.push(...foldEvents(k, begin + s, s % CHECKPOINT === 0));
    else events.push(foldCompleted(k, begin + RUN + 30));
  }
  return { starts, events };
}

const small = createExecutionRecord(smallWorkload({ jobs: 2 }), twoJobPlan(), FOLD_T0);
const recordWith = (state: WorkerFoldState, t: number): ExecutionRecord => ({
  ...small,
  workerFold: { cursor: `EL#${String((FOLD_T0 + t) * 1000).padStart(15, "0")}`, state },
});
const oldLayoutBytes = (record: ExecutionRecord) => {
  // The layout before session 6: plain JSON up to 350 KB, gzip above.
  const encoded = encodeDocument(record, "EXEC", 1, {
    ...DOCUMENT_LIMITS,
    plainLimitBytes: DOCUMENT_LIMITS.inlineLimitBytes,
  });
  const items = [
    { pk: "W#w1", sk: "EXEC", ...encoded.head, version: 1, savedAt: "2026-12-01T12:00:00.000Z" },
    ...encoded.chunks.map((c) => ({ pk: "W#w1", sk: c.sk, part: c.part })),
  ];
  const sizes = items.map((item) => itemBytes(item));
  return {
    bytes: sizes.reduce((a, b) => a + b, 0),
    wcu: sizes.reduce((a, b) => a + Math.ceil(b / 1024), 0),
    items: items.length,
  };
};

const { moto, tableName, documents } = await startMotoStoreTable("fold-writes");
try {
  const counter = new WriteCounter(documents);
  const store = new DynamoDbStore({
    tableName,
    client: counter,
    ...(BUCKETS > 0 ? { workerFoldBuckets: BUCKETS } : {}),
  });
  let state = EMPTY_WORKER_FOLD;
  const rows: { t: number; after: Written; before?: ReturnType<typeof oldLayoutBytes>; hot: number }[] = [];
  let version = 0;
  for (let t = PASS; t <= lastPass; t += PASS) {
    state = applyToFold(state, minuteOf(t));
    const record = recordWith(state, t);
    counter.written = { items: 0, bytes: 0, wcu: 0, foldItems: 0, foldBytes: 0 };
    await store.saveExecution("w1", version, record);
    version++;
    const hot = Object.values(state.attempts).filter((a) => a.completed === undefined).length;
    rows.push({ t, after: counter.written, ...(version % 5 === 0 ? { before: oldLayoutBytes(record) } : {}), hot });
  }
  // What a pass's load reads at the end of the run; and a sanity check that it loads back whole.
  counter.read = { bytes: 0, rru: 0 };
  const loaded = await store.getExecution("w1");
  const loadRead = counter.read;
  const oldRead = oldLayoutBytes(recordWith(state, lastPass));
  if (
    JSON.stringify(loaded?.record.workerFold?.state.attempts[`${"sweep-job-00000"}|sweep-job-00000#1`]) !==
    JSON.stringify(state.attempts["sweep-job-00000|sweep-job-00000#1"])
  ) {
    throw new Error("the stored fold does not load back as saved");
  }
  const kib = (n: number) => (n / 1024).toFixed(1);
  const quantile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  };
  console.log(
    `${JOBS} jobs, ${CONCURRENT} at once, ${MINUTES} min each (heartbeat 60 s, checkpoint 15 min), a pass every 60 s: ${rows.length} passes; ${BUCKETS > 0 ? BUCKETS : "growing (default)"} buckets`,
  );
  console.log("share of run   before: KiB  WCU   |  after: KiB  WCU  (record KiB + buckets written, KiB)");
  for (const share of [0.1, 0.5, 0.9]) {
    const row = rows.filter((r) => r.before !== undefined)[Math.floor(share * (rows.length / 5))];
    if (row?.before === undefined) continue;
    const a = row.after;
    console.log(
      `${String(Math.round(share * 100)).padStart(5)} %      ${kib(row.before.bytes).padStart(7)} ${String(row.before.wcu).padStart(5)}   |  ${kib(a.bytes).padStart(7)} ${String(a.wcu).padStart(4)}  (${kib(a.bytes - a.foldBytes)} + ${a.foldItems} x = ${kib(a.foldBytes)})`,
    );
  }
  const befores = rows.flatMap((r) => (r.before === undefined ? [] : [r.before]));
  const afters = rows.slice(1).map((r) => r.after);
  console.log(
    `median per pass: before ${kib(
      quantile(
        befores.map((b) => b.bytes),
        0.5,
      ),
    )} KiB / ${quantile(
      befores.map((b) => b.wcu),
      0.5,
    )} WCU; after ${kib(
      quantile(
        afters.map((a) => a.bytes),
        0.5,
      ),
    )} KiB / ${quantile(
      afters.map((a) => a.wcu),
      0.5,
    )} WCU (${quantile(
      afters.map((a) => a.foldItems),
      0.5,
    )} buckets)`,
  );
  console.log(
    `p95 per pass:    before ${kib(
      quantile(
        befores.map((b) => b.bytes),
        0.95,
      ),
    )} KiB / ${quantile(
      befores.map((b) => b.wcu),
      0.95,
    )} WCU; after ${kib(
      quantile(
        afters.map((a) => a.bytes),
        0.95,
      ),
    )} KiB / ${quantile(
      afters.map((a) => a.wcu),
      0.95,
    )} WCU (${quantile(
      afters.map((a) => a.foldItems),
      0.95,
    )} buckets)`,
  );
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  console.log(
    `whole run (after, every pass): ${kib(sum(rows.map((r) => r.after.bytes)) / 1024)} MiB, ${sum(rows.map((r) => r.after.wcu))} WCU; before (every 5th pass x 5): ${kib((sum(befores.map((b) => b.bytes)) * 5) / 1024)} MiB, ${sum(befores.map((b) => b.wcu)) * 5} WCU`,
  );
  console.log(
    `load at the end of the run: before ${kib(oldRead.bytes)} KiB / ${oldRead.items} items; after ${kib(loadRead.bytes)} KiB / ${loadRead.rru} RRU (record + one query of the buckets)`,
  );
} finally {
  await moto.stop();
}
