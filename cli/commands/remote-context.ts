/**
 * What the commands that talk to a deployed stack share: the `--api/--stack/--region`
 * options, building the signed client, and the outside world they wait on and ask (a
 * clock to poll with, the terminal to prompt on), which tests replace.
 */
import { createInterface } from "node:readline/promises";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { Command } from "commander";
import { DEFAULT_STACK_NAME } from "../../lambdas/config/stack-contract.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import { resolveApiEndpoint } from "../api/api-endpoint.ts";
import { describeLeftoverInstances, type LeftoverLookup } from "../api/leftover-instances.ts";
import { SaturnApiClient } from "../api/saturn-api-client.ts";
import { WorkloadApi } from "../api/workload-api.ts";

export interface ApiOptions {
  readonly api?: string;
  readonly stack?: string;
  readonly region?: string;
}

export interface RemoteEnvironment {
  /** Waits between polls; tests pass one that advances the local stack instead of sleeping. */
  readonly sleep: (milliseconds: number) => Promise<void>;
  readonly now: () => Date;
  /** Asks a yes/no question on the terminal; undefined when stdin is not a terminal. */
  readonly ask: ((question: string) => Promise<string>) | undefined;
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly env: NodeJS.ProcessEnv;
  /** Instances of a workload EC2 still has up, by tag (after `--watch` ends). */
  readonly leftovers: LeftoverLookup;
}

export function defaultRemoteEnvironment(): RemoteEnvironment {
  return {
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => new Date(),
    ask: process.stdin.isTTY
      ? async (question) => {
          const prompt = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return await prompt.question(question);
          } finally {
            prompt.close();
          }
        }
      : undefined,
    stdout: process.stdout,
    env: process.env,
    leftovers: describeLeftoverInstances,
  };
}

export function withApiOptions(command: Command): Command {
  return command
    .option("--api <url>", "the API's base URL (default: SATURN_API_URL, else the stack's ApiUrl output)")
    .option("--stack <name>", "stack whose outputs name the API", DEFAULT_STACK_NAME)
    .option("--region <region>", "region to sign for and to read the stack from (default: AWS_REGION)");
}

export async function workloadApiFor(options: ApiOptions, environment: RemoteEnvironment): Promise<WorkloadApi> {
  const endpoint = await resolveApiEndpoint(options, environment.env);
  return new WorkloadApi(
    new SaturnApiClient({
      endpoint,
      ...(environment.credentials === undefined ? {} : { credentials: environment.credentials }),
    }),
  );
}

/** Seconds between polls of `--watch` and of waiting for a plan. */
export function pollSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidWorkloadError([{ path: "--poll", message: `expected a number of seconds > 0, got '${value}'` }], {
      subject: "command line",
    });
  }
  return seconds;
}
