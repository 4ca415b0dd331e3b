/**
 * How the DynamoDB store keeps the worker fold state of an execution record
 * (core/reconciler/worker-fold-buckets.ts cuts it): the record carries the cursor, the hot
 * part and a map bucket index -> bucket item key; each bucket is its own immutable item,
 * gzipped JSON under
 *
 *   FOLD#v<version that first wrote it>#b<index>#<SHA-256 of its JSON, 24 hex>
 *
 * A save compares each bucket's hash with the one the previous record names at that index:
 * equal, it names the same item again; different, it writes a new item under the record
 * version it is about to write. Keys carry that version so that no later save ever writes a
 * key that an earlier save deleted (a key is written only by saves that expect the version
 * before it, and deleted only after a later version won), which keeps a slow writer's
 * cleanup from removing a bucket a newer record names.
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { joinWorkerFold, splitWorkerFold } from "../core/reconciler/worker-fold-buckets.ts";
import type { StoredWorkerFold, WorkerFoldState } from "../core/reconciler/worker-fold-state.ts";

export const FOLD_PREFIX = "FOLD#";

/** The fold as the execution record's JSON keeps it in the store. */
export interface FoldReference {
  readonly cursor: string;
  readonly hot: WorkerFoldState;
  /** Bucket index (decimal) -> the sort key of its item. */
  readonly buckets: Readonly<Record<string, string>>;
}

export interface FoldBucketItem {
  readonly sk: string;
  readonly body: Uint8Array;
}

export interface EncodedFold {
  readonly reference: FoldReference;
  /** Buckets the previous record does not name: to write before the record. */
  readonly writes: readonly FoldBucketItem[];
}

export function isFoldReference(value: unknown): value is FoldReference {
  return typeof value === "object" && value !== null && "buckets" in value && "hot" in value;
}

export function foldBucketKey(version: number, index: number, digest: string): string {
  return `${FOLD_PREFIX}v${String(version).padStart(12, "0")}#b${String(index).padStart(3, "0")}#${digest}`;
}

/** The record version a bucket key was first written under (NaN for a key of another shape). */
export function foldBucketVersion(sk: string): number {
  return Number(/^FOLD#v(\d{12})#/.exec(sk)?.[1] ?? Number.NaN);
}

function digestOf(json: string): string {
  return createHash("sha256").update(json).digest("hex").slice(0, 24);
}

/**
 * Cuts `fold` into its reference and the bucket items that `previous` (the map the stored
 * record names) lacks, keyed under `version` (the one the save writes).
 */
export function encodeFold(
  fold: StoredWorkerFold,
  previous: Readonly<Record<string, string>> | undefined,
  version: number,
  itemLimitBytes: number,
  bucketCount?: number,
): EncodedFold {
  const parts = splitWorkerFold(fold.state, bucketCount);
  const buckets: Record<string, string> = {};
  const writes: FoldBucketItem[] = [];
  for (const [index, part] of parts.buckets) {
    const json = JSON.stringify(part);
    const digest = digestOf(json);
    const kept = previous?.[String(index)];
    if (kept?.endsWith(`#${digest}`)) {
      buckets[String(index)] = kept;
      continue;
    }
    const body = new Uint8Array(gzipSync(json));
    if (body.byteLength > itemLimitBytes) {
      throw new RangeError(
        `worker fold bucket ${index} of ${parts.count}: expected at most ${itemLimitBytes} gzipped bytes, got ${body.byteLength}; lower WORKER_FOLD_ENTRIES_PER_BUCKET`,
      );
    }
    const sk = foldBucketKey(version, index, digest);
    buckets[String(index)] = sk;
    writes.push({ sk, body });
  }
  return { reference: { cursor: fold.cursor, hot: parts.hot, buckets }, writes };
}

export class FoldBucketError extends Error {
  override readonly name = "FoldBucketError";
}

/** The fold a reference and its bucket items (sk -> gzipped body) make; throws if one is missing or altered. */
export function decodeFold(reference: FoldReference, bodies: ReadonlyMap<string, Uint8Array>): StoredWorkerFold {
  const parts: WorkerFoldState[] = [];
  for (const [index, sk] of Object.entries(reference.buckets)) {
    const body = bodies.get(sk);
    if (body === undefined) throw new FoldBucketError(`expected worker fold bucket ${index} at ${sk}, got no item`);
    const json = gunzipSync(body).toString("utf8");
    const digest = digestOf(json);
    if (!sk.endsWith(`#${digest}`)) {
      throw new FoldBucketError(`expected worker fold bucket ${index} to hash to ${sk.slice(-24)}, got ${digest}`);
    }
    parts.push(JSON.parse(json) as WorkerFoldState);
  }
  return { cursor: reference.cursor, state: joinWorkerFold(reference.hot, parts) };
}
