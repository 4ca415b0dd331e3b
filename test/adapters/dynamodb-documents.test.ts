import { describe, expect, it } from "vitest";
import {
  DOCUMENT_LIMITS,
  decodeDocument,
  encodeDocument,
  fitsOneTransaction,
  IncompleteDocumentError,
} from "../../lambdas/adapters/dynamodb-documents.ts";

/** Text that gzip cannot shrink much: a deterministic pseudo-random stream of letters. */
function noisy(length: number): string {
  let state = 12345;
  let text = "";
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    text += String.fromCharCode(97 + (state % 26));
  }
  return text;
}

const limits = { ...DOCUMENT_LIMITS, inlineLimitBytes: 1000, chunkBytes: 400 };

describe("encodeDocument / decodeDocument", () => {
  it("keeps small documents inline as JSON", () => {
    const encoded = encodeDocument({ a: 1 }, "EXEC", 7, limits);
    expect(encoded.head).toEqual({ encoding: "json", doc: '{"a":1}' });
    expect(decodeDocument({ ...encoded.head }, undefined)).toEqual({ a: 1 });
  });

  it("gzips JSON above the plain limit although it would fit inline as text", () => {
    const value = { text: "ab".repeat(3000) };
    const encoded = encodeDocument(value, "EXEC", 7, DOCUMENT_LIMITS);
    expect(encoded.head.encoding).toBe("gzip");
    expect(encoded.bytes).toBeLessThan(DOCUMENT_LIMITS.plainLimitBytes);
    expect(decodeDocument({ ...encoded.head }, undefined)).toEqual(value);
  });

  it("gzips a large but compressible document inline", () => {
    const value = { text: "a".repeat(5000) };
    const encoded = encodeDocument(value, "EXEC", 7, limits);
    expect(encoded.head.encoding).toBe("gzip");
    expect(encoded.chunks).toEqual([]);
    expect(decodeDocument({ ...encoded.head }, undefined)).toEqual(value);
  });

  it("cuts an incompressible document into chunks of its generation and reads them back", () => {
    const value = { text: noisy(3000) };
    const encoded = encodeDocument(value, "PLAN#v000001", 42, limits);
    expect(encoded.head).toMatchObject({ encoding: "gzip-chunks", generation: 42 });
    expect(encoded.chunks.length).toBeGreaterThan(2);
    for (const chunk of encoded.chunks) {
      expect(chunk.sk.startsWith("PLAN#v000001#g000000000000042#c")).toBe(true);
      expect(chunk.part.byteLength).toBeLessThanOrEqual(400);
    }
    expect(
      decodeDocument(
        { ...encoded.head },
        encoded.chunks.map((c) => c.part),
      ),
    ).toEqual(value);
  });

  it("refuses a chunked document with a chunk missing or altered", () => {
    const encoded = encodeDocument({ text: noisy(3000) }, "EXEC", 1, limits);
    const parts = encoded.chunks.map((c) => c.part);
    expect(() => decodeDocument({ ...encoded.head }, parts.slice(1))).toThrow(IncompleteDocumentError);
    const altered = parts.map((part, index) => (index === 0 ? new Uint8Array(part).fill(0) : part));
    expect(() => decodeDocument({ ...encoded.head }, altered)).toThrow(/SHA-256/);
  });

  it("sends head and chunks in one transaction only within its item and byte limits", () => {
    const encoded = encodeDocument({ text: noisy(3000) }, "EXEC", 1, limits);
    expect(fitsOneTransaction(encoded, 0, limits)).toBe(true);
    expect(fitsOneTransaction(encoded, 100, limits)).toBe(false);
    expect(fitsOneTransaction(encoded, 0, { ...limits, transactionBytes: 100 })).toBe(false);
  });
});
