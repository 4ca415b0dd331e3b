import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { refreshCatalogFile, renderCatalogTable } from "../../cli/commands/catalog.ts";
import { main } from "../../cli/main.ts";
import { AwsAccessDeniedError } from "../../lambdas/adapters/aws-catalog-source.ts";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { REFRESH_PRICE_SOURCE } from "../../lambdas/core/catalog/apply-refresh.ts";
import { catalogRows } from "../../lambdas/core/catalog/catalog-table.ts";
import { failingClient, fakePricing, productDocument } from "../adapters/pricing-fake.ts";
import { awsEndpoint, emulatorClientConfig, resetEmulator, TEST_REGION } from "../support/aws.ts";
import { useCliSession } from "../support/cli-session.ts";

const cli = useCliSession("saturn-catalog-");

describe("saturn catalog", () => {
  it("prints the rows of the chosen families as JSON", async () => {
    const code = await main(["catalog", "--family", "p5,g6e", "--json"]);
    expect(code).toBe(0);
    const rows = JSON.parse(cli.stdout.join("")) as { instanceType: string; family: string }[];
    expect(new Set(rows.map((row) => row.family))).toEqual(new Set(["g6e", "p5"]));
    expect(rows).toEqual(catalogRows(loadCatalog(), { region: "us-east-1", families: ["p5", "g6e"] }));
  });

  it("prints a table with per-GPU-hour prices at the 2026 list price", async () => {
    const code = await main(["catalog", "--family", "p4d"]);
    expect(code).toBe(0);
    const text = cli.stdout.join("");
    expect(text).toMatch(
      /p4d\.24xlarge │ 8 x A100-40GB │ +40 GiB │ +96 │ 1152 GiB │ nvswitch +│ +400 Gbps EFA │ +21\.958 │/,
    );
    expect(text).toContain("$/GPU-h spot");
    expect(text).not.toContain("* stale");
  });

  it("prints another region's prices with --region", async () => {
    const code = await main(["catalog", "--family", "p5", "--region", "us-east-2", "--json"]);
    expect(code).toBe(0);
    const rows = JSON.parse(cli.stdout.join("")) as { instanceType: string; spotMaxUsdPerHour: number | null }[];
    expect(rows).toEqual(catalogRows(loadCatalog(), { region: "us-east-2", families: ["p5"] }));
    const east1 = catalogRows(loadCatalog(), { region: "us-east-1", families: ["p5"] });
    const spot = (list: typeof rows) => list.find((row) => row.instanceType === "p5.48xlarge")?.spotMaxUsdPerHour;
    // SkyPilot snapshot: p5.48xlarge spot 12.12-16.10 in us-east-2 against 23.16-30.68 in us-east-1.
    expect(spot(rows)).toBeLessThan((spot(east1) ?? 0) * 0.6);
  });

  it("rejects an unknown family with exit code 2 and the families it knows", async () => {
    expect(await main(["catalog", "--family", "p9"])).toBe(2);
    expect(cli.stderr.join("")).toContain("--family: expected one of the catalog's families (g4dn, g5,");
  });

  it("rejects a malformed region with exit code 2", async () => {
    expect(await main(["catalog", "--region", "virginia"])).toBe(2);
    expect(cli.stderr.join("")).toContain("--region: expected an AWS region such as 'us-east-1', got 'virginia'");
  });
});

describe("renderCatalogTable", () => {
  it("shows a dash for a market without a price and no stale note when nothing is stale", () => {
    const rows = catalogRows(loadCatalog(), { region: "us-east-1", families: ["g6"] });
    const text = renderCatalogTable(
      rows.filter((row) => row.instanceType === "g6.4xlarge"),
      "us-east-1",
    );
    expect(text).toMatch(/g6\.4xlarge .*│ +1\.323 │ +- │ +1\.323 │ +- │ G/);
    expect(text).not.toContain("stale");
  });
});

