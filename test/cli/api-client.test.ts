import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveApiEndpoint } from "../../cli/api/api-endpoint.ts";
import { ApiRequestError, ApiUnreachableError } from "../../cli/api/api-request-error.ts";
import { SaturnApiClient } from "../../cli/api/saturn-api-client.ts";
import { ApiRouter } from "../../cli/local/api-router.ts";
import { EmulatorIdentities } from "../../cli/local/emulator-identities.ts";
import { awsEndpoint, emulatorClientConfig, resetEmulator, TEST_REGION } from "../support/aws.ts";

// The handler here only echoes what the router gives it: these tests are about signing,
// the router's API Gateway behaviour and the client's error handling. The real api handler
// is driven through the router in test/cli/remote-commands.test.ts.
const seen: APIGatewayProxyEvent[] = [];
let router: ApiRouter;
let url: string;
let alice: { accessKeyId: string; secretAccessKey: string; arn: string };

beforeAll(async () => {
  await resetEmulator();
  const identities = new EmulatorIdentities({ endpoint: awsEndpoint(), region: TEST_REGION });
  alice = await identities.createUser(`alice-${process.pid}`);
  router = new ApiRouter({
    region: TEST_REGION,
    secretOf: identities.secretOf,
    identityOf: identities.identityOf,
    handler: async (event) => {
      seen.push(event);
      if (event.body?.includes("bad")) {
        return {
          statusCode: 400,
          body: JSON.stringify({
            message: "invalid workload",
            errors: [{ path: "objective.budgetUsd", message: "expected a number > 0, got -5" }],
          }),
        };
      }
      return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ ok: true }) };
    },
  });
  url = await router.listen();
});

afterAll(async () => {
  await router.close();
});

beforeEach(() => {
  seen.length = 0;
});

function client(credentials: { accessKeyId: string; secretAccessKey: string } = alice): SaturnApiClient {
  return new SaturnApiClient({
    endpoint: { url: new URL(url), region: TEST_REGION, source: "--api" },
    credentials,
  });
}

