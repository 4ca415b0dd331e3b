/**
 * What can go wrong talking to the Saturn API, as classes the CLI maps to exit codes
 * (docs/cli.md): the server refused the request (with its status and reasons), the
 * endpoint could not be reached, or no endpoint is configured.
 */

export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  readonly status: number;
  /** The server's own reasons, one per problem (field paths included where it gave them). */
  readonly reasons: readonly string[];
  readonly method: string;
  readonly path: string;

  constructor(
    request: { readonly method: string; readonly path: string },
    status: number,
    message: string,
    reasons: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `${request.method} ${request.path} answered HTTP ${status}: ${message}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.status = status;
    this.reasons = reasons;
    this.method = request.method;
    this.path = request.path;
  }
}

export class ApiUnreachableError extends Error {
  override readonly name = "ApiUnreachableError";
  constructor(url: string, options: { cause: unknown }) {
    const detail = options.cause instanceof Error ? (options.cause.cause ?? options.cause) : options.cause;
    super(
      `could not reach the Saturn API at ${url} (${detail instanceof Error ? detail.message : String(detail)}); check --api, SATURN_API_URL or that \`saturn local\` is running`,
      { cause: options.cause },
    );
  }
}

export class ApiEndpointError extends Error {
  override readonly name = "ApiEndpointError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The server's error body as reasons: `{message, errors|issues|reasons: [...]}`, or plain text. */
export function reasonsFromBody(body: string): { readonly message: string; readonly reasons: readonly string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return { message: text === "" ? "(empty body)" : text.slice(0, 2000), reasons: [] };
  }
  if (parsed === null || typeof parsed !== "object") return { message: String(parsed), reasons: [] };
  const object = parsed as Record<string, unknown>;
  const message =
    typeof object.message === "string"
      ? object.message
      : typeof object.error === "string"
        ? object.error
        : typeof object.Message === "string"
          ? object.Message
          : JSON.stringify(parsed).slice(0, 2000);
  const list = [object.errors, object.issues, object.reasons, object.problems].find(Array.isArray) as
    | unknown[]
    | undefined;
  const reasons = (list ?? []).map(describeReason);
  return { message, reasons };
}

function describeReason(reason: unknown): string {
  if (typeof reason === "string") return reason;
  if (reason !== null && typeof reason === "object") {
    const r = reason as Record<string, unknown>;
    const path = Array.isArray(r.path) ? r.path.join(".") : typeof r.path === "string" ? r.path : undefined;
    const message = typeof r.message === "string" ? r.message : JSON.stringify(reason);
    return path === undefined || path === "" ? message : `${path}: ${message}`;
  }
  return String(reason);
}
