/**
 * Items and bytes one reconcile pass reads to fold the workers' reports, before (every
 * stored event and attempt start, folded from the start) and after (the event log after the
 * record's cursor, folded onto the state kept in the record), for a workload of `--jobs`
 * single-node jobs that each send a heartbeat every `--heartbeat` seconds and checkpoint every
 * 15 minutes, with a pass every 60 s. Starts its own moto server; writes through the real
 * DynamoDB store. Bytes are the JSON of the items read (DynamoDB bills reads by item size).
 *
 * Run: taskset -c 1 npx tsx scripts/worker-fold-reads.ts [--jobs 100] [--hours 2] [--heartbeat 60]
 * (docs/control-plane.md, "What a pass reads", quotes it)
 */

import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { type DocumentClientPort, DynamoDbStore } from "../lambdas/adapters/dynamodb-store.ts";
import { WORKER_PROTOCOL, type WorkerEvent } from "../lambdas/core/protocol/worker-protocol.ts";
import { applyToFold, EMPTY_WORKER_FOLD, type StoredWorkerFold } from "../lambdas/core/reconciler/worker-fold-state.ts";
import { startMotoStoreTable } from "./moto-store-table.ts";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const JOBS = arg("jobs", 100);
const HOURS = arg("hours", 2);
const HEARTBEAT = arg("heartbeat", 60);
const PASS = 60;
const CHECKPOINT = 900;
const T0 = Date.parse("2026-12-01T12:00:00Z");

class Counter implements DocumentClientPort {
  items = 0;
  bytes = 0;
  constructor(readonly inner: DocumentClientPort) {}
  async send(command: object): Promise<unknown> {
    const result = await this.inner.send(command);
    if (command.constructor.name === "QueryCommand") {
      for (const item of (result as { Items?: unknown[] }).Items ?? []) {
        this.items++;
        this.bytes += Buffer.byteLength(JSON.stringify(item));
      }
    }
    return result;
  }
}

const { moto, tableName, documents } = await startMotoStoreTable("fold-reads");
try {
  const counter = new Counter(documents);
  let clockMs = T0;
  const store = new DynamoDbStore({ tableName, client: counter, now: () => new Date(clockMs) });
  const jobIds = Array.from({ length: JOBS }, (_, k) => `job-${String(k).padStart(4, "0")}`);
  let seq = 0;
  const base = (jobId: string, seconds: number) => ({
    protocol: WORKER_PROTOCOL,
    eventId: `evt-${String(seq++).padStart(10, "0")}`,
    workloadId: "w1",
    instanceId: `i-${jobId.slice(4)}`,
    sentAt: new Date(T0 + seconds * 1000).toISOString(),
    jobId,
    attemptId: `${jobId}#1`,
  });
  for (const jobId of jobIds) {
    await store.putAttemptStart({
      workloadId: "w1",
      jobId,
      attemptId: `${jobId}#1`,
      instanceIds: [`i-${jobId.slice(4)}`],
      gpusPerInstance: 1,
      fromSamples: 0,
      startedAt: T0 / 1000,
    });
  }
  let fold: StoredWorkerFold | undefined;
  const report: string[] = [];
  // Passes one minute after a checkpoint round (a typical minute; a checkpoint minute adds one item per job).
  const reportAt = new Set([1860, 3660, 7260, 14_460].filter((t) => t <= HOURS * 3600));
  for (let t = PASS; t <= HOURS * 3600; t += PASS) {
    // The workers' events of this minute, as the ingest stores them.
    for (let s = t - PASS + HEARTBEAT; s <= t; s += HEARTBEAT) {
      clockMs = T0 + s * 1000;
      for (const jobId of jobIds) {
        const event: WorkerEvent = {
          ...base(jobId, s),
          kind: "heartbeat",
          samplesDone: s * 2,
          samplesPerSecond: 2,
          peakGpuMemoryBytes: null,
        };
        await store.putWorkerEvent(event);
        if (s % CHECKPOINT === 0) {
          await store.putWorkerEvent({
            ...base(jobId, s),
            kind: "checkpoint-saved",
            samples: s * 2,
            uri: `s3://bucket-x/ck/${jobId}/${s}`,
          });
        }
      }
    }
    clockMs = T0 + t * 1000;
    // After: the log since the cursor, folded onto the kept state.
    counter.items = 0;
    counter.bytes = 0;
    const slice = await store.workerLogSince("w1", fold?.cursor ?? "");
    fold = { cursor: slice.cursor, state: applyToFold(fold?.state ?? EMPTY_WORKER_FOLD, slice) };
    const after = { items: counter.items, bytes: counter.bytes };
    if (process.env.FOLD_READS_DEBUG !== undefined && reportAt.has(t))
      console.log(
        slice.cursor,
        slice.events.map((e) => `${e.kind} ${e.sentAt}`),
      );
    if (!reportAt.has(t)) continue;
    // Before: every attempt start and stored event of the workload.
    counter.items = 0;
    counter.bytes = 0;
    await Promise.all([store.attemptStarts("w1"), store.workerEvents("w1")]);
    const before = { items: counter.items, bytes: counter.bytes };
    const stateJson = JSON.stringify(fold);
    report.push(
      `${String(t / 60).padStart(5)} min  ${String(before.items).padStart(7)} ${String(Math.round(before.bytes / 1024)).padStart(8)}   ${String(after.items).padStart(7)} ${String(Math.round(after.bytes / 1024)).padStart(8)}   ${String(Math.round(Buffer.byteLength(stateJson) / 1024)).padStart(8)} ${String(Math.round(gzipSync(stateJson).length / 1024)).padStart(8)}`,
    );
  }
  console.log(
    `${JOBS} jobs, heartbeat every ${HEARTBEAT} s, checkpoint every ${CHECKPOINT / 60} min, a pass every ${PASS} s`,
  );
  console.log("   at        before (full fold)      after (log since cursor)   fold state in the record");
  console.log("             items      KiB          items      KiB              KiB JSON  KiB gzip");
  for (const line of report) console.log(line);
} finally {
  await moto.stop();
}

