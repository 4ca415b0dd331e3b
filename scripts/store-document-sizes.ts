/**
 * Prints how the DynamoDB store lays out the documents of the largest workload the spec
 * allows (5,000 jobs): JSON and gzip sizes, inline or chunked, one transaction or two phases.
 * Run: npx tsx scripts/store-document-sizes.ts  (docs/control-plane.md, "Store", quotes it)
 */
import { DOCUMENT_LIMITS, encodeDocument, fitsOneTransaction } from "../lambdas/adapters/dynamodb-documents.ts";
import { maxFixture } from "../test/adapters/fixtures/max-workload.ts";

const { text, plan, record } = maxFixture();
const documents = [
  ["spec", { specText: text }],
  ["plan", plan],
  ["execution record", record],
] as const;
console.log("document          JSON bytes   gzip bytes  encoding      chunks  one transaction");
for (const [name, value] of documents) {
  const json = Buffer.byteLength(JSON.stringify(value));
  const encoded = encodeDocument(value, "X", 1, DOCUMENT_LIMITS);
  const gzip = encoded.head.encoding === "json" ? "-" : String(encoded.bytes);
  console.log(
    `${name.padEnd(17)} ${String(json).padStart(10)}  ${gzip.padStart(11)}  ${encoded.head.encoding.padEnd(12)}  ${String(encoded.chunks.length).padStart(6)}  ${fitsOneTransaction(encoded, 0, DOCUMENT_LIMITS) ? "yes" : "no (chunks first, then head)"}`,
  );
}
