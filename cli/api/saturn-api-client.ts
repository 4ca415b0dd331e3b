/**
 * The Saturn API over HTTPS, every request SigV4-signed for `execute-api` as API Gateway's
 * IAM authorisation expects. Credentials come from the standard chain (environment,
 * shared config and SSO, container and instance roles) unless options pass a provider.
 * A non-2xx answer throws ApiRequestError with the server's reasons; a network failure
 * throws ApiUnreachableError. Responses are JSON.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { ApiEndpoint } from "./api-endpoint.ts";
import { ApiRequestError, ApiUnreachableError, reasonsFromBody } from "./api-request-error.ts";

export const EXECUTE_API_SERVICE = "execute-api";

export interface SaturnApiClientOptions {
  readonly endpoint: ApiEndpoint;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly fetch?: typeof fetch;
}

export interface ApiRequest {
  readonly method: "GET" | "POST";
  /** Relative to the API's base URL, without a leading slash: `workloads/abc/approve`. */
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export class SaturnApiClient {
  readonly endpoint: ApiEndpoint;
  readonly #signer: SignatureV4;
  readonly #fetch: typeof fetch;

  constructor(options: SaturnApiClientOptions) {
    this.endpoint = options.endpoint;
    this.#signer = new SignatureV4({
      service: EXECUTE_API_SERVICE,
      region: options.endpoint.region,
      credentials: options.credentials ?? fromNodeProviderChain(),
      sha256: Sha256,
    });
    this.#fetch = options.fetch ?? fetch;
  }

  /** Sends one signed request and returns the parsed JSON answer (undefined for an empty body). */
  async request<T = unknown>(request: ApiRequest): Promise<T> {
    const url = new URL(request.path, this.endpoint.url);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { host: url.host, accept: "application/json", ...request.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const signed = await this.#signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === "" ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers,
        ...(body === undefined ? {} : { body }),
      }),
    );
    // fetch sets Host itself, to the same url.host that was signed.
    const { host: _host, ...sendHeaders } = signed.headers;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: request.method,
        headers: sendHeaders,
        ...(body === undefined ? {} : { body }),
      });
    } catch (error) {
      throw new ApiUnreachableError(this.endpoint.url.href, { cause: error });
    }
    const text = await response.text();
    const where = { method: request.method, path: url.pathname };
    if (!response.ok) {
      const { message, reasons } = reasonsFromBody(text);
      throw new ApiRequestError(where, response.status, message, reasons);
    }
    if (text.trim() === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ApiRequestError(where, response.status, `expected a JSON body, got '${text.slice(0, 200)}'`, [], {
        cause: error,
      });
    }
  }
}
