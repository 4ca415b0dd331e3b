/**
 * Starts the moto AWS emulator once for the whole run, unless AWS_ENDPOINT_URL already
 * points at one (LocalStack or a moto server started by hand). Tests read the endpoint
 * with `inject("awsEndpoint")` and reset state through `test/support/aws.ts`.
 *
 * When a test file of the run uses `test/support/deployed-stack.ts`, the Saturn stack is
 * also deployed, once, into a second moto server that no test resets (or into the
 * external endpoint), and its outputs are provided as `inject("deployedStack")`.
 */
import { readFile } from "node:fs/promises";
import type { TestProject } from "vitest/node";
import { type DeployedStack, deployToEmulator } from "../../cdk/emulator-deployment.ts";
import { disableEventSourceMappings } from "../../cli/local/event-source-mappings.ts";
import { MotoServer } from "../../cli/local/moto-server.ts";

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

const servers: MotoServer[] = [];

async function startMoto(): Promise<string> {
  const server = await MotoServer.start();
  servers.push(server);
  return server.endpoint;
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
    await Promise.all(servers.map((server) => server.stop()));
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
    const deployed = stackEndpoint === undefined ? null : await deployStack(stackEndpoint);
    // The suite plays the SQS mappings in-process; moto's own would swallow the messages.
    if (deployed !== null) await disableEventSourceMappings({ endpoint: deployed.endpoint, region: deployed.region });
    project.provide("deployedStack", deployed);
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
