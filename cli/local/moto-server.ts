/**
 * A moto server the local stack starts on a free loopback port and stops with itself
 * (`pip install 'moto[server]'` provides `moto_server`). State lives only in its memory:
 * stopping it removes everything the stack created.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createServer } from "node:net";

export class EmulatorStartError extends Error {
  override readonly name = "EmulatorStartError";
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port assigned"));
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

export class MotoServer {
  readonly endpoint: string;
  readonly #process: ChildProcess;

  private constructor(endpoint: string, child: ChildProcess) {
    this.endpoint = endpoint;
    this.#process = child;
  }

  /**
   * `logFile`: where moto's own output goes (its request lines and the tracebacks behind the
   * HTTP 500s it answers when it cannot serve a request); by default it is discarded.
   */
  static async start(
    options: { readonly port?: number; readonly timeoutMs?: number; readonly logFile?: string } = {},
  ): Promise<MotoServer> {
    const port = options.port ?? (await freePort());
    const endpoint = `http://127.0.0.1:${port}`;
    const log = options.logFile === undefined ? "ignore" : openSync(options.logFile, "a");
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", log, log] });
    if (typeof log === "number") closeSync(log);
    const failed = new Promise<never>((_, reject) => {
      child.once("error", (error) =>
        reject(new EmulatorStartError("could not start moto_server (pip install 'moto[server]')", { cause: error })),
      );
      child.once("exit", (code) => reject(new EmulatorStartError(`moto_server exited with code ${code} at start`)));
    });
    const until = Date.now() + (options.timeoutMs ?? 30_000);
    const up = (async () => {
      while (Date.now() < until) {
        try {
          const response = await fetch(`${endpoint}/moto-api/`);
          if (response.status < 500) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new EmulatorStartError(
        `moto_server did not answer at ${endpoint} within ${options.timeoutMs ?? 30_000} ms`,
      );
    })();
    try {
      await Promise.race([up, failed]);
    } catch (error) {
      child.kill("SIGTERM");
      throw error;
    }
    failed.catch(() => {});
    return new MotoServer(endpoint, child);
  }

  async stop(): Promise<void> {
    if (this.#process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#process.once("exit", resolve));
    this.#process.kill("SIGTERM");
    await exited;
  }
}
