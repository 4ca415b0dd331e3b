import { DescribeAvailabilityZonesCommand, type DescribeSpotPriceHistoryCommand, EC2Client } from "@aws-sdk/client-ec2";
import { beforeEach, describe, expect, it } from "vitest";
import {
  AwsAccessDeniedError,
  AwsCatalogSource,
  AwsCredentialsError,
  AwsRequestError,
  type Ec2Port,
  networkGbpsOf,
  onDemandHourlyPrices,
} from "../../lambdas/adapters/aws-catalog-source.ts";
import { emulatorClientConfig, resetEmulator, TEST_REGION } from "../support/aws.ts";
import { failingClient, fakePricing, productDocument } from "./pricing-fake.ts";

const NOW = new Date("2026-11-27T12:00:00Z");

function emulatorSource(pricing = fakePricing({})) {
  const progress: string[] = [];
  const source = new AwsCatalogSource({
    region: TEST_REGION,
    ec2: new EC2Client(emulatorClientConfig()),
    pricing,
    onProgress: (line) => progress.push(line),
  });
  return { source, progress, pricing };
}

describe("AwsCatalogSource against the EC2 emulator", () => {
  beforeEach(async () => {
    await resetEmulator();
  });

  it("reads a current spot price per availability-zone ID for each requested type", async () => {
    const { source } = emulatorSource();
    const spot = await source.spotPrices(["g5.xlarge", "p4d.24xlarge"], NOW);
    expect(Object.keys(spot).sort()).toEqual(["g5.xlarge", "p4d.24xlarge"]);
    // moto names the zone of each quote; its ID comes from DescribeAvailabilityZones.
    const zones = (await new EC2Client(emulatorClientConfig()).send(new DescribeAvailabilityZonesCommand({})))
      .AvailabilityZones;
    const ids = new Set(zones?.map((zone) => zone.ZoneId));
    expect(ids.size).toBeGreaterThan(0);
    for (const byAz of Object.values(spot)) {
      expect(Object.keys(byAz).length).toBeGreaterThan(0);
      for (const [zone, price] of Object.entries(byAz)) {
        expect(ids.has(zone)).toBe(true);
        expect(zone.startsWith(TEST_REGION)).toBe(false);
        expect(Number.isFinite(price) && price > 0).toBe(true);
      }
    }
  });

  it("describes GPU instance types with AWS's vCPUs, memory, GPUs, network and EFA", async () => {
    const { source } = emulatorSource();
    const facts = await source.instanceFacts(["g5.xlarge", "p5.48xlarge"]);
    expect(facts["g5.xlarge"]).toMatchObject({ vcpus: 4, ramGiB: 16, gpuName: "A10G", gpus: 1, efa: false });
    expect(facts["p5.48xlarge"]).toMatchObject({ vcpus: 192, ramGiB: 2048, gpuName: "H100", gpus: 8, efa: true });
    expect(facts["p5.48xlarge"]?.networkGbps).toBe(3200);
  });

  it("leaves out names EC2 does not know instead of failing the whole call", async () => {
    const { source } = emulatorSource();
    const facts = await source.instanceFacts(["g5.xlarge", "zz9.xlarge"]);
    expect(Object.keys(facts)).toEqual(["g5.xlarge"]);
  });

  it("returns everything a refresh needs, dated, with a progress line per step", async () => {
    const pricing = fakePricing({ "g5.xlarge": [[productDocument("g5.xlarge", TEST_REGION, ["1.0060000000"])]] });
    const { source, progress } = emulatorSource(pricing);
    const data = await source.fetchRefreshData(["g5.xlarge"], NOW, "2026-11-27");
    expect(data.region).toBe(TEST_REGION);
    expect(data.asOf).toBe("2026-11-27");
    expect(data.onDemandUsdPerHour).toEqual({ "g5.xlarge": 1.006 });
    expect(Object.keys(data.spotUsdPerHourByAz)).toEqual(["g5.xlarge"]);
    expect(data.facts["g5.xlarge"]?.vcpus).toBe(4);
    expect(progress).toEqual([
      "on-demand 1/1 g5.xlarge: $1.006/h",
      expect.stringMatching(/^spot: \d+ \(type, zone\) prices for 1\/1 types in 1 page\(s\)$/),
      "instance facts: 1/1 types described",
    ]);
  });
});

