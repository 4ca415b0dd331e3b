/**
 * The local stack's stand-in for API Gateway (moto serves no execute-api routing): an HTTP
 * server on 127.0.0.1 that does what a REST API with `AWS_IAM` methods and Lambda proxy
 * integrations does, in-process:
 *
 *   1. match the route, else 403 "Missing Authentication Token";
 *   2. check the SigV4 signature (service `execute-api`), else 403 with API Gateway's message;
 *   3. name the caller: the principal ARN of the access key (from STS GetCallerIdentity on
 *      the emulator) goes into `requestContext.identity.userArn`, as API Gateway fills it;
 *   4. call the real api handler with the API Gateway proxy event and send its result back.
 *
 * Bodies above API Gateway's 10 MB payload limit get 413 before the handler sees them; the
 * handler enforces the API's own, smaller, limit.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { type ApiRoute, matchRoute, SATURN_API_ROUTES } from "./api-routes.ts";
import { lambdaContext } from "./lambda-context.ts";
import { verifySignature } from "./sigv4-verifier.ts";

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface CallerIdentity {
  readonly arn: string;
  readonly accountId: string;
  readonly userId: string;
}

export interface ApiRouterOptions {
  readonly handler: ApiHandler;
  readonly region: string;
  readonly secretOf: (accessKeyId: string) => Promise<string | undefined>;
  readonly identityOf: (accessKeyId: string) => Promise<CallerIdentity>;
  readonly now?: () => Date;
  readonly routes?: readonly ApiRoute[];
  readonly stage?: string;
  /** Called after each request with its route and status (the benchmark counts them). */
  readonly onRequest?: (route: ApiRoute | undefined, status: number) => void;
}

/** API Gateway's payload limit for REST APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export class ApiRouter {
  readonly #options: ApiRouterOptions;
  readonly #server: Server;

  constructor(options: ApiRouterOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => {
      this.#serve(request, response).catch((error: unknown) => {
        send(response, 500, { message: `Internal server error: ${error instanceof Error ? error.message : error}` });
      });
    });
  }

  /** Listens on 127.0.0.1 (port 0: a free one) and returns the base URL. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    return `http://${host}:${address.port}/`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const options = this.#options;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) {
        options.onRequest?.(undefined, 413);
        return send(response, 413, { message: "Request Too Long" });
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(request.url ?? "/", "http://local");
    const method = request.method ?? "GET";
    const match = matchRoute(options.routes ?? SATURN_API_ROUTES, method, url.pathname);
    if (match === undefined) {
      options.onRequest?.(undefined, 403);
      return send(response, 403, { message: "Missing Authentication Token" });
    }
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      headers[name] = values.join(",");
      multiValueHeaders[name] = values;
    }
    const query: Record<string, string[]> = {};
    for (const [key, value] of url.searchParams) query[key] = [...(query[key] ?? []), value];
    const verdict = await verifySignature(
      { method, path: rawPath(request.url ?? "/"), query, headers, body },
      {
        region: options.region,
        service: "execute-api",
        secretOf: options.secretOf,
        now: options.now ?? (() => new Date()),
      },
    );
    if (!verdict.ok) {
      options.onRequest?.(match.route, 403);
      return send(response, 403, { message: verdict.message });
    }
    const identity = await options.identityOf(verdict.accessKeyId);
    const stage = options.stage ?? "local";
    const requestId = randomUUID();
    const now = (options.now ?? (() => new Date()))();
    const event: APIGatewayProxyEvent = {
      resource: match.route.resource,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query).length === 0 ? null : lastValues(query),
      multiValueQueryStringParameters: Object.keys(query).length === 0 ? null : query,
      pathParameters: match.pathParameters as APIGatewayProxyEvent["pathParameters"],
      stageVariables: null,
      body: body === "" ? null : body,
      isBase64Encoded: false,
      requestContext: {
        accountId: identity.accountId,
        apiId: "saturnlocal",
        authorizer: null,
        protocol: `HTTP/${request.httpVersion}`,
        httpMethod: method,
        path: `/${stage}${url.pathname}`,
        stage,
        requestId,
        requestTimeEpoch: now.getTime(),
        resourceId: "local",
        resourcePath: match.route.resource,
        identity: {
          accessKey: verdict.accessKeyId,
          accountId: identity.accountId,
          apiKey: null,
          apiKeyId: null,
          caller: identity.userId,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
          user: identity.userId,
          userAgent: headers["user-agent"] ?? null,
          userArn: identity.arn,
        },
      },
    };
    const result = await options.handler(event, lambdaContext("api", requestId));
    options.onRequest?.(match.route, result.statusCode);
    const responseHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) responseHeaders[name] = String(value);
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
      responseHeaders[name] = values.map(String);
    }
    const payload = result.isBase64Encoded === true ? Buffer.from(result.body, "base64") : Buffer.from(result.body);
    response.writeHead(result.statusCode, responseHeaders);
    response.end(payload);
  }
}

/** The path exactly as the client sent (and signed) it. */
function rawPath(requestUrl: string): string {
  const end = requestUrl.indexOf("?");
  return end === -1 ? requestUrl : requestUrl.slice(0, end);
}

function lastValues(query: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(query)) out[key] = values[values.length - 1] ?? "";
  return out;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": "AccessDeniedException" });
  response.end(JSON.stringify(body));
}
