/**
 * Large JSON documents in DynamoDB items (the workload spec, a plan version, the execution
 * record), kept under the 400 KB item limit. A document is a *head* item (the one readers
 * get first, and the one every conditional write targets) plus, when it is big, *chunk*
 * items that share the head's partition:
 *
 * - up to `plainLimitBytes` of JSON: inline in the head as a string (`doc`);
 * - larger: gzip; if that fits `inlineLimitBytes`, inline in the head as binary (`docz`);
 * - larger still: the gzip bytes are cut into chunks of `chunkBytes` under
 *   `<sk>#g<generation>#c<index>`, and the head names its generation, the chunk count and
 *   the SHA-256 of the bytes.
 *
 * Invariant: a head never names a generation whose chunks are not all written. When head
 * and chunks fit one TransactWriteItems (at most 100 items and 4 MB), they go in one; else
 * the chunks are written first (BatchWriteItem) and the head is flipped afterwards with its
 * condition. A reader reads the head, then that generation's chunks, and checks count and
 * hash: it gets the whole document or, if a writer removed the generation under it, re-reads
 * the head. Chunks of superseded generations are deleted after the flip (best effort;
 * leftovers are unreachable and harmless).
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";

/** Defaults: 350 KB leaves room for keys and other attributes under DynamoDB's 400 KB. */
export const DOCUMENT_LIMITS = {
  /**
   * JSON above 4 KB is gzipped: DynamoDB bills writes per 1 KB and reads per 4 KB of item, and
   * the execution record (rewritten every pass) shrinks to about a tenth. Until session 6 this
   * was the inline limit (350 KB of plain JSON); such heads still read.
   */
  plainLimitBytes: 4_096,
  inlineLimitBytes: 350_000,
  chunkBytes: 350_000,
  /** TransactWriteItems: 100 items, 4 MB in all (DynamoDB developer guide, "Service quotas"). */
  transactionItems: 100,
  transactionBytes: 3_900_000,
} as const;

export interface DocumentLimits {
  readonly plainLimitBytes: number;
  readonly inlineLimitBytes: number;
  readonly chunkBytes: number;
  readonly transactionItems: number;
  readonly transactionBytes: number;
}

/** What the head item carries about its body (spread into the head). */
export type HeadBody =
  | { readonly encoding: "json"; readonly doc: string }
  | { readonly encoding: "gzip"; readonly docz: Uint8Array }
  | {
      readonly encoding: "gzip-chunks";
      readonly generation: number;
      readonly chunks: number;
      readonly sha256: string;
    };

export interface ChunkItem {
  readonly sk: string;
  readonly part: Uint8Array;
}

export interface EncodedDocument {
  readonly head: HeadBody;
  readonly chunks: readonly ChunkItem[];
  /** Bytes the head body and chunks add (for the transaction size check). */
  readonly bytes: number;
}

export function chunkPrefix(headSk: string, generation: number): string {
  return `${headSk}#g${String(generation).padStart(15, "0")}#c`;
}

/** Encodes `value` for the head at `headSk`; `generation` names the chunks if it needs any. */
export function encodeDocument(
  value: unknown,
  headSk: string,
  generation: number,
  limits: DocumentLimits,
): EncodedDocument {
  const json = JSON.stringify(value);
  const jsonBytes = Buffer.byteLength(json, "utf8");
  if (jsonBytes <= Math.min(limits.plainLimitBytes, limits.inlineLimitBytes))
    return { head: { encoding: "json", doc: json }, chunks: [], bytes: jsonBytes };
  const zipped = gzipSync(json);
  if (zipped.byteLength <= limits.inlineLimitBytes) {
    return { head: { encoding: "gzip", docz: new Uint8Array(zipped) }, chunks: [], bytes: zipped.byteLength };
  }
  const prefix = chunkPrefix(headSk, generation);
  const chunks: ChunkItem[] = [];
  for (let offset = 0, index = 0; offset < zipped.byteLength; offset += limits.chunkBytes, index++) {
    chunks.push({
      sk: `${prefix}${String(index).padStart(5, "0")}`,
      part: new Uint8Array(zipped.subarray(offset, offset + limits.chunkBytes)),
    });
  }
  const sha256 = createHash("sha256").update(zipped).digest("hex");
  return {
    head: { encoding: "gzip-chunks", generation, chunks: chunks.length, sha256 },
    chunks,
    bytes: zipped.byteLength,
  };
}

/** True when head and chunks may go in one TransactWriteItems together with `otherItems` more. */
export function fitsOneTransaction(encoded: EncodedDocument, otherItems: number, limits: DocumentLimits): boolean {
  return encoded.chunks.length + 1 + otherItems <= limits.transactionItems && encoded.bytes <= limits.transactionBytes;
}

export class IncompleteDocumentError extends Error {
  override readonly name = "IncompleteDocumentError";
}

/**
 * Decodes a head (and, for chunked bodies, its generation's chunks in key order). Throws
 * `IncompleteDocumentError` when chunks are missing or their hash differs.
 */
export function decodeDocument(head: Record<string, unknown>, chunks: readonly Uint8Array[] | undefined): unknown {
  switch (head.encoding) {
    case "json":
      return JSON.parse(String(head.doc));
    case "gzip":
      return JSON.parse(gunzipSync(head.docz as Uint8Array).toString("utf8"));
    case "gzip-chunks": {
      const expected = Number(head.chunks);
      if (chunks === undefined || chunks.length !== expected) {
        throw new IncompleteDocumentError(
          `expected ${expected} chunks of generation ${String(head.generation)}, got ${chunks?.length ?? 0}`,
        );
      }
      const bytes = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)));
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      if (sha256 !== head.sha256) {
        throw new IncompleteDocumentError(
          `expected chunks with SHA-256 ${String(head.sha256)}, got ${sha256} (generation ${String(head.generation)})`,
        );
      }
      return JSON.parse(gunzipSync(bytes).toString("utf8"));
    }
    default:
      throw new IncompleteDocumentError(
        `expected a document encoding json, gzip or gzip-chunks, got ${String(head.encoding)}`,
      );
  }
}
