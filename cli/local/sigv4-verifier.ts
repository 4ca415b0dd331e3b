/**
 * Checks a request's SigV4 signature the way API Gateway's `AWS_IAM` authorisation does,
 * for the local stack's router: parse the Authorization header, find the secret of its
 * access key, recompute the signature over the same signed headers with
 * `@smithy/signature-v4`, and compare. Any mismatch (unknown key, other region or service,
 * a date more than 15 minutes off, a changed header, path, query or body) is a refusal
 * with the message API Gateway would give.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

export interface IncomingSignedRequest {
  readonly method: string;
  /** The raw path as sent (still percent-encoded), without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface VerifierOptions {
  readonly region: string;
  readonly service: string;
  /** The secret of an access key id, or undefined when the key is unknown. */
  readonly secretOf: (accessKeyId: string) => Promise<string | undefined>;
  readonly now: () => Date;
}

export type Verdict =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly message: string };

/** AWS accepts a request signed at most 15 minutes before or after its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

export async function verifySignature(request: IncomingSignedRequest, options: VerifierOptions): Promise<Verdict> {
  const header = request.headers.authorization;
  if (header === undefined || header === "") return { ok: false, message: "Missing Authentication Token" };
  const match = AUTHORIZATION.exec(header);
  if (match === null) {
    return {
      ok: false,
      message: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256); got '${header.slice(0, 80)}'`,
    };
  }
  const [, accessKeyId = "", scopeDate, region, service, signedHeaderList = "", signature = ""] = match;
  if (region !== options.region || service !== options.service) {
    return {
      ok: false,
      message: `Credential should be scoped to a valid region and service: expected ${options.region}/${options.service}, got ${region}/${service}`,
    };
  }
  const amzDate = request.headers["x-amz-date"];
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (signedAt === undefined) return { ok: false, message: "Missing or malformed X-Amz-Date header" };
  if (amzDate?.slice(0, 8) !== scopeDate) {
    return { ok: false, message: `Credential date ${scopeDate} does not match X-Amz-Date ${amzDate}` };
  }
  const skew = Math.abs(options.now().getTime() - signedAt.getTime());
  if (skew > MAX_SKEW_MS) return { ok: false, message: "Signature expired: X-Amz-Date is more than 15 minutes off" };
  const signedHeaders = signedHeaderList.split(";");
  if (!signedHeaders.includes("host")) return { ok: false, message: "SignedHeaders must include host" };
  const secret = await options.secretOf(accessKeyId);
  if (secret === undefined) return { ok: false, message: "The security token included in the request is invalid." };

  // The signer may send the payload's hash as a header; the signature then covers the
  // header, so the body itself must match it (as AWS checks).
  const claimedHash = request.headers["x-amz-content-sha256"];
  if (claimedHash !== undefined && claimedHash !== createHash("sha256").update(request.body).digest("hex")) {
    return { ok: false, message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return { ok: false, message: `Signed header '${name}' is missing from the request` };
    headers[name] = value;
  }
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: { accessKeyId, secretAccessKey: secret },
    sha256: Sha256,
  });
  const host = headers.host ?? "";
  const resigned = await signer.sign(
    new HttpRequest({
      method: request.method,
      hostname: host.replace(/:\d+$/, ""),
      path: request.path,
      query: request.query as Record<string, string | string[]>,
      headers,
      body: request.body,
    }),
    { signingDate: signedAt, signableHeaders: new Set(signedHeaders) },
  );
  const expected = AUTHORIZATION.exec(resigned.headers.authorization ?? "");
  if (expected?.[5] !== signedHeaderList || !sameHex(expected[6] ?? "", signature)) {
    return {
      ok: false,
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    };
  }
  return { ok: true, accessKeyId };
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** `20261201T223000Z` -> Date; undefined for anything else. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}
