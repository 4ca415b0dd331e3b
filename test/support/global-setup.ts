/**
 * Starts the moto AWS emulator once for the whole run, unless AWS_ENDPOINT_URL already
 * points at one (LocalStack or a moto server started by hand). Tests read the endpoint
 * with `inject("awsEndpoint")` and reset state through `test/support/aws.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    awsEndpoint: string;
    awsEmulator: "moto" | "external";
  }
}

let moto: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.status < 500) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within ${timeoutMs} ms`, { cause: lastError });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    project.provide("awsEndpoint", external);
    project.provide("awsEmulator", "external");
    return async () => {};
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const failed = new Promise<never>((_, reject) => {
    moto?.once("error", (error) =>
      reject(new Error("could not start moto_server (pip install 'moto[server]')", { cause: error })),
    );
  });
  await Promise.race([waitUntilUp(endpoint, 30_000), failed]);
  project.provide("awsEndpoint", endpoint);
  project.provide("awsEmulator", "moto");
  return async () => {
    moto?.kill("SIGTERM");
  };
}
