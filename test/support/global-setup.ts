/**
 * Starts the moto AWS emulator once for the whole run, unless AWS_ENDPOINT_URL already
 * points at one (LocalStack or a moto server started by hand). Tests read the endpoint
 * with `inject("awsEndpoint")` and reset state through `test/support/aws.ts`.
 *
 * When a test file of the run uses `test/support/deployed-stack.ts`, the Saturn stack is
 * also deployed, once, into a second moto server that no test resets (or into the
 * external endpoint), and its outputs are provided as `inject("deployedStack")`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { TestProject } from "vitest/node";
import { type DeployedStack, deployToEmulator } from "../../cdk/emulator-deployment.ts";

declare module "vitest" {
  export interface ProvidedContext {
    awsEndpoint: string;
    awsEmulator: "moto" | "external";
    /** Null when no test file of this run needs the deployed stack. */
    deployedStack: DeployedStack | null;
  }
}

/** Region of every emulator call in the suite (test/support/aws.ts: TEST_REGION). */
const REGION = "us-east-1";
/** A test file that contains this string gets the deployed stack. */
const DEPLOYED_STACK_MARKER = "support/deployed-stack";

const servers: ChildProcess[] = [];

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

async function startMoto(): Promise<string> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  servers.push(moto);
  const failed = new Promise<never>((_, reject) => {
    moto.once("error", (error) =>
      reject(new Error("could not start moto_server (pip install 'moto[server]')", { cause: error })),
    );
  });
  await Promise.race([waitUntilUp(endpoint, 30_000), failed]);
  return endpoint;
}

/** Whether any test file selected for this run imports the deployed-stack support. */
async function runNeedsDeployedStack(project: TestProject): Promise<boolean> {
  // The CLI's file filters (`vitest run test/x.test.ts`); not part of vitest's typed API.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters);
  for (const file of testFiles) {
    if ((await readFile(file, "utf8")).includes(DEPLOYED_STACK_MARKER)) return true;
  }
  return false;
}

async function deployStack(endpoint: string): Promise<DeployedStack> {
  const started = performance.now();
  const deployed = await deployToEmulator({ target: { endpoint, region: REGION } });
  const { synth, bootstrap, deploy } = deployed.seconds;
  const total = (performance.now() - started) / 1000;
  console.log(
    `[global-setup] Saturn stack deployed into ${endpoint} in ${total.toFixed(1)} s: synth ${synth.toFixed(1)} s${deployed.synthReused ? " (assembly reused)" : ""}, bootstrap ${bootstrap.toFixed(1)} s, deploy ${deploy.toFixed(1)} s`,
  );
  return deployed;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const teardown = async () => {
    for (const server of servers) server.kill("SIGTERM");
  };
  const external = process.env.AWS_ENDPOINT_URL;
  const needsStack = await runNeedsDeployedStack(project);
  try {
    if (external) {
      project.provide("awsEndpoint", external);
      project.provide("awsEmulator", "external");
      project.provide("deployedStack", needsStack ? await deployStack(external) : null);
      return teardown;
    }
    const [endpoint, stackEndpoint] = await Promise.all([startMoto(), needsStack ? startMoto() : undefined]);
    project.provide("awsEndpoint", endpoint);
    project.provide("awsEmulator", "moto");
    project.provide("deployedStack", stackEndpoint === undefined ? null : await deployStack(stackEndpoint));
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