describe("saturn catalog refresh", () => {
  beforeEach(async () => {
    await resetEmulator();
  });

  it("rewrites prices from AWS, dated today and fresh, and keeps types AWS did not return", async () => {
    const out = join(cli.directory, "catalog.json");
    const lines: string[] = [];
    const pricing = fakePricing({ "p5.48xlarge": [[productDocument("p5.48xlarge", TEST_REGION, ["55.0400000000"])]] });
    const [outcome] = await refreshCatalogFile({
      regions: [TEST_REGION],
      catalogPath: BUNDLED_CATALOG_PATH,
      outPath: out,
      now: new Date("2026-11-27T12:00:00Z"),
      log: (line) => lines.push(line),
      clients: { ec2: new EC2Client(emulatorClientConfig()), pricing },
    });
    if (outcome === undefined) throw new Error("expected one outcome per region");

    const written = loadCatalog(out);
    const p5 = written.instanceTypes.find((type) => type.name === "p5.48xlarge")?.prices[TEST_REGION];
    expect(p5).toMatchObject({
      onDemandUsdPerHour: 55.04,
      asOf: "2026-11-27",
      source: REFRESH_PRICE_SOURCE,
      stale: false,
    });
    expect(Object.keys(p5?.spot?.byAz ?? {}).length).toBeGreaterThan(0);
    expect(outcome.repriced).toContain("p5.48xlarge");
    expect([...outcome.repriced, ...outcome.keptPrices].sort()).toEqual(
      written.instanceTypes.map((type) => type.name).sort(),
    );
    const before = loadCatalog();
    for (const name of outcome.keptPrices) {
      const old = before.instanceTypes.find((type) => type.name === name)?.prices;
      expect(written.instanceTypes.find((type) => type.name === name)?.prices).toEqual(old);
    }
    expect(outcome.refreshedFacts.length).toBeGreaterThan(30);
    const count = before.instanceTypes.length;
    const last = before.instanceTypes.at(-1)?.name;
    expect(lines[0]).toBe(`reading ${count} instance types for ${TEST_REGION} from AWS`);
    expect(lines).toContain(`on-demand ${count}/${count} ${last}: no Linux on-demand price in us-east-1`);
  });

  it("prices several regions in one run and writes them together", async () => {
    const out = join(cli.directory, "catalog.json");
    const lines: string[] = [];
    const pricing = fakePricing({
      "p5.48xlarge": [
        [
          productDocument("p5.48xlarge", "us-east-2", ["55.0400000000"]),
          productDocument("p5.48xlarge", "us-west-2", ["55.0400000000"]),
        ],
      ],
    });
    const outcomes = await refreshCatalogFile({
      regions: ["us-east-2", "us-west-2"],
      catalogPath: BUNDLED_CATALOG_PATH,
      outPath: out,
      now: new Date("2026-11-28T12:00:00Z"),
      log: (line) => lines.push(line),
      clients: { ec2: new EC2Client(emulatorClientConfig()), pricing },
    });

    expect(outcomes).toHaveLength(2);
    expect(lines.filter((line) => line.startsWith("reading "))).toEqual([
      expect.stringContaining("for us-east-2 from AWS"),
      expect.stringContaining("for us-west-2 from AWS"),
    ]);
    const prices = loadCatalog(out).instanceTypes.find((type) => type.name === "p5.48xlarge")?.prices ?? {};
    for (const region of ["us-east-2", "us-west-2"]) {
      expect(prices[region]).toMatchObject({ asOf: "2026-11-28", source: REFRESH_PRICE_SOURCE, stale: false });
    }
    // The region not asked about keeps its bundled price.
    expect(prices["us-east-1"]).toEqual(
      loadCatalog().instanceTypes.find((type) => type.name === "p5.48xlarge")?.prices["us-east-1"],
    );
  });

  it("rejects a malformed entry of --regions with exit code 2, naming the option", async () => {
    expect(await main(["catalog", "refresh", "--regions", "us-east-1,ohio"])).toBe(2);
    expect(cli.stderr.join("")).toContain("--regions: expected an AWS region such as 'us-east-1', got 'ohio'");
  });

  it("keeps the old price of a type for which neither price call returned anything", async () => {
    const out = join(cli.directory, "catalog.json");
    const empty = {
      async send() {
        return { SpotPriceHistory: [], InstanceTypes: [], $metadata: {} };
      },
    };
    const outcomes = await refreshCatalogFile({
      regions: [TEST_REGION],
      catalogPath: BUNDLED_CATALOG_PATH,
      outPath: out,
      now: new Date("2026-11-27T12:00:00Z"),
      log: () => {},
      clients: { ec2: empty as never, pricing: fakePricing({}) },
    });
    expect(outcomes.map((outcome) => outcome.repriced)).toEqual([[]]);
    expect(loadCatalog(out).instanceTypes).toEqual(loadCatalog().instanceTypes);
  });

  it("writes nothing when AWS refuses", async () => {
    const out = join(cli.directory, "catalog.json");
    const refresh = refreshCatalogFile({
      regions: [TEST_REGION],
      catalogPath: BUNDLED_CATALOG_PATH,
      outPath: out,
      now: new Date("2026-11-27T12:00:00Z"),
      log: () => {},
      clients: { ec2: new EC2Client(emulatorClientConfig()), pricing: failingClient("AccessDeniedException", "no") },
    });
    await expect(refresh).rejects.toBeInstanceOf(AwsAccessDeniedError);
    expect(existsSync(out)).toBe(false);
  });

  describe("without AWS credentials", () => {
    const names = [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
      "AWS_ROLE_ARN",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
      "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_CONFIG_FILE",
      "AWS_EC2_METADATA_DISABLED",
      "AWS_ENDPOINT_URL",
    ];
    let saved: Record<string, string | undefined>;

    beforeEach(() => {
      saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
      for (const name of names) delete process.env[name];
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(cli.directory, "no-credentials");
      process.env.AWS_CONFIG_FILE = join(cli.directory, "no-config");
      process.env.AWS_EC2_METADATA_DISABLED = "true";
      // Should anything still find credentials, the calls go to the emulator, never to AWS.
      process.env.AWS_ENDPOINT_URL = awsEndpoint();
    });

    afterEach(() => {
      for (const name of names) {
        const value = saved[name];
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it("exits with code 4, says how to fix it, and writes nothing", async () => {
      const out = join(cli.directory, "catalog.json");
      const code = await main(["catalog", "refresh", "--region", "eu-west-1", "--out", out]);
      expect(code).toBe(4);
      const errors = cli.stderr.join("");
      expect(errors).toContain(`reading ${loadCatalog().instanceTypes.length} instance types for eu-west-1 from AWS`);
      expect(errors).toContain("expected valid AWS credentials, got CredentialsProviderError");
      expect(errors).toContain("AWS_PROFILE");
      expect(existsSync(out)).toBe(false);
      expect(readFileSync(BUNDLED_CATALOG_PATH, "utf8")).toContain('"schemaVersion": 1');
    });
  });
});
