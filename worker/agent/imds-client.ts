/**
 * IMDSv2 client: a session token from `PUT /latest/api/token`, sent on every read. The
 * token is renewed a minute before it expires and once on a 401 (IMDS restarts forget
 * tokens). A 404 is an answer ("no such item": no spot notice, tag not set), not an error.
 * Each request has a short timeout: IMDS is a link-local service that answers in
 * milliseconds or not at all.
 */
import type { Clock } from "./clock.ts";

export interface ImdsPort {
  /** The text at `/latest/<path>`, or null when IMDS answers 404. */
  get(path: string): Promise<string | null>;
}

export class ImdsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImdsError";
  }
}

export interface ImdsClientOptions {
  readonly endpoint: string;
  readonly clock: Clock;
  readonly tokenTtlSeconds?: number;
  readonly timeoutMs?: number;
}

export class ImdsClient implements ImdsPort {
  readonly #endpoint: string;
  readonly #clock: Clock;
  readonly #ttlSeconds: number;
  readonly #timeoutMs: number;
  #token: { readonly value: string; readonly renewAt: number } | undefined;

  constructor(options: ImdsClientOptions) {
    this.#endpoint = options.endpoint.replace(/\/+$/, "");
    this.#clock = options.clock;
    this.#ttlSeconds = options.tokenTtlSeconds ?? 21_600;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
  }

  async get(path: string): Promise<string | null> {
    const first = await this.#read(path, await this.#currentToken());
    if (first.status !== 401) return this.#answer(path, first);
    this.#token = undefined;
    return this.#answer(path, await this.#read(path, await this.#currentToken()));
  }

  async #answer(path: string, response: Response): Promise<string | null> {
    if (response.status === 404) return null;
    if (!response.ok) throw new ImdsError(`IMDS GET /latest/${path}: HTTP ${response.status}`);
    return response.text();
  }

  async #read(path: string, token: string): Promise<Response> {
    try {
      return await fetch(`${this.#endpoint}/latest/${path}`, {
        headers: { "X-aws-ec2-metadata-token": token },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new ImdsError(`IMDS GET /latest/${path} failed`, { cause: error });
    }
  }

  async #currentToken(): Promise<string> {
    const now = this.#clock.now().getTime();
    if (this.#token && now < this.#token.renewAt) return this.#token.value;
    let response: Response;
    try {
      response = await fetch(`${this.#endpoint}/latest/api/token`, {
        method: "PUT",
        headers: { "X-aws-ec2-metadata-token-ttl-seconds": String(this.#ttlSeconds) },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new ImdsError("IMDS token request failed", { cause: error });
    }
    if (!response.ok) throw new ImdsError(`IMDS token request: HTTP ${response.status}`);
    const value = await response.text();
    this.#token = { value, renewAt: now + Math.max(1, this.#ttlSeconds - 60) * 1000 };
    return value;
  }
}
