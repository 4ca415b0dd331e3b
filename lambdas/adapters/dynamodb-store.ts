/**
 * The store port on one DynamoDB table (single-table design; key names from
 * `TABLE` in stack-contract.ts). docs/control-plane.md, "Store", lists every item. In short,
 * per workload `W#<id>`: `META` (the summary, the condition of every status change),
 * `SPEC`, `PLAN#v<n>`, `EXEC` (documents, chunked when large: dynamodb-documents.ts),
 * `FOLD#` (the buckets of the record's worker fold: dynamodb-fold-buckets.ts),
 * `LEASE`, `EV#`/`HB#` (worker events), `AT#` (attempt starts), `EL#` (the log of both, in
 * arrival order, that incremental passes read), `CE#` (cloud events),
 * `AUDIT#<at>#<hash>`, `COST#<instance>` (settled instance costs); outside it: `IDEM#<owner>|<key>`, `PROFILE#<signature>`, `REJECTED`.
 *
 * Every write that changes state carries a condition: the version it read (summary,
 * execution record), absence (creation, plan versions, event ids), or the lease's holder and
 * expiry. A lost condition is a `VersionConflictError` (or `false`, where the port says so),
 * and nothing was written.
 */
import { createHash } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { TABLE } from "../config/stack-contract.ts";
import type { CloudEventSink, CloudEventSource } from "../core/cloud/cloud-event-source.ts";
import type { CloudEvent } from "../core/cloud/cloud-port.ts";
import type { InstanceCostLedger } from "../core/cloud/instance-cost-ledger.ts";
import type { ConsideredSummary } from "../core/control-plane/considered-report.ts";
import type { ProfilingPhase } from "../core/control-plane/profiling-phase-record.ts";
import type { ProfileRecord } from "../core/estimator/types.ts";
import type { Plan } from "../core/planner/plan.ts";
import type { WorkerEvent } from "../core/protocol/worker-protocol.ts";
import type { ExecutionRecord } from "../core/reconciler/execution-record.ts";
import type { AttemptStart } from "../core/reconciler/worker-events-fold.ts";
import {
  type AttemptStartStore,
  type AuditEntry,
  type ProfilingPhaseStore,
  type RejectedMessage,
  type RejectedMessageReader,
  type StoredExecution,
  type StoredProfilingPhase,
  VersionConflictError,
  type WorkerEventLog,
  type WorkerLogSlice,
  type WorkloadRecord,
  type WorkloadStore,
  type WorkloadSummary,
} from "../core/store/workload-store.ts";
import {
  chunkPrefix,
  DOCUMENT_LIMITS,
  type DocumentLimits,
  decodeDocument,
  type EncodedDocument,
  encodeDocument,
  fitsOneTransaction,
  IncompleteDocumentError,
} from "./dynamodb-documents.ts";
import {
  decodeFold,
  encodeFold,
  FOLD_PREFIX,
  FoldBucketError,
  foldBucketVersion,
  isFoldReference,
} from "./dynamodb-fold-buckets.ts";

/** The part of a DynamoDB document client this adapter uses. */
export interface DocumentClientPort {
  send(command: object): Promise<unknown>;
}

export interface DynamoDbStoreOptions {
  readonly tableName: string;
  /** A lib-dynamodb document client; default: one on a DynamoDBClient with the SDK's chain and retries. */
  readonly client?: DocumentClientPort;
  /** Clock for `updatedAt` and TTLs (default: the system clock). */
  readonly now?: () => Date;
  /** How long an idempotency key holds, seconds (default 24 h, as Powertools' idempotency). */
  readonly idempotencyTtlSeconds?: number;
  /** Document size limits (tests lower them to exercise chunking). */
  readonly limits?: Partial<DocumentLimits>;
  /** A fixed bucket count for the worker fold (default: one that grows with it; the measuring script compares counts). */
  readonly workerFoldBuckets?: number;
}

const META = "META";
const SPEC = "SPEC";
const EXEC = "EXEC";
const PROFILING = "PROFILING";
const LEASE = "LEASE";
const REJECTED = "REJECTED";
/** GSI partition that holds every workload summary; the sort key starts with the owner. */
const WORKLOADS = "WORKLOADS";
/** IAM ARNs never contain "|", so owner prefixes cannot collide. */
const SEP = "|";
const REJECTED_BODY_LIMIT = 65_536;
const REJECTED_TTL_SECONDS = 14 * 86_400;
const CLOUD_EVENT_TTL_SECONDS = 2 * 86_400;
/** Log items are folded within minutes; the TTL only bounds the table (a first pass reads the dedupe items too). */
const WORKER_LOG_TTL_SECONDS = 14 * 86_400;
/**
 * The longest a log write may take from its stamp to its acknowledgement: a slower one is
 * refused (`WorkerLogWriteLateError`), so the caller's retry (SQS for the ingest, the next
 * pass for an attempt start) logs the item again under a fresh stamp. Every acknowledged
 * log item was therefore written within this of its stamp.
 */
