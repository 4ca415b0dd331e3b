/**
 * A fake EC2 instance metadata service on 127.0.0.1 with IMDSv2 semantics: `PUT
 * /latest/api/token` (TTL header required) issues a token; every GET without a live token
 * answers 401; unknown paths 404. Tests set items (instance id, tags) and announce a spot
 * interruption or a rebalance recommendation mid-run. `forgetTokens()` plays an IMDS
 * restart, so clients must fetch a new token.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";

export interface FakeImds {
  readonly endpoint: string;
  readonly stats: { tokensIssued: number; unauthorizedGets: number; gets: number };
  set(path: string, value: string | undefined): void;
  announceSpotInterruption(time: Date): void;
  announceRebalance(time: Date): void;
  forgetTokens(): void;
  close(): Promise<void>;
}

export async function startFakeImds(items: Readonly<Record<string, string>>): Promise<FakeImds> {
  const values = new Map(Object.entries(items));
  const tokens = new Set<string>();
  const stats = { tokensIssued: 0, unauthorizedGets: 0, gets: 0 };
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").replace(/^\/latest\//, "");
    if (request.method === "PUT" && path === "api/token") {
      const ttl = Number(request.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) {
        response.writeHead(400).end();
        return;
      }
      const token = randomUUID();
      tokens.add(token);
      stats.tokensIssued += 1;
      response.writeHead(200, { "content-type": "text/plain" }).end(token);
      return;
    }
    if (request.method !== "GET") {
      response.writeHead(405).end();
      return;
    }
    stats.gets += 1;
    const token = request.headers["x-aws-ec2-metadata-token"];
    if (typeof token !== "string" || !tokens.has(token)) {
      stats.unauthorizedGets += 1;
      response.writeHead(401).end();
      return;
    }
    const value = values.get(path);
    if (value === undefined) response.writeHead(404).end();
    else response.writeHead(200, { "content-type": "text/plain" }).end(value);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake IMDS has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stats,
    set: (path, value) => (value === undefined ? values.delete(path) : values.set(path, value)),
    announceSpotInterruption: (time) =>
      values.set("meta-data/spot/instance-action", JSON.stringify({ action: "terminate", time: time.toISOString() })),
    announceRebalance: (time) =>
      values.set("meta-data/events/recommendations/rebalance", JSON.stringify({ noticeTime: time.toISOString() })),
    forgetTokens: () => tokens.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
