/** A fresh bucket per test on the emulator. */
import { randomUUID } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { emulatorClientConfig } from "./aws.ts";

export async function createTestBucket(prefix = "saturn-test"): Promise<{ bucketName: string; s3: S3Client }> {
  const s3 = new S3Client({ ...emulatorClientConfig(), forcePathStyle: true });
  const bucketName = `${prefix}-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  return { bucketName, s3 };
}