export const WORKER_LOG_WRITE_LIMIT_MS = 10_000;
/** How far behind the newest item (or the reader's clock) a log read starts: the write limit plus clock skew. */
export const WORKER_LOG_OVERLAP_MS = WORKER_LOG_WRITE_LIMIT_MS + 5_000;
const LOG = "EL#";
const LOG_END = "EL#~";
const logStamp = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, "0");

const workloadPk = (id: string) => `W#${id}`;
const planSk = (version: number) => `PLAN#v${String(version).padStart(6, "0")}`;

/** A log write took longer than `WORKER_LOG_WRITE_LIMIT_MS`: its reader may have passed its stamp. */
export class WorkerLogWriteLateError extends Error {
  override readonly name = "WorkerLogWriteLateError";
}

/** A document read found its chunks removed under it more often than retries allow. */
export class StoreReadError extends Error {
  override readonly name = "StoreReadError";
}

type Item = Record<string, unknown>;

export class DynamoDbStore
  implements
    WorkloadStore,
    AttemptStartStore,
    ProfilingPhaseStore,
    RejectedMessageReader,
    CloudEventSource,
    CloudEventSink,
    InstanceCostLedger,
    WorkerEventLog
{
  readonly #table: string;
  readonly #client: DocumentClientPort;
  readonly #now: () => Date;
  readonly #idempotencyTtl: number;
  readonly #limits: DocumentLimits;
  readonly #foldBuckets: number | undefined;
  /**
   * workload id -> the fold bucket map of the record version this store last read or wrote.
   * A save expecting that version writes only the buckets whose hash changed and deletes the
   * ones it replaced; any other save writes all its buckets, and what it leaves unnamed the
   * next load deletes (getExecution).
   */
  readonly #knownBuckets = new Map<
    string,
    { readonly version: number; readonly buckets: Readonly<Record<string, string>> }
  >();
  /** Specs never change after create: cached per id. */
  readonly #specs = new Map<string, string>();

  constructor(options: DynamoDbStoreOptions) {
    this.#table = options.tableName;
    this.#client =
      options.client ??
      DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    this.#now = options.now ?? (() => new Date());
    this.#idempotencyTtl = options.idempotencyTtlSeconds ?? 86_400;
    this.#limits = { ...DOCUMENT_LIMITS, ...options.limits };
    this.#foldBuckets = options.workerFoldBuckets;
  }

  // ---- workloads ----

  async create(record: WorkloadRecord, idempotencyKey: string | undefined): Promise<WorkloadRecord> {
    const pk = workloadPk(record.id);
    const spec = encodeDocument({ specText: record.specText }, SPEC, contentGeneration(record.specText), this.#limits);
    const items: NonNullable<TransactWriteCommandInput["TransactItems"]> = [
      {
        Put: {
          TableName: this.#table,
          Item: this.#summaryItem(record),
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
    ];
    const idemKey = idempotencyKey === undefined ? undefined : `IDEM#${record.owner}${SEP}${idempotencyKey}`;
    if (idemKey !== undefined) {
      items.push({
        Put: {
          TableName: this.#table,
          Item: {
            pk: idemKey,
            sk: "IDEM",
            workloadId: record.id,
            [TABLE.ttlAttribute]: this.#epoch() + this.#idempotencyTtl,
          },
          // An expired key (TTL deletes lazily) counts as absent.
          ConditionExpression: "attribute_not_exists(pk) OR #ttl < :now",
          ExpressionAttributeNames: { "#ttl": TABLE.ttlAttribute },
          ExpressionAttributeValues: { ":now": this.#epoch() },
        },
      });
    }
    const inTransaction = fitsOneTransaction(spec, items.length, this.#limits);
    if (!inTransaction) await this.#batchPut(pk, spec);
    items.push({
      Put: {
        TableName: this.#table,
        Item: { pk, sk: SPEC, ...spec.head },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    });
    if (inTransaction) items.push(...this.#chunkPuts(pk, spec));
    try {
      await this.#client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const reasons = cancellationCodes(error);
      if (reasons === undefined) throw error;
      if (idemKey !== undefined && reasons[1] === "ConditionalCheckFailed") {
        const existing = await this.#get(idemKey, "IDEM");
        const first = existing === undefined ? undefined : await this.get(String(existing.workloadId));
        if (first !== undefined) return first;
      }
      throw new VersionConflictError(`workload ${record.id}`, 0, { cause: error });
    }
    this.#specs.set(record.id, record.specText);
    return record;
  }

  async get(id: string): Promise<WorkloadRecord | undefined> {
    const head = await this.#get(workloadPk(id), META);
    if (head === undefined) return undefined;
    return { ...summaryOf(head), specText: await this.#specText(id) };
  }

  async list(owner: string | undefined): Promise<readonly WorkloadSummary[]> {
    const input: QueryCommandInput = {
      TableName: this.#table,
      IndexName: TABLE.ownerIndex,
      KeyConditionExpression: owner === undefined ? "#gpk = :gpk" : "#gpk = :gpk AND begins_with(#gsk, :owner)",
      ExpressionAttributeNames:
        owner === undefined
          ? { "#gpk": TABLE.ownerIndexPartitionKey }
          : { "#gpk": TABLE.ownerIndexPartitionKey, "#gsk": TABLE.ownerIndexSortKey },
      ExpressionAttributeValues:
        owner === undefined ? { ":gpk": WORKLOADS } : { ":gpk": WORKLOADS, ":owner": `${owner}${SEP}` },
    };
    const items = await this.#queryAll(input);
    return items
      .map(summaryOf)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
  }

  async update(
    id: string,
    expectedVersion: number,
    change: Partial<Pick<WorkloadSummary, "status" | "statusReason" | "planVersion" | "cancelRequested">>,
  ): Promise<WorkloadRecord> {
    const names: Record<string, string> = { "#version": "version", "#updatedAt": "updatedAt" };
    const values: Record<string, unknown> = {
      ":expected": expectedVersion,
      ":next": expectedVersion + 1,
      ":updatedAt": this.#now().toISOString(),
    };
    const sets = ["#version = :next", "#updatedAt = :updatedAt"];
    const removes: string[] = [];
    for (const [key, value] of Object.entries(change)) {
      names[`#${key}`] = key;
      if (value === undefined) removes.push(`#${key}`);
      else {
        sets.push(`#${key} = :${key}`);
        values[`:${key}`] = value;
      }
    }
    try {
      const result = (await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: workloadPk(id), sk: META },
          UpdateExpression: `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: "attribute_exists(pk) AND #version = :expected",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      )) as { Attributes?: Item };
      const attributes = result.Attributes ?? {};
      return { ...summaryOf(attributes), specText: await this.#specText(id) };
    } catch (error) {
      if (isConditionFailure(error))
        throw new VersionConflictError(`workload ${id}`, expectedVersion, { cause: error });
      throw error;
    }
  }

  // ---- plans and the execution record ----

  async putPlan(id: string, planVersion: number, plan: Plan, considered?: ConsideredSummary): Promise<void> {
    const pk = workloadPk(id);
    const sk = planSk(planVersion);
    const stored = groupConsidered(plan);
    const json = JSON.stringify(stored);
    const encoded = encodeDocument(stored, sk, contentGeneration(json), this.#limits);
    const digest = sha256(json);
    const extra = considered === undefined ? { digest } : { digest, considered: { ...considered } };
    try {
      await this.#writeDocument(pk, sk, encoded, extra, "attribute_not_exists(pk)", undefined);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      // Plan versions never change: a retried write of the same plan is not a conflict.
      const stored = await this.#get(pk, sk);
      if (stored?.digest !== digest) throw error;
    }
  }

  async getPlan(id: string, planVersion: number): Promise<Plan | undefined> {
    return (await this.getStoredPlan(id, planVersion))?.plan;
  }

  async getStoredPlan(
    id: string,
    planVersion: number,
  ): Promise<{ plan: Plan; considered: ConsideredSummary | undefined } | undefined> {
    const read = await this.#readDocument(workloadPk(id), planSk(planVersion));
    if (read === undefined) return undefined;
    const summary = read.head.considered as ConsideredSummary | undefined;
    return {
      plan: ungroupConsidered(read.value as StoredPlan),
      considered:
        summary === undefined
          ? undefined
          : {
              jobs: Number(summary.jobs),
              candidates: Number(summary.candidates),
              distinctLists: Number(summary.distinctLists),
            },
    };
  }

  /**
   * The record, with its worker fold joined from the bucket items it names (a record saved
   * with the fold inline, before the buckets, reads as it is). The buckets are read with one
   * query of the `FOLD#` prefix (billed by their total size, not per item); an item there
   * that the record does not name, keyed at or below its version, can never be named again
   * (a later record names only its own new keys and those this one names) and is deleted:
   * what a pass that crashed between its buckets and its record left. Re-reads when a writer
   * replaced the record under the read.
   */
  async getExecution(id: string): Promise<StoredExecution | undefined> {
    const pk = workloadPk(id);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const read = await this.#readDocument(pk, EXEC);
      if (read === undefined) return undefined;
      const version = Number(read.head.version);
      const { workerFold, ...record } = read.value as ExecutionRecord & { readonly workerFold?: unknown };
      if (!isFoldReference(workerFold)) return { record: read.value as ExecutionRecord, version };
      const items = await this.#queryPrefix(pk, FOLD_PREFIX);
      const named = new Set(Object.values(workerFold.buckets));
      const bodies = new Map<string, Uint8Array>();
      const unreachable: string[] = [];
      for (const item of items) {
        const sk = String(item.sk);
        if (named.has(sk)) bodies.set(sk, item.body as Uint8Array);
        else if (foldBucketVersion(sk) <= version) unreachable.push(sk);
      }
      try {
        const fold = decodeFold(workerFold, bodies);
        await this.#deleteKeys(pk, unreachable);
        this.#knownBuckets.set(id, { version, buckets: workerFold.buckets });
        return { record: { ...record, workerFold: fold }, version };
      } catch (error) {
        if (!(error instanceof FoldBucketError)) throw error;
        lastError = error;
      }
    }
    throw new StoreReadError(`could not read the worker fold of ${id} whole after 3 tries`, { cause: lastError });
  }

  /**
   * Conditional on `expectedVersion`. The worker fold goes to bucket items
   * (dynamodb-fold-buckets.ts): those the stored record does not name are written first, so
   * the record never names a missing bucket; a lost condition deletes them again (unless the
   * winner names the same ones), and a won one deletes the buckets no longer named.
   */
  async saveExecution(id: string, expectedVersion: number, record: ExecutionRecord): Promise<void> {
    const pk = workloadPk(id);
    const next = expectedVersion + 1;
    const known = this.#knownBuckets.get(id);
    const previousBuckets = known?.version === expectedVersion ? known.buckets : undefined;
    const fold =
      record.workerFold === undefined
        ? undefined
        : encodeFold(record.workerFold, previousBuckets, next, this.#limits.chunkBytes, this.#foldBuckets);
    const stored = fold === undefined ? record : { ...record, workerFold: fold.reference };
    if (fold !== undefined) {
      await this.#batchWrite(
        fold.writes.map((bucket) => ({ PutRequest: { Item: { pk, sk: bucket.sk, body: bucket.body } } })),
      );
    }
    const encoded = encodeDocument(stored, EXEC, contentGeneration(JSON.stringify(stored)), this.#limits);
    const condition = expectedVersion === 0 ? "attribute_not_exists(pk)" : "#version = :expected";
    const previous = expectedVersion === 0 ? undefined : await this.#get(pk, EXEC);
    try {
      await this.#writeDocument(
        pk,
        EXEC,
        encoded,
        { version: next, savedAt: this.#now().toISOString() },
        condition,
        expectedVersion === 0 ? undefined : expectedVersion,
      );
    } catch (error) {
      this.#knownBuckets.delete(id);
      if (error instanceof VersionConflictError && fold !== undefined && fold.writes.length > 0) {
        // The winner names one of these only where it wrote the very same bucket.
        const winner = (await this.#readDocument(pk, EXEC))?.value as { workerFold?: unknown } | undefined;
        const named = new Set(isFoldReference(winner?.workerFold) ? Object.values(winner.workerFold.buckets) : []);
        await this.#deleteKeys(
          pk,
          fold.writes.map((bucket) => bucket.sk).filter((sk) => !named.has(sk)),
        );
      }
      throw error;
    }
    if (fold === undefined) this.#knownBuckets.delete(id);
    else this.#knownBuckets.set(id, { version: next, buckets: fold.reference.buckets });
    // The superseded generation and buckets are unreachable once the head moved on.
    const written = encoded.head.encoding === "gzip-chunks" ? encoded.head.generation : undefined;
    if (previous?.encoding === "gzip-chunks" && previous.generation !== written) {
      await this.#deleteChunks(pk, chunkPrefix(EXEC, Number(previous.generation)));
    }
    const kept = new Set(Object.values(fold?.reference.buckets ?? {}));
    await this.#deleteKeys(
      pk,
      Object.values(previousBuckets ?? {}).filter((sk) => !kept.has(sk)),
    );
  }

  // ---- profiling phase ----

  async getProfilingPhase(id: string): Promise<StoredProfilingPhase | undefined> {
    const read = await this.#readDocument(workloadPk(id), PROFILING);
    if (read === undefined) return undefined;
    return { phase: read.value as ProfilingPhase, version: Number(read.head.version) };
  }

  /** Same layout and condition as the execution record (a few hundred runs at most: inline). */
  async saveProfilingPhase(id: string, expectedVersion: number, phase: ProfilingPhase): Promise<void> {
    const pk = workloadPk(id);
    const encoded = encodeDocument(phase, PROFILING, contentGeneration(JSON.stringify(phase)), this.#limits);
    const condition = expectedVersion === 0 ? "attribute_not_exists(pk)" : "#version = :expected";
    const previous = expectedVersion === 0 ? undefined : await this.#get(pk, PROFILING);
    await this.#writeDocument(
      pk,
      PROFILING,
      encoded,
      { version: expectedVersion + 1, savedAt: this.#now().toISOString() },
      condition,
      expectedVersion === 0 ? undefined : expectedVersion,
    );
    const written = encoded.head.encoding === "gzip-chunks" ? encoded.head.generation : undefined;
    if (previous?.encoding === "gzip-chunks" && previous.generation !== written) {
      await this.#deleteChunks(pk, chunkPrefix(PROFILING, Number(previous.generation)));
    }
  }

  // ---- worker events ----

  async putWorkerEvent(event: WorkerEvent): Promise<boolean> {
    const pk = workloadPk(event.workloadId);
    // The log first: a crash before the dedupe item is retried by SQS and logs a repeat
    // (folding it again changes nothing); the reverse order could drop the event from the log.
    await this.#logPut(pk, `e:${event.eventId}`, { event });
    // Heartbeats only ever raise progress: one item per attempt and node keeps the latest,
    // so the events a pass reads do not grow with run time.
    if (event.kind === "heartbeat") {
      return this.#conditionalPut(
        {
          pk,
          sk: `HB#${event.attemptId}#${event.instanceId}`,
          event,
          samplesDone: event.samplesDone,
          sentAt: event.sentAt,
        },
        "attribute_not_exists(pk) OR samplesDone < :samples OR (samplesDone = :samples AND sentAt < :sentAt)",
        { ":samples": event.samplesDone, ":sentAt": event.sentAt },
      );
    }
    return this.#conditionalPut({ pk, sk: `EV#${event.eventId}`, event }, "attribute_not_exists(pk)");
  }

  async workerEvents(id: string): Promise<readonly WorkerEvent[]> {
    const [events, heartbeats] = await Promise.all([
      this.#queryPrefix(workloadPk(id), "EV#"),
      this.#queryPrefix(workloadPk(id), "HB#"),
    ]);
    return [...events, ...heartbeats].map((item) => item.event as WorkerEvent);
  }

  async putRejectedMessage(body: string, issues: readonly string[], at: string): Promise<void> {
    const bodyBytes = Buffer.byteLength(body, "utf8");
    const kept =
      bodyBytes <= REJECTED_BODY_LIMIT
        ? body
        : Buffer.from(body, "utf8").subarray(0, REJECTED_BODY_LIMIT).toString("utf8");
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: REJECTED,
          sk: `${at}#${sha256(body).slice(0, 16)}`,
          at,
          body: kept,
          bodyBytes,
          issues: [...issues].slice(0, 50).map((issue) => issue.slice(0, 1000)),
          [TABLE.ttlAttribute]: Math.floor(Date.parse(at) / 1000) + REJECTED_TTL_SECONDS,
        },
      }),
    );
  }

  async rejectedMessages(limit: number): Promise<readonly RejectedMessage[]> {
    const result = (await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": REJECTED },
        ScanIndexForward: false,
        Limit: limit,
      }),
    )) as { Items?: Item[] };
    return (result.Items ?? []).map((item) => ({
      at: String(item.at),
      body: String(item.body),
      bodyBytes: Number(item.bodyBytes),
      issues: (item.issues as string[]) ?? [],
    }));
  }

  async putAttemptStart(start: AttemptStart): Promise<boolean> {
    await this.#logPut(workloadPk(start.workloadId), `a:${start.attemptId}`, { start });
    return this.#conditionalPut(
      { pk: workloadPk(start.workloadId), sk: `AT#${start.attemptId}`, start },
      "attribute_not_exists(pk)",
    );
  }

  async attemptStarts(workloadId: string): Promise<readonly AttemptStart[]> {
    return (await this.#queryPrefix(workloadPk(workloadId), "AT#")).map((item) => item.start as AttemptStart);
  }

  /**
   * The cursor is where the next read starts: `EL#<stamp>`, the later of (the newest item
   * read) and (this read's clock), less the overlap. Every item stamped before it was
   * visible to this read: its write landed within the overlap of its stamp, and both the
   * newest item and the clock were at or past that by the time the query ran. It never
   * moves back.
   */
  async workerLogSince(workloadId: string, cursor: string): Promise<WorkerLogSlice> {
    const readAt = this.#now().getTime();
    const items = await this.#queryAll({
      TableName: this.#table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":pk": workloadPk(workloadId),
        ":from": cursor === "" ? LOG : cursor,
        ":to": LOG_END,
      },
      ConsistentRead: true,
    });
    const starts: AttemptStart[] = [];
    const events: WorkerEvent[] = [];
    let newest = readAt;
    for (const item of items) {
      if (item.start !== undefined) starts.push(item.start as AttemptStart);
      if (item.event !== undefined) events.push(item.event as WorkerEvent);
      newest = Math.max(newest, Number(String(item.sk).slice(LOG.length, LOG.length + 15)));
    }
    const next = `${LOG}${logStamp(newest - WORKER_LOG_OVERLAP_MS)}`;
    return { starts, events, cursor: next > cursor ? next : cursor };
  }

  /** One log item, keyed by the store's clock (ms) and the item's own id. */
  async #logPut(pk: string, id: string, body: Item): Promise<void> {
    const ms = this.#now().getTime();
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk,
          sk: `${LOG}${logStamp(ms)}#${id}`,
          ...body,
          [TABLE.ttlAttribute]: Math.floor(ms / 1000) + WORKER_LOG_TTL_SECONDS,
        },
      }),
    );
    const took = this.#now().getTime() - ms;
    if (took > WORKER_LOG_WRITE_LIMIT_MS) {
      throw new WorkerLogWriteLateError(
        `log item ${id} took ${took} ms to write (limit ${WORKER_LOG_WRITE_LIMIT_MS} ms); retry it so it is logged under a fresh stamp`,
      );
    }
  }

  // ---- cloud events (CloudEventSource / CloudEventSink) ----

  async putCloudEvent(workloadId: string, event: CloudEvent): Promise<boolean> {
    const at = String(Math.floor(event.at)).padStart(12, "0");
    return this.#conditionalPut(
      {
        pk: workloadPk(workloadId),
        sk: `CE#${at}#${event.instanceId}#${event.kind === "instance-state" ? event.state : event.kind}`,
        event,
        [TABLE.ttlAttribute]: Math.floor(event.at) + CLOUD_EVENT_TTL_SECONDS,
      },
      "attribute_not_exists(pk)",
    );
  }

  async cloudEvents(workloadId: string, sinceSeconds: number): Promise<readonly CloudEvent[]> {
    const from = `CE#${String(Math.max(0, Math.floor(sinceSeconds))).padStart(12, "0")}`;
    const items = await this.#queryAll({
      TableName: this.#table,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": workloadPk(workloadId), ":from": from, ":to": "CE#~" },
      ConsistentRead: true,
    });
    return items.map((item) => item.event as CloudEvent);
  }

  // ---- instance costs (InstanceCostLedger) ----

  async settleInstanceCost(workloadId: string, instanceId: string, usd: number): Promise<boolean> {
    return this.#conditionalPut(
      { pk: workloadPk(workloadId), sk: `COST#${instanceId}`, instanceId, usd },
      "attribute_not_exists(pk)",
    );
  }

  async settledInstanceCosts(workloadId: string): Promise<ReadonlyMap<string, number>> {
    const items = await this.#queryPrefix(workloadPk(workloadId), "COST#");
    return new Map(items.map((item) => [String(item.instanceId), Number(item.usd)]));
  }

  // ---- audit, profiles ----

  async appendAudit(id: string, entries: readonly AuditEntry[]): Promise<void> {
    const pk = workloadPk(id);
    // The key is time plus a hash of the entry: a retried append writes the same items again.
    const items = entries.map((entry) => ({
      pk,
      sk: `AUDIT#${entry.at}#${sha256(JSON.stringify(entry)).slice(0, 16)}`,
      entry,
    }));
    await this.#batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async audit(id: string): Promise<readonly AuditEntry[]> {
    return (await this.#queryPrefix(workloadPk(id), "AUDIT#")).map((item) => item.entry as AuditEntry);
  }

  async putProfile(record: ProfileRecord): Promise<void> {
    const sk = [record.technique, record.instanceType, record.nodes, record.gpusPerNode].join(SEP);
    // The newest measurement wins; an older one arriving late changes nothing.
    await this.#conditionalPut(
      { pk: `PROFILE#${record.jobSignature}`, sk, record, measuredAt: record.measuredAt },
      "attribute_not_exists(pk) OR measuredAt <= :at",
      { ":at": record.measuredAt },
    );
  }

  async profiles(jobSignatures: readonly string[]): Promise<readonly ProfileRecord[]> {
    const unique = [...new Set(jobSignatures)];
    const pages = await Promise.all(
      unique.map((signature) =>
        this.#queryAll({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": `PROFILE#${signature}` },
        }),
      ),
    );
    return pages.flat().map((item) => item.record as ProfileRecord);
  }

  // ---- lease ----

  async acquireLease(id: string, holder: string, nowSeconds: number, ttlSeconds: number): Promise<boolean> {
    return this.#conditionalPut(
      { pk: workloadPk(id), sk: LEASE, holder, [TABLE.ttlAttribute]: nowSeconds + ttlSeconds },
      "attribute_not_exists(pk) OR #ttl <= :now OR holder = :holder",
      { ":now": nowSeconds, ":holder": holder },
      { "#ttl": TABLE.ttlAttribute },
    );
  }

  async releaseLease(id: string, holder: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: workloadPk(id), sk: LEASE },
          ConditionExpression: "holder = :holder",
          ExpressionAttributeValues: { ":holder": holder },
        }),
      );
    } catch (error) {
      // Someone else holds it now (ours expired): theirs stays.
      if (!isConditionFailure(error)) throw error;
    }
  }

  // ---- internals ----

  #epoch(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }

  #summaryItem(record: WorkloadSummary): Item {
    return {
      pk: workloadPk(record.id),
      sk: META,
      [TABLE.ownerIndexPartitionKey]: WORKLOADS,
      [TABLE.ownerIndexSortKey]: `${record.owner}${SEP}${record.createdAt}${SEP}${record.id}`,
      id: record.id,
      name: record.name,
      owner: record.owner,
      status: record.status,
      statusReason: record.statusReason,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      version: record.version,
      planVersion: record.planVersion,
      jobCount: record.jobCount,
      cancelRequested: record.cancelRequested,
    };
  }

  async #specText(id: string): Promise<string> {
    const cached = this.#specs.get(id);
    if (cached !== undefined) return cached;
    const read = await this.#readDocument(workloadPk(id), SPEC);
    if (read === undefined) throw new StoreReadError(`workload ${id} has a summary but no spec item`);
    const text = (read.value as { specText: string }).specText;
    this.#specs.set(id, text);
    return text;
  }

  async #get(pk: string, sk: string): Promise<Item | undefined> {
    const result = (await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: { pk, sk }, ConsistentRead: true }),
    )) as { Item?: Item };
    return result.Item;
  }

  async #conditionalPut(
    item: Item,
    condition: string,
    values?: Record<string, unknown>,
    names?: Record<string, string>,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: condition,
          ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
          ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #queryAll(input: QueryCommandInput): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = (await this.#client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }))) as {
        Items?: Item[];
        LastEvaluatedKey?: Record<string, unknown>;
      };
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  #queryPrefix(pk: string, prefix: string): Promise<Item[]> {
    return this.#queryAll({
      TableName: this.#table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": pk, ":prefix": prefix },
      ConsistentRead: true,
    });
  }

  #chunkPuts(pk: string, encoded: EncodedDocument) {
    return encoded.chunks.map((chunk) => ({
      Put: { TableName: this.#table, Item: { pk, sk: chunk.sk, part: chunk.part } },
    }));
  }

  async #batchPut(pk: string, encoded: EncodedDocument): Promise<void> {
    await this.#batchWrite(
      encoded.chunks.map((chunk) => ({ PutRequest: { Item: { pk, sk: chunk.sk, part: chunk.part } } })),
    );
  }

  async #deleteChunks(pk: string, prefix: string): Promise<void> {
    const keys = await this.#queryAll({
      TableName: this.#table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": pk, ":prefix": prefix },
      ProjectionExpression: "pk, sk",
    });
    await this.#batchWrite(keys.map((key) => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } })));
  }

  async #deleteKeys(pk: string, sks: readonly string[]): Promise<void> {
    await this.#batchWrite(sks.map((sk) => ({ DeleteRequest: { Key: { pk, sk } } })));
  }

  /** BatchWriteItem in groups of 25 (its limit), resending what DynamoDB left unprocessed. */
  async #batchWrite(requests: readonly object[]): Promise<void> {
    for (let offset = 0; offset < requests.length; offset += 25) {
      let pending: object[] = requests.slice(offset, offset + 25);
      for (let round = 0; pending.length > 0; round++) {
        if (round > 8)
          throw new Error(`BatchWriteItem left ${pending.length} requests unprocessed after ${round} rounds`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const result = (await this.#client.send(
          new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }),
        )) as { UnprocessedItems?: Record<string, object[]> };
        pending = result.UnprocessedItems?.[this.#table] ?? [];
      }
    }
  }

  /**
   * Writes a document head with `condition` (and its chunks): in one transaction when they
   * fit, else chunks first and the head last. `expectedVersion` only names the conflict.
   */
  async #writeDocument(
    pk: string,
    sk: string,
    encoded: EncodedDocument,
    extra: Item,
    condition: string,
    expectedVersion: number | undefined,
  ): Promise<void> {
    const head: Item = { pk, sk, ...encoded.head, ...extra };
    const usesVersion = condition.includes("#version");
    const conditionInput = {
      ConditionExpression: condition,
      ...(usesVersion
        ? {
            ExpressionAttributeNames: { "#version": "version" },
            ExpressionAttributeValues: { ":expected": expectedVersion },
          }
        : {}),
    };
    const conflict = (error: unknown) =>
      new VersionConflictError(`${sk} of ${pk.slice(2)}`, expectedVersion ?? 0, { cause: error });
    if (encoded.chunks.length > 0 && fitsOneTransaction(encoded, 0, this.#limits)) {
      try {
        await this.#client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.#table, Item: head, ...conditionInput } },
              ...this.#chunkPuts(pk, encoded),
            ],
          }),
        );
        return;
      } catch (error) {
        if (cancellationCodes(error)?.[0] === "ConditionalCheckFailed") throw conflict(error);
        throw error;
      }
    }
    if (encoded.chunks.length > 0) await this.#batchPut(pk, encoded);
    try {
      await this.#client.send(new PutCommand({ TableName: this.#table, Item: head, ...conditionInput }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The chunks written for the lost attempt are unreachable; remove them.
      const generation = encoded.head.encoding === "gzip-chunks" ? encoded.head.generation : undefined;
      const current = await this.#get(pk, sk);
      if (generation !== undefined && current?.generation !== generation) {
        await this.#deleteChunks(pk, chunkPrefix(sk, generation));
      }
      throw conflict(error);
    }
  }

  /** Reads a head and its chunks; re-reads when a writer replaced the generation mid-read. */
  async #readDocument(pk: string, sk: string): Promise<{ head: Item; value: unknown } | undefined> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const head = await this.#get(pk, sk);
      if (head === undefined) return undefined;
      let chunks: Uint8Array[] | undefined;
      if (head.encoding === "gzip-chunks") {
        const items = await this.#queryPrefix(pk, chunkPrefix(sk, Number(head.generation)));
        chunks = items.sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : 1)).map((item) => item.part as Uint8Array);
      }
      try {
        return { head, value: decodeDocument(head, chunks) };
      } catch (error) {
        if (!(error instanceof IncompleteDocumentError)) throw error;
        lastError = error;
      }
    }
    throw new StoreReadError(`could not read ${sk} of ${pk.slice(2)} whole after 3 tries`, { cause: lastError });
  }
}