describe("AwsCatalogSource.spotPrices", () => {
  it("keeps the latest Linux price per zone across pages and ignores other products", async () => {
    const pages = [
      {
        SpotPriceHistory: [
          {
            InstanceType: "g5.xlarge",
            AvailabilityZone: "us-east-1a",
            ProductDescription: "Linux/UNIX",
            SpotPrice: "0.40",
            Timestamp: new Date("2026-11-27T11:00:00Z"),
          },
          {
            InstanceType: "g5.xlarge",
            AvailabilityZone: "us-east-1a",
            ProductDescription: "Windows",
            SpotPrice: "0.90",
            Timestamp: new Date("2026-11-27T11:59:00Z"),
          },
        ],
        NextToken: "page-2",
      },
      {
        SpotPriceHistory: [
          {
            InstanceType: "g5.xlarge",
            AvailabilityZone: "us-east-1a",
            ProductDescription: "Linux/UNIX",
            SpotPrice: "0.42",
            Timestamp: new Date("2026-11-27T11:30:00Z"),
          },
          {
            InstanceType: "g5.xlarge",
            AvailabilityZone: "us-east-1b",
            ProductDescription: "Linux/UNIX (Amazon VPC)",
            SpotPrice: "0.39",
            Timestamp: new Date("2026-11-27T10:00:00Z"),
          },
        ],
        NextToken: "",
      },
    ];
    const inputs: DescribeSpotPriceHistoryCommand["input"][] = [];
    let zoneReads = 0;
    const ec2 = {
      async send(command: object) {
        if (command instanceof DescribeAvailabilityZonesCommand) {
          zoneReads += 1;
          return {
            $metadata: {},
            AvailabilityZones: [
              { ZoneName: "us-east-1a", ZoneId: "use1-az6" },
              { ZoneName: "us-east-1b", ZoneId: "use1-az1" },
            ],
          };
        }
        inputs.push((command as DescribeSpotPriceHistoryCommand).input);
        return { ...pages[inputs.length - 1], $metadata: {} };
      },
    } as unknown as Ec2Port;
    const source = new AwsCatalogSource({ region: "us-east-1", ec2, pricing: fakePricing({}) });
    // Keyed by zone ID, as the catalog keys byAz (names map to IDs differently per account).
    expect(await source.spotPrices(["g5.xlarge"], NOW)).toEqual({
      "g5.xlarge": { "use1-az6": 0.42, "use1-az1": 0.39 },
    });
    expect(zoneReads).toBe(1);
    expect(inputs.map((input) => input.NextToken)).toEqual([undefined, "page-2"]);
    expect(inputs[0]).toMatchObject({
      InstanceTypes: ["g5.xlarge"],
      ProductDescriptions: ["Linux/UNIX"],
      StartTime: NOW,
      EndTime: NOW,
    });
  });
});

describe("AwsCatalogSource.onDemandPrices (Price List fake: moto does not serve the Price List API)", () => {
  it("asks for Linux, shared-tenancy, no-software prices of each type in the region", async () => {
    const pricing = fakePricing({});
    const source = new AwsCatalogSource({ region: "eu-west-1", ec2: {} as Ec2Port, pricing });
    await source.onDemandPrices(["p5.48xlarge"]);
    expect(pricing.requests).toEqual([
      {
        ServiceCode: "AmazonEC2",
        Filters: [
          { Type: "TERM_MATCH", Field: "instanceType", Value: "p5.48xlarge" },
          { Type: "TERM_MATCH", Field: "regionCode", Value: "eu-west-1" },
          { Type: "TERM_MATCH", Field: "operatingSystem", Value: "Linux" },
          { Type: "TERM_MATCH", Field: "tenancy", Value: "Shared" },
          { Type: "TERM_MATCH", Field: "preInstalledSw", Value: "NA" },
          { Type: "TERM_MATCH", Field: "capacitystatus", Value: "Used" },
          { Type: "TERM_MATCH", Field: "licenseModel", Value: "No License required" },
        ],
        FormatVersion: "aws_v1",
        MaxResults: 100,
        NextToken: undefined,
      },
    ]);
  });

  it("follows NextToken and keeps the highest of several matching prices", async () => {
    const pricing = fakePricing({
      "p4d.24xlarge": [
        [productDocument("p4d.24xlarge", "us-east-1", ["21.9576000000"])],
        [productDocument("p4d.24xlarge", "us-east-1", ["22.1000000000"])],
      ],
    });
    const source = new AwsCatalogSource({ region: "us-east-1", ec2: {} as Ec2Port, pricing });
    expect(await source.onDemandPrices(["p4d.24xlarge"])).toEqual({ "p4d.24xlarge": 22.1 });
    expect(pricing.requests.map((request) => request.NextToken)).toEqual([undefined, "1"]);
  });

  it("leaves out a type the Price List does not price in the region", async () => {
    const source = new AwsCatalogSource({ region: "us-east-1", ec2: {} as Ec2Port, pricing: fakePricing({}) });
    expect(await source.onDemandPrices(["p5e.48xlarge"])).toEqual({});
  });

  it("turns missing credentials into AwsCredentialsError with a way to fix it", async () => {
    const pricing = failingClient("CredentialsProviderError", "Could not load credentials from any providers");
    const source = new AwsCatalogSource({ region: "us-east-1", ec2: {} as Ec2Port, pricing });
    const failure = source.onDemandPrices(["g5.xlarge"]);
    await expect(failure).rejects.toBeInstanceOf(AwsCredentialsError);
    await expect(failure).rejects.toThrow(/expected valid AWS credentials, got CredentialsProviderError.*AWS_PROFILE/);
  });

  it("turns a refusal into AwsAccessDeniedError that names the permissions needed", async () => {
    const pricing = failingClient("AccessDeniedException", "User is not authorized to perform: pricing:GetProducts");
    const source = new AwsCatalogSource({ region: "us-east-1", ec2: {} as Ec2Port, pricing });
    const failure = source.onDemandPrices(["g5.xlarge"]);
    await expect(failure).rejects.toBeInstanceOf(AwsAccessDeniedError);
    await expect(failure).rejects.toThrow(
      /AWS refused the request .*pricing:GetProducts, ec2:DescribeSpotPriceHistory/,
    );
  });

  it("names the call in any other failure and keeps the SDK error as its cause", async () => {
    const pricing = failingClient("ThrottlingException", "Rate exceeded");
    const source = new AwsCatalogSource({ region: "us-east-1", ec2: {} as Ec2Port, pricing });
    const failure = source.onDemandPrices(["g5.xlarge"]);
    await expect(failure).rejects.toBeInstanceOf(AwsRequestError);
    await expect(failure).rejects.toThrow(
      "Price List GetProducts for g5.xlarge failed: ThrottlingException: Rate exceeded",
    );
    await expect(failure).rejects.toMatchObject({ cause: { name: "ThrottlingException" } });
  });
});

