/**
 * Where the Saturn API is and which region signs for it. The URL comes from, in order:
 * `--api`, `SATURN_API_URL`, or the deployed stack's CloudFormation output `ApiUrl`
 * (stack `--stack`, default `Saturn`). The signing region comes from `--region`, else the
 * API Gateway host name (`<id>.execute-api.<region>.amazonaws.com`), else AWS_REGION /
 * AWS_DEFAULT_REGION, else us-east-1 (what `saturn local` signs for).
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DEFAULT_STACK_NAME, OUTPUTS } from "../../lambdas/config/stack-contract.ts";
import { ApiEndpointError } from "./api-request-error.ts";

export interface EndpointOptions {
  readonly api?: string | undefined;
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
}

export interface ApiEndpoint {
  /** Base URL, always ending in `/` (it may carry a stage path, e.g. `/prod/`). */
  readonly url: URL;
  readonly region: string;
  /** Where the URL came from, for messages. */
  readonly source: "--api" | "SATURN_API_URL" | "stack output";
}

const EXECUTE_API_HOST = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

export function parseApiUrl(text: string, origin: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new ApiEndpointError(`${origin}: expected an http(s) URL such as http://127.0.0.1:4000/, got '${text}'`, {
      cause: error,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ApiEndpointError(`${origin}: expected an http or https URL, got '${text}'`);
  }
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  url.search = "";
  url.hash = "";
  return url;
}

export function signingRegion(url: URL, explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicit !== undefined && explicit !== "") return explicit;
  const fromHost = EXECUTE_API_HOST.exec(url.hostname)?.[1];
  if (fromHost !== undefined) return fromHost;
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
}

export type StackOutputReader = (stackName: string, region: string) => Promise<Readonly<Record<string, string>>>;

/** Reads a stack's outputs with the standard credential chain (the SDK's retries apply). */
export const readStackOutputs: StackOutputReader = async (stackName, region) => {
  const client = new CloudFormationClient({ region });
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = answer.Stacks?.[0];
    const outputs: Record<string, string> = {};
    for (const output of stack?.Outputs ?? []) {
      if (output.OutputKey !== undefined && output.OutputValue !== undefined) {
        outputs[output.OutputKey] = output.OutputValue;
      }
    }
    return outputs;
  } finally {
    client.destroy();
  }
};

export async function resolveApiEndpoint(
  options: EndpointOptions,
  env: NodeJS.ProcessEnv = process.env,
  readOutputs: StackOutputReader = readStackOutputs,
): Promise<ApiEndpoint> {
  if (options.api !== undefined && options.api !== "") {
    const url = parseApiUrl(options.api, "--api");
    return { url, region: signingRegion(url, options.region, env), source: "--api" };
  }
  const fromEnv = env.SATURN_API_URL;
  if (fromEnv !== undefined && fromEnv !== "") {
    const url = parseApiUrl(fromEnv, "SATURN_API_URL");
    return { url, region: signingRegion(url, options.region, env), source: "SATURN_API_URL" };
  }
  const stackName = options.stack ?? DEFAULT_STACK_NAME;
  const region = options.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  let outputs: Readonly<Record<string, string>>;
  try {
    outputs = await readOutputs(stackName, region);
  } catch (error) {
    throw new ApiEndpointError(
      `no API URL: neither --api nor SATURN_API_URL is set, and the outputs of stack '${stackName}' in ${region} could not be read (${error instanceof Error ? error.message : String(error)}); pass --api URL, or deploy the stack (README, "Deploy to your AWS account")`,
      { cause: error },
    );
  }
  const apiUrl = outputs[OUTPUTS.apiUrl];
  if (apiUrl === undefined) {
    throw new ApiEndpointError(
      `stack '${stackName}' in ${region} has no output '${OUTPUTS.apiUrl}'; expected the Saturn stack (pass --stack NAME or --api URL)`,
    );
  }
  const url = parseApiUrl(apiUrl, `stack output ${OUTPUTS.apiUrl}`);
  return { url, region: signingRegion(url, options.region, env), source: "stack output" };
}
