/**
 * The orders documents in S3 (worker protocol, "Orders"): one JSON object per instance at
 * `bucketLayout.orders(workloadId, instanceId)`, validated by `instanceOrdersSchema` on every
 * read and write. A change is read-modify-write on the object's ETag: the write carries
 * `If-Match` (or `If-None-Match: *` for the first one), S3's conditional writes (GA since
 * 2024-11 for PutObject; moto honours both), so two writers never lose each other's
 * entries; on 412 the change is re-applied to the fresh document. `sequence` grows by one
 * with every write. docs/control-plane.md, "Workers adapter".
 */
import { GetObjectCommand, type GetObjectCommandOutput, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  bucketLayout,
  type InstanceOrders,
  instanceOrdersSchema,
  WORKER_PROTOCOL,
} from "../core/protocol/worker-protocol.ts";

/** The part of an S3 client this adapter uses. */
export interface S3ClientPort {
  send(command: object): Promise<unknown>;
}

export interface S3OrdersOptions {
  readonly bucketName: string;
  readonly s3?: S3ClientPort;
  readonly now?: () => Date;
  /** Conditional-write retries before giving up (default 5). */
  readonly maxAttempts?: number;
}

/** The orders document of an instance could not be written after repeated concurrent changes. */
export class OrdersConflictError extends Error {
  override readonly name = "OrdersConflictError";
}

/** A stored orders document that fails the protocol's schema (never expected; never overwritten blindly). */
export class InvalidOrdersError extends Error {
  override readonly name = "InvalidOrdersError";
}

export interface StoredOrders {
  readonly orders: InstanceOrders;
  readonly etag: string;
}

/** Returns the changed document, or undefined when nothing needs to change (no write). */
export type OrdersChange = (current: InstanceOrders) => InstanceOrders | undefined;

export class S3Orders {
  readonly #bucket: string;
  readonly #s3: S3ClientPort;
  readonly #now: () => Date;
  readonly #maxAttempts: number;

  constructor(options: S3OrdersOptions) {
    this.#bucket = options.bucketName;
    this.#s3 = options.s3 ?? new S3Client({});
    this.#now = options.now ?? (() => new Date());
    this.#maxAttempts = options.maxAttempts ?? 5;
  }

  async read(workloadId: string, instanceId: string): Promise<StoredOrders | undefined> {
    const key = bucketLayout.orders(workloadId, instanceId);
    let output: GetObjectCommandOutput;
    try {
      output = (await this.#s3.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key }),
      )) as GetObjectCommandOutput;
    } catch (error) {
      if (error instanceof Error && (error.name === "NoSuchKey" || error.name === "NotFound")) return undefined;
      throw error;
    }
    const text = (await output.Body?.transformToString("utf-8")) ?? "";
    const parsed = instanceOrdersSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new InvalidOrdersError(
        `s3://${this.#bucket}/${key}: expected an orders document (${WORKER_PROTOCOL}), got one with issues: ${parsed.error.issues
          .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
          .join("; ")}`,
      );
    }
    return { orders: parsed.data, etag: output.ETag ?? "" };
  }

  /** Applies `change` to the current document (an empty one if none) with a conditional write. */
  async update(workloadId: string, instanceId: string, change: OrdersChange): Promise<InstanceOrders> {
    const key = bucketLayout.orders(workloadId, instanceId);
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const stored = await this.read(workloadId, instanceId);
      const current = stored?.orders ?? emptyOrders(workloadId, instanceId, this.#now());
      const changed = change(current);
      if (changed === undefined) return current;
      const next = instanceOrdersSchema.parse({
        ...changed,
        sequence: stored === undefined ? 0 : current.sequence + 1,
        writtenAt: this.#now().toISOString(),
      });
      try {
        await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: key,
            Body: JSON.stringify(next),
            ContentType: "application/json",
            ...(stored === undefined ? { IfNoneMatch: "*" } : { IfMatch: stored.etag }),
          }),
        );
        return next;
      } catch (error) {
        if (!isPreconditionFailure(error)) throw error;
      }
    }
    throw new OrdersConflictError(
      `s3://${this.#bucket}/${key}: expected to write the orders within ${this.#maxAttempts} conditional attempts, but it changed under every one`,
    );
  }
}

export function emptyOrders(workloadId: string, instanceId: string, now: Date): InstanceOrders {
  return {
    protocol: WORKER_PROTOCOL,
    workloadId,
    instanceId,
    sequence: 0,
    writtenAt: now.toISOString(),
    assignments: [],
    stops: [],
    shutdown: false,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isPreconditionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // 409 ConditionalRequestConflict: a concurrent conditional write on the same key.
  return error.name === "PreconditionFailed" || status === 412 || status === 409;
}
