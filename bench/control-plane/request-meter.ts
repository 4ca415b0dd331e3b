/**
 * Counts what the control plane asks of AWS, at the SDK's HTTP layer (a request handler
 * passed to every client through the composition root's `clientConfig` seam): requests by
 * service and operation, and for DynamoDB the items and bytes read and written, from each
 * request and answer body. The service comes from the SigV4 credential scope, the
 * operation from `X-Amz-Target` (JSON protocols) or the `Action` form field (query protocols).
 */
import { Readable } from "node:stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { HttpRequest, HttpResponse } from "@smithy/protocol-http";

export interface MeterCounts {
  readonly requests: Readonly<Record<string, number>>;
  readonly dynamoItemsRead: number;
  readonly dynamoItemsWritten: number;
  readonly dynamoBytesRead: number;
  readonly dynamoBytesWritten: number;
}

export class RequestMeter {
  readonly handler: NodeHttpHandler;
  #requests: Record<string, number> = {};
  #itemsRead = 0;
  #itemsWritten = 0;
  #bytesRead = 0;
  #bytesWritten = 0;

  constructor() {
    const inner = new NodeHttpHandler();
    const meter = this;
    // A subclass-free wrapper: `handle` is the only method the SDK calls per request.
    this.handler = Object.assign(Object.create(inner) as NodeHttpHandler, {
      async handle(request: HttpRequest, options?: { abortSignal?: AbortSignal }) {
        const { response } = await inner.handle(request, options);
        return { response: await meter.#record(request, response) };
      },
    });
  }

  snapshot(): MeterCounts {
    return {
      requests: { ...this.#requests },
      dynamoItemsRead: this.#itemsRead,
      dynamoItemsWritten: this.#itemsWritten,
      dynamoBytesRead: this.#bytesRead,
      dynamoBytesWritten: this.#bytesWritten,
    };
  }

  async #record(request: HttpRequest, response: HttpResponse): Promise<HttpResponse> {
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(request.headers.authorization ?? ""));
    const service = scope?.[1] ?? "unknown";
    // The SDK hands the body over as a string or as bytes (the JSON protocols' serializers differ).
    const body =
      typeof request.body === "string"
        ? request.body
        : request.body instanceof Uint8Array
          ? Buffer.from(request.body).toString("utf8")
          : "";
    const target = String(request.headers["x-amz-target"] ?? "");
    const action =
      target !== "" ? (target.split(".").pop() ?? target) : (/(?:^|&)Action=([^&]+)/.exec(body)?.[1] ?? request.method);
    // S3's REST operations have neither: name the two the control plane uses by their method.
    const operation =
      service === "s3" && action === "PUT" ? "PutObject" : service === "s3" && action === "GET" ? "GetObject" : action;
    const key = `${service}:${operation}`;
    this.#requests[key] = (this.#requests[key] ?? 0) + 1;
    if (service !== "dynamodb") return response;
    const chunks: Buffer[] = [];
    for await (const chunk of response.body as Readable) chunks.push(Buffer.from(chunk as Buffer));
    const answer = Buffer.concat(chunks);
    this.#countDynamo(action, body, answer.toString("utf8"));
    response.body = Readable.from([answer]);
    return response;
  }

  #countDynamo(action: string, requestBody: string, answerBody: string): void {
    let answer: Record<string, unknown> = {};
    let asked: Record<string, unknown> = {};
    try {
      answer = answerBody === "" ? {} : (JSON.parse(answerBody) as Record<string, unknown>);
      asked = requestBody === "" ? {} : (JSON.parse(requestBody) as Record<string, unknown>);
    } catch {
      return;
    }
    const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? ""), "utf8");
    switch (action) {
      case "GetItem":
        if (answer.Item !== undefined) {
          this.#itemsRead += 1;
          this.#bytesRead += size(answer.Item);
        }
        return;
      case "Query":
      case "Scan": {
        const items = (answer.Items as unknown[] | undefined) ?? [];
        this.#itemsRead += items.length;
        this.#bytesRead += items.reduce((sum: number, item) => sum + size(item), 0);
        return;
      }
      case "BatchGetItem": {
        for (const items of Object.values((answer.Responses as Record<string, unknown[]>) ?? {})) {
          this.#itemsRead += items.length;
          this.#bytesRead += items.reduce((sum: number, item) => sum + size(item), 0);
        }
        return;
      }
      case "PutItem":
        this.#itemsWritten += 1;
        this.#bytesWritten += size(asked.Item);
        return;
      case "UpdateItem":
      case "DeleteItem":
        this.#itemsWritten += 1;
        this.#bytesWritten += size(asked);
        return;
      case "BatchWriteItem": {
        for (const writes of Object.values((asked.RequestItems as Record<string, unknown[]>) ?? {})) {
          this.#itemsWritten += writes.length;
          this.#bytesWritten += writes.reduce((sum: number, item) => sum + size(item), 0);
        }
        return;
      }
      case "TransactWriteItems": {
        const items = (asked.TransactItems as unknown[] | undefined) ?? [];
        this.#itemsWritten += items.length;
        this.#bytesWritten += items.reduce((sum: number, item) => sum + size(item), 0);
        return;
      }
      default:
        return;
    }
  }
}

export function difference(after: MeterCounts, before: MeterCounts): MeterCounts {
  const requests: Record<string, number> = {};
  for (const [key, count] of Object.entries(after.requests)) {
    const delta = count - (before.requests[key] ?? 0);
    if (delta > 0) requests[key] = delta;
  }
  return {
    requests,
    dynamoItemsRead: after.dynamoItemsRead - before.dynamoItemsRead,
    dynamoItemsWritten: after.dynamoItemsWritten - before.dynamoItemsWritten,
    dynamoBytesRead: after.dynamoBytesRead - before.dynamoBytesRead,
    dynamoBytesWritten: after.dynamoBytesWritten - before.dynamoBytesWritten,
  };
}