describe("SaturnApiClient through the local router", () => {
  it("signs requests that the router accepts, and the handler sees the caller's IAM principal", async () => {
    const answer = await client().request({ method: "GET", path: "workloads/w-1/plan?version=2" });

    expect(answer).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    const event = seen[0] as APIGatewayProxyEvent;
    expect(event.resource).toBe("/workloads/{id}/plan");
    expect(event.pathParameters).toEqual({ id: "w-1" });
    expect(event.queryStringParameters).toEqual({ version: "2" });
    expect(event.requestContext.identity.userArn).toBe(alice.arn);
    expect(alice.arn).toMatch(/^arn:aws:iam::\d{12}:user\/alice-/);
  });

  it("signs a body and an Idempotency-Key header", async () => {
    await client().request({
      method: "POST",
      path: "workloads",
      body: { spec: "name: x" },
      headers: { "idempotency-key": "k-1" },
    });

    expect(seen[0]?.body).toBe(JSON.stringify({ spec: "name: x" }));
    expect(seen[0]?.headers["idempotency-key"]).toBe("k-1");
  });

  it("gets 403 for a request signed with the wrong secret, and the handler never runs", async () => {
    const wrong = { ...alice, secretAccessKey: `${alice.secretAccessKey}x` };

    const error = await client(wrong)
      .request({ method: "GET", path: "workloads" })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiRequestError);
    expect((error as ApiRequestError).status).toBe(403);
    expect((error as ApiRequestError).message).toContain("signature we calculated does not match");
    expect(seen).toHaveLength(0);
  });

  it("gets 403 for an access key the stack does not know", async () => {
    const stranger = { accessKeyId: "AKIASTRANGER0000000", secretAccessKey: "nope" };

    const error = await client(stranger)
      .request({ method: "GET", path: "workloads" })
      .catch((e: unknown) => e);

    expect((error as ApiRequestError).status).toBe(403);
    expect((error as ApiRequestError).message).toContain("security token included in the request is invalid");
  });

  it("gets 403 for an unsigned request and for a signed request whose body changed on the way", async () => {
    const unsigned = await fetch(new URL("workloads", url));
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: "Missing Authentication Token" });

    const tampering: typeof fetch = (input, init) => fetch(input, { ...init, body: '{"spec":"name: y"}' });
    const tampered = new SaturnApiClient({
      endpoint: { url: new URL(url), region: TEST_REGION, source: "--api" },
      credentials: alice,
      fetch: tampering,
    });
    const error = await tampered
      .request({ method: "POST", path: "workloads", body: { spec: "name: x" } })
      .catch((e: unknown) => e);
    expect((error as ApiRequestError).status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  it("gets 403 Missing Authentication Token for a route the API does not have", async () => {
    const error = await client()
      .request({ method: "POST", path: "catalog" })
      .catch((e: unknown) => e);

    expect((error as ApiRequestError).status).toBe(403);
    expect((error as ApiRequestError).message).toContain("Missing Authentication Token");
  });

  it("turns an HTTP 400 into an error carrying the server's reasons", async () => {
    const error = await client()
      .request({ method: "POST", path: "workloads", body: { spec: "bad" } })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiRequestError);
    expect((error as ApiRequestError).status).toBe(400);
    expect((error as ApiRequestError).reasons).toEqual(["objective.budgetUsd: expected a number > 0, got -5"]);
  });

  it("says which URL it could not reach", async () => {
    const closed = new ApiRouter({
      region: TEST_REGION,
      secretOf: async () => undefined,
      identityOf: async () => ({ arn: "", accountId: "", userId: "" }),
      handler: async () => ({ statusCode: 200, body: "" }),
    });
    const gone = await closed.listen();
    await closed.close();
    const unreachable = new SaturnApiClient({
      endpoint: { url: new URL(gone), region: TEST_REGION, source: "--api" },
      credentials: alice,
    });

    const error = await unreachable.request({ method: "GET", path: "workloads" }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as Error).message).toContain(gone);
  });
});

describe("resolveApiEndpoint", () => {
  it("takes --api over SATURN_API_URL, and the region from an execute-api host", async () => {
    const endpoint = await resolveApiEndpoint(
      { api: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod" },
      { SATURN_API_URL: "http://127.0.0.1:1/" },
    );

    expect(endpoint.url.href).toBe("https://abc123.execute-api.eu-west-1.amazonaws.com/prod/");
    expect(endpoint.region).toBe("eu-west-1");
    expect(endpoint.source).toBe("--api");
  });

  it("reads the URL from the stack's ApiUrl output when neither flag nor variable is set", async () => {
    const cloudFormation = new CloudFormationClient(emulatorClientConfig());
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: "SaturnEndpointTest",
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: "AWS::SNS::Topic" } },
          Outputs: { ApiUrl: { Value: "https://xyz.execute-api.us-east-1.amazonaws.com/prod/" } },
        }),
      }),
    );
    const env = {
      AWS_ENDPOINT_URL: awsEndpoint(),
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: TEST_REGION,
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const endpoint = await resolveApiEndpoint({ stack: "SaturnEndpointTest" }, env);
      expect(endpoint.url.href).toBe("https://xyz.execute-api.us-east-1.amazonaws.com/prod/");
      expect(endpoint.source).toBe("stack output");

      await expect(resolveApiEndpoint({ stack: "NoSuchStack" }, env)).rejects.toThrow(/--api URL/);
    } finally {
      process.env = saved;
      cloudFormation.destroy();
    }
  });

  it("rejects a URL that is not http(s), naming where it came from", async () => {
    await expect(resolveApiEndpoint({}, { SATURN_API_URL: "ftp://x" })).rejects.toThrow(
      /SATURN_API_URL: expected an http/,
    );
  });
});