// The state at the spec's maximum, folded in memory: 5,000 jobs, one attempt each, a
// heartbeat with a random event id, and a durable checkpoint with its URI.
const big = Array.from({ length: 5000 }, (_, k) => `sweep-job-${String(k).padStart(5, "0")}`);
const bigState = applyToFold(EMPTY_WORKER_FOLD, {
  starts: big.map((jobId, k) => ({
    workloadId: "w1",
    jobId,
    attemptId: `${jobId}#1`,
    instanceIds: [`i-0${(k * 7919).toString(16).padStart(16, "0")}`],
    gpusPerInstance: 1,
    fromSamples: 0,
    startedAt: T0 / 1000,
  })),
  events: big.flatMap((jobId, k): WorkerEvent[] => {
    const ids = {
      protocol: WORKER_PROTOCOL,
      workloadId: "w1",
      instanceId: `i-0${(k * 7919).toString(16).padStart(16, "0")}`,
      sentAt: new Date(T0 + 3_600_000).toISOString(),
      jobId,
      attemptId: `${jobId}#1`,
    };
    return [
      {
        ...ids,
        eventId: randomUUID(),
        kind: "heartbeat",
        samplesDone: 7200 + k,
        samplesPerSecond: 2.13,
        peakGpuMemoryBytes: null,
      },
      {
        ...ids,
        eventId: randomUUID(),
        kind: "checkpoint-saved",
        samples: 7000 + k,
        uri: `s3://saturn-artifacts-123456789012/workloads/w1/checkpoints/${jobId}/${7000 + k}.pt`,
      },
    ];
  }),
});
const bigJson = JSON.stringify({ cursor: "EL#001764590400000", state: bigState });
console.log(
  `fold state at 5,000 jobs: ${Math.round(Buffer.byteLength(bigJson) / 1024)} KiB JSON, ${Math.round(gzipSync(bigJson).length / 1024)} KiB gzip (the record is chunked above 350 KB)`,
);
