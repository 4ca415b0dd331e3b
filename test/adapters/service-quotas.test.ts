import {
  type GetServiceQuotaCommand,
  type GetServiceQuotaCommandOutput,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { beforeEach, describe, expect, it } from "vitest";
import {
  readQuotasFromAws,
  readRegionQuotasFromAws,
  type ServiceQuotasPort,
} from "../../lambdas/adapters/service-quotas.ts";
import { QUOTA_CODES, resolveQuotas, resolveWorkloadQuotas } from "../../lambdas/core/catalog/quotas.ts";
import { MARKETS, QUOTA_GROUPS } from "../../lambdas/core/spec/workload-schema.ts";
import { emulatorClientConfig, resetEmulator, TEST_REGION } from "../support/aws.ts";

const CODE_CELLS = QUOTA_GROUPS.flatMap((group) =>
  MARKETS.flatMap((market) => {
    const code = QUOTA_CODES[group][market];
    return code === undefined ? [] : [{ group, market, code }];
  }),
);

/** A Service Quotas client that answers from a table of code -> value or error name. */
function fakeServiceQuotas(answers: Readonly<Record<string, number | string>>) {
  const asked: string[] = [];
  const client: ServiceQuotasPort = {
    async send(command: GetServiceQuotaCommand): Promise<GetServiceQuotaCommandOutput> {
      const code = command.input.QuotaCode ?? "";
      asked.push(code);
      const answer = answers[code];
      if (typeof answer === "string") {
        const error = new Error(`${answer} for ${code}`);
        error.name = answer;
        throw error;
      }
      return { Quota: { ServiceCode: "ec2", QuotaCode: code, Value: answer, Unit: "None" }, $metadata: {} };
    },
  };
  return { client, asked };
}

describe("readQuotasFromAws against the emulator", () => {
  beforeEach(async () => {
    await resetEmulator();
  });

  it("reads each EC2 quota code, or names each code it could not read, without throwing", async () => {
    const reading = await readQuotasFromAws(TEST_REGION, new ServiceQuotasClient(emulatorClientConfig()));
    for (const { group, market, code } of CODE_CELLS) {
      const value = reading.quotas[group]?.[market];
      if (value === undefined) {
        expect(reading.warnings.some((warning) => warning.includes(code))).toBe(true);
      } else {
        expect(Number.isFinite(value) && value >= 0).toBe(true);
      }
    }
    const { quotas } = resolveQuotas([], reading.quotas);
    for (const { group, market } of CODE_CELLS) expect(quotas[group][market]).toBeGreaterThanOrEqual(0);
  });
});

describe("readQuotasFromAws", () => {
  it("returns every quota AWS answers, keyed by group and market", async () => {
    const { client, asked } = fakeServiceQuotas({
      "L-DB2E81BA": 64,
      "L-3819A6DF": 128,
      "L-417A185B": 96,
      "L-7212CCBC": 0,
      "L-C4BD4855": 384,
    });
    const reading = await readQuotasFromAws("us-east-1", client);
    expect(reading).toEqual({
      quotas: { G: { "on-demand": 64, spot: 128 }, P: { "on-demand": 96, spot: 0 }, P5: { spot: 384 } },
      warnings: [],
    });
    expect(asked.sort()).toEqual(CODE_CELLS.map((cell) => cell.code).sort());
  });

  it("leaves out a code AWS does not know and says which", async () => {
    const { client } = fakeServiceQuotas({
      "L-DB2E81BA": 64,
      "L-3819A6DF": 128,
      "L-417A185B": 96,
      "L-7212CCBC": 0,
      "L-C4BD4855": "NoSuchResourceException",
    });
    const reading = await readQuotasFromAws("us-east-1", client);
    expect(reading.quotas.P5).toBeUndefined();
    expect(reading.warnings).toEqual([
      "Service Quotas L-C4BD4855 (P5 spot) in us-east-1 not read: NoSuchResourceException: NoSuchResourceException for L-C4BD4855",
    ]);
  });

  it("stops after the first call when there are no credentials, with one warning", async () => {
    const { client, asked } = fakeServiceQuotas(
      Object.fromEntries(CODE_CELLS.map(({ code }) => [code, "CredentialsProviderError"])),
    );
    const reading = await readQuotasFromAws("us-east-1", client);
    expect(asked).toHaveLength(1);
    expect(reading.quotas).toEqual({});
    expect(reading.warnings).toHaveLength(1);
    expect(reading.warnings[0]).toMatch(
      /^Service Quotas not read in us-east-1 \(CredentialsProviderError: .*Set AWS credentials/,
    );
  });

  it("rejects an answer without a usable value", async () => {
    const { client } = fakeServiceQuotas({
      "L-DB2E81BA": Number.NaN,
      "L-3819A6DF": 1,
      "L-417A185B": 1,
      "L-7212CCBC": 1,
      "L-C4BD4855": 1,
    });
    const reading = await readQuotasFromAws("us-east-1", client);
    expect(reading.quotas.G).toEqual({ spot: 1 });
    expect(reading.warnings).toEqual([
      "Service Quotas L-DB2E81BA (G on-demand) in us-east-1: expected a vCPU count, got NaN",
    ]);
  });
});

describe("readRegionQuotasFromAws", () => {
  beforeEach(async () => {
    await resetEmulator();
  });

  it("reads each region through a client in that region, against the emulator", async () => {
    const clients: string[] = [];
    const readings = await readRegionQuotasFromAws(["us-east-1", "us-west-2", "us-east-1"], (region) => {
      clients.push(region);
      return new ServiceQuotasClient(emulatorClientConfig(region));
    });
    expect(clients).toEqual(["us-east-1", "us-west-2"]);
    expect([...readings.byRegion.keys()]).toEqual(["us-east-1", "us-west-2"]);
    for (const quotas of readings.byRegion.values()) {
      for (const { group, market, code } of CODE_CELLS) {
        const value = quotas[group]?.[market];
        if (value === undefined) expect(readings.warnings.some((warning) => warning.includes(code))).toBe(true);
        else expect(Number.isFinite(value) && value >= 0).toBe(true);
      }
    }
  });

  it("keeps each region's answers apart, so each region plans on its own quotas", async () => {
    const answers: Record<string, Record<string, number>> = {
      "us-east-1": { "L-DB2E81BA": 64, "L-3819A6DF": 128, "L-417A185B": 96, "L-7212CCBC": 0, "L-C4BD4855": 384 },
      "us-west-2": { "L-DB2E81BA": 8, "L-3819A6DF": 16, "L-417A185B": 0, "L-7212CCBC": 0, "L-C4BD4855": 0 },
    };
    const readings = await readRegionQuotasFromAws(
      ["us-east-1", "us-west-2"],
      (region) => fakeServiceQuotas(answers[region] ?? {}).client,
    );
    const workload = {
      region: "us-east-1",
      regions: ["us-east-1", "us-west-2"],
      // An override with a region holds there only.
      quotas: [{ group: "G" as const, market: "spot" as const, vcpus: 32, region: "us-west-2" }],
    };
    const resolved = resolveWorkloadQuotas(workload, (region) => readings.byRegion.get(region));
    expect(resolved.quotasByRegion["us-east-1"]?.G).toEqual({ "on-demand": 64, spot: 128 });
    expect(resolved.quotasByRegion["us-west-2"]?.G).toEqual({ "on-demand": 8, spot: 32 });
    expect(resolved.quotasByRegion["us-west-2"]?.P["on-demand"]).toBe(0);
    expect(resolved.warnings).toEqual([]);
  });
});