describe("onDemandHourlyPrices", () => {
  it("reads every positive hourly USD rate of a product document", () => {
    expect(onDemandHourlyPrices(productDocument("g5.xlarge", "us-east-1", ["1.0060000000", "0.0000000000"]))).toEqual([
      1.006,
    ]);
  });

  it("returns nothing for a document without on-demand terms", () => {
    expect(onDemandHourlyPrices(JSON.stringify({ product: {}, terms: { Reserved: {} } }))).toEqual([]);
  });
});

describe("networkGbpsOf", () => {
  it.each([
    ["3200 Gigabit", 3200],
    ["4x 100 Gigabit", 400],
    ["Up to 25 Gigabit", 25],
    ["100 Gigabit", 100],
  ])("reads '%s' as %d Gbit/s", (performance, expected) => {
    expect(networkGbpsOf({ NetworkInfo: { NetworkPerformance: performance } })).toBe(expected);
  });

  it("falls back to the sum of the network cards' peak bandwidth", () => {
    expect(
      networkGbpsOf({
        NetworkInfo: {
          NetworkPerformance: "High",
          NetworkCards: [{ PeakBandwidthInGbps: 50 }, { PeakBandwidthInGbps: 50 }],
        },
      }),
    ).toBe(100);
  });

  it("returns null when AWS gives no number at all", () => {
    expect(networkGbpsOf({ NetworkInfo: { NetworkPerformance: "Moderate" } })).toBeNull();
  });
});

describe("AwsCatalogSource.spotPrices with zone IDs in the quotes", () => {
  it("keys by the quote's own AvailabilityZoneId and reads no zone list", async () => {
    const calls: string[] = [];
    const ec2 = {
      async send(command: object) {
        calls.push(command.constructor.name);
        return {
          $metadata: {},
          SpotPriceHistory: [
            {
              InstanceType: "g5.xlarge",
              AvailabilityZone: "us-east-1d",
              AvailabilityZoneId: "use1-az4",
              ProductDescription: "Linux/UNIX",
              SpotPrice: "0.41",
              Timestamp: new Date("2026-11-27T11:00:00Z"),
            },
          ],
        };
      },
    } as unknown as Ec2Port;
    const source = new AwsCatalogSource({ region: "us-east-1", ec2, pricing: fakePricing({}) });
    expect(await source.spotPrices(["g5.xlarge"], NOW)).toEqual({ "g5.xlarge": { "use1-az4": 0.41 } });
    expect(calls).toEqual(["DescribeSpotPriceHistoryCommand"]);
  });
});