/**
 * A plan as stored: the planner's `considered` report lists every job's candidates, and
 * the clones of a sweep share one list, so the store keeps each distinct list once
 * (`consideredLists`) and each job's index into them, in the report's order. A 1,000-job
 * sweep of 33 classes goes from 207 MB of JSON to a few MB. Plans stored without the
 * grouping read as they are.
 */
type StoredPlan = Plan & {
  readonly consideredLists?: readonly Plan["considered"][number]["candidates"][];
  readonly consideredIndex?: readonly (readonly [string, number])[];
};

function groupConsidered(plan: Plan): StoredPlan {
  if (plan.considered.length === 0) return plan;
  const lists: Plan["considered"][number]["candidates"][] = [];
  const indexOf = new Map<string, number>();
  const index: [string, number][] = [];
  for (const entry of plan.considered) {
    const key = JSON.stringify(entry.candidates);
    let at = indexOf.get(key);
    if (at === undefined) {
      at = lists.length;
      lists.push(entry.candidates);
      indexOf.set(key, at);
    }
    index.push([entry.jobId, at]);
  }
  return { ...plan, considered: [], consideredLists: lists, consideredIndex: index };
}

function ungroupConsidered(stored: StoredPlan): Plan {
  const { consideredLists, consideredIndex, ...plan } = stored;
  if (consideredLists === undefined || consideredIndex === undefined) return plan;
  return {
    ...plan,
    considered: consideredIndex.map(([jobId, at]) => {
      const candidates = consideredLists[at];
      if (candidates === undefined) throw new StoreReadError(`plan's considered list ${at} of job ${jobId} is missing`);
      return { jobId, candidates };
    }),
  };
}

function summaryOf(item: Item): WorkloadSummary {
  return {
    id: String(item.id),
    name: String(item.name),
    owner: String(item.owner),
    status: item.status as WorkloadSummary["status"],
    statusReason: item.statusReason === undefined ? undefined : String(item.statusReason),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: Number(item.version),
    planVersion: Number(item.planVersion),
    jobCount: Number(item.jobCount),
    cancelRequested: item.cancelRequested === true,
  };
}

/**
 * Chunk generations come from the content: a writer never overwrites chunks that a head
 * names unless it writes the very same bytes (a retry), so losing a race corrupts nothing.
 */
function contentGeneration(json: string): number {
  return Number.parseInt(sha256(json).slice(0, 12), 16);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** The per-item codes of a cancelled transaction, or undefined for any other error. */
function cancellationCodes(error: unknown): readonly (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (reasons !== undefined) return reasons.map((reason) => reason.Code);
  // Some emulators put the codes only in the message: "... [ConditionalCheckFailed, None]".
  const listed = /\[([^\]]*)\]/.exec(error.message)?.[1];
  return listed?.split(",").map((code) => code.trim());
}
