/**
 * The plans' `considered` reports in the stack's bucket (considered-report.ts): one gzip JSON
 * object per plan version at `workloads/<id>/reports/plan-v<n>-considered.json.gz` (under
 * `workloads/`, so the bucket's lifecycle rule expires it with the workload's other data),
 * written once (`If-None-Match: *`; plan versions never change) and read through a presigned
 * GET that expires after `expiresInSeconds` (default 15 minutes). The API function may only
 * read and write objects under `workloads/*\/reports/` (cdk/saturn-stack.ts).
 */
import { gzipSync } from "node:zlib";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type {
  ConsideredReportLink,
  ConsideredReports,
  GroupedConsidered,
} from "../core/control-plane/considered-report.ts";

export const DEFAULT_REPORT_LINK_SECONDS = 900;

export function consideredReportKey(workloadId: string, planVersion: number): string {
  return `workloads/${workloadId}/reports/plan-v${planVersion}-considered.json.gz`;
}

export interface S3ConsideredReportsOptions {
  readonly bucketName: string;
  /** A full client: presigning needs its endpoint and credentials. */
  readonly s3: S3Client;
  readonly now?: () => Date;
  readonly expiresInSeconds?: number;
}

export class S3ConsideredReports implements ConsideredReports {
  readonly #bucket: string;
  readonly #s3: S3Client;
  readonly #now: () => Date;
  readonly #expires: number;

  constructor(options: S3ConsideredReportsOptions) {
    this.#bucket = options.bucketName;
    this.#s3 = options.s3;
    this.#now = options.now ?? (() => new Date());
    this.#expires = options.expiresInSeconds ?? DEFAULT_REPORT_LINK_SECONDS;
  }

  async publish(report: GroupedConsidered): Promise<ConsideredReportLink> {
    await this.put(report);
    return this.link(report.workloadId, report.planVersion);
  }

  async put(report: GroupedConsidered): Promise<void> {
    const key = consideredReportKey(report.workloadId, report.planVersion);
    if (!(await this.#exists(key))) {
      try {
        await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: key,
            Body: gzipSync(JSON.stringify(report)),
            ContentType: "application/json",
            ContentEncoding: "gzip",
            IfNoneMatch: "*",
          }),
        );
      } catch (error) {
        // Another request wrote the same report first: the object is what this one would write.
        if (httpStatus(error) !== 412) throw error;
      }
    }
  }

  /** Presigns a GET of the report's key; no call to S3 (the planner wrote it before the plan). */
  async link(workloadId: string, planVersion: number): Promise<ConsideredReportLink> {
    const key = consideredReportKey(workloadId, planVersion);
    const signedAt = this.#now();
    const url = await getSignedUrl(this.#s3, new GetObjectCommand({ Bucket: this.#bucket, Key: key }), {
      expiresIn: this.#expires,
      signingDate: signedAt,
    });
    return { url, expiresAt: new Date(signedAt.getTime() + this.#expires * 1000).toISOString() };
  }

  /** Without s3:ListBucket S3 answers 403 for a missing key: anything but 200 means "write it". */
  async #exists(key: string): Promise<boolean> {
    try {
      await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return true;
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404 || status === 403) return false;
      throw error;
    }
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}
