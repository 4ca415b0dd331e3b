/**
 * The agent's one door to the control plane: its orders document and the files in S3
 * (checkpoints, data sets, user modules, logs), and the worker-event queue in SQS. Clients
 * come in through the options (built once in `main.ts`, default credential chain on the
 * instance; tests pass clients pointed at moto). Retries are the SDK's own.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

export type OrdersRead =
  | { readonly status: "not-modified" }
  | { readonly status: "missing" }
  | { readonly status: "changed"; readonly etag: string; readonly body: string };

export interface ControlPlanePort {
  /** Conditional GET of the orders document: `not-modified` when its ETag is still `etag`. */
  readOrders(key: string, etag: string | undefined): Promise<OrdersRead>;
  sendEvent(body: string): Promise<void>;
  /** Uploads every file under `localDir` below `s3Uri` (a prefix ending in `/`); returns the file count. */
  uploadDirectory(localDir: string, s3Uri: string): Promise<number>;
  uploadFile(localFile: string, s3Uri: string): Promise<void>;
  /** Downloads every object below the prefix `s3Uri` into `localDir`; returns the object count. */
  downloadPrefix(s3Uri: string, localDir: string): Promise<number>;
  downloadObject(s3Uri: string, localFile: string): Promise<void>;
}

export class S3UriError extends Error {
  constructor(uri: string) {
    super(`expected an s3://bucket/key location, got ${JSON.stringify(uri)}`);
    this.name = "S3UriError";
  }
}

export function parseS3Uri(uri: string): { readonly bucket: string; readonly key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match?.[1]) throw new S3UriError(uri);
  return { bucket: match[1], key: match[2] ?? "" };
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

export interface ControlPlaneClientOptions {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly bucket: string;
  readonly queueUrl: string;
}

export class ControlPlaneClient implements ControlPlanePort {
  readonly #s3: S3Client;
  readonly #sqs: SQSClient;
  readonly #bucket: string;
  readonly #queueUrl: string;

  constructor(options: ControlPlaneClientOptions) {
    this.#s3 = options.s3;
    this.#sqs = options.sqs;
    this.#bucket = options.bucket;
    this.#queueUrl = options.queueUrl;
  }

  async readOrders(key: string, etag: string | undefined): Promise<OrdersRead> {
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key, IfNoneMatch: etag }));
      const body = (await answer.Body?.transformToString("utf8")) ?? "";
      return { status: "changed", etag: answer.ETag ?? "", body };
    } catch (error) {
      const status = httpStatus(error);
      if (status === 304) return { status: "not-modified" };
      // No document yet is an answer; a missing bucket is a broken control plane.
      if (status === 404 && (error as { name?: string }).name !== "NoSuchBucket") return { status: "missing" };
      throw error;
    }
  }

  async sendEvent(body: string): Promise<void> {
    await this.#sqs.send(new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: body }));
  }

  async uploadDirectory(localDir: string, s3Uri: string): Promise<number> {
    const { bucket, key } = parseS3Uri(s3Uri);
    const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
    let count = 0;
    for await (const file of filesUnder(localDir)) {
      const relativeKey = relative(localDir, file).split(sep).join("/");
      await this.#put(bucket, prefix + relativeKey, file);
      count += 1;
    }
    return count;
  }

  async uploadFile(localFile: string, s3Uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(s3Uri);
    await this.#put(bucket, key, localFile);
  }

  async #put(bucket: string, key: string, file: string): Promise<void> {
    const { size } = await stat(file);
    await this.#s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }),
    );
  }

  async downloadPrefix(s3Uri: string, localDir: string): Promise<number> {
    const { bucket, key } = parseS3Uri(s3Uri);
    const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
    let count = 0;
    let token: string | undefined;
    do {
      const page = await this.#s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith("/")) continue;
        const rest = object.Key.slice(prefix.length);
        // Keys are the harness's own relative paths; a key that climbs out is refused.
        if (rest.split("/").includes("..")) continue;
        await this.#get(bucket, object.Key, join(localDir, ...rest.split("/")));
        count += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return count;
  }

  async downloadObject(s3Uri: string, localFile: string): Promise<void> {
    const { bucket, key } = parseS3Uri(s3Uri);
    await this.#get(bucket, key, localFile);
  }

  async #get(bucket: string, key: string, file: string): Promise<void> {
    const answer = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await mkdir(dirname(file), { recursive: true });
    if (!answer.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    await pipeline(answer.Body as Readable, createWriteStream(file));
  }
}
