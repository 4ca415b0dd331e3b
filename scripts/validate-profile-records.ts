/**
 * Validates measured throughput records (JSON Lines, one ProfileRecord per line) against
 * the schema the control plane reads them with (`profileRecordSchema`). The harness's tests
 * run it on what profile mode wrote; exit 1 names the record and field that failed.
 *
 *   npx tsx scripts/validate-profile-records.ts records.jsonl
 */
import { readFileSync } from "node:fs";
import { profileRecordSchema } from "../lambdas/core/estimator/profile-record-schema.ts";

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write("usage: validate-profile-records.ts <records.jsonl>\n");
  process.exit(2);
}
const lines = readFileSync(path, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "");
let failures = 0;
lines.forEach((line, index) => {
  const result = profileRecordSchema.safeParse(JSON.parse(line));
  if (!result.success) {
    failures += 1;
    for (const issue of result.error.issues) {
      process.stderr.write(`record ${index + 1}: ${issue.path.join(".") || "(record)"}: ${issue.message}\n`);
    }
  }
});
process.stdout.write(`${lines.length - failures} of ${lines.length} records valid\n`);
process.exit(failures === 0 ? 0 : 1);
