import { describe, expect, it } from "vitest";
import {
  ASSUMED_QUOTA_VCPUS,
  assumedQuotaWarning,
  QUOTA_CODES,
  resolveQuotas,
} from "../../../lambdas/core/catalog/quotas.ts";
import { QUOTA_GROUPS } from "../../../lambdas/core/spec/workload-schema.ts";

const allFromAws = {
  G: { "on-demand": 64, spot: 128 },
  P: { "on-demand": 96, spot: 192 },
  P5: { spot: 384 },
};

describe("resolveQuotas", () => {
  it("takes every quota from AWS when AWS answered for all codes, without warnings", () => {
    const { quotas, warnings, sources } = resolveQuotas([], allFromAws);
    expect(quotas).toEqual({
      G: { "on-demand": 64, spot: 128 },
      P: { "on-demand": 96, spot: 192 },
      P5: { "on-demand": 0, spot: 384 },
    });
    expect(warnings).toEqual([]);
    expect(sources.G).toEqual({ "on-demand": "aws", spot: "aws" });
    expect(sources.P5).toEqual({ "on-demand": "not-applicable", spot: "aws" });
  });

  it("lets a spec override win over the AWS value", () => {
    const { quotas, sources } = resolveQuotas([{ group: "P", market: "spot", vcpus: 0 }], allFromAws);
    expect(quotas.P.spot).toBe(0);
    expect(sources.P.spot).toBe("spec");
    expect(quotas.P["on-demand"]).toBe(96);
  });

  it("uses the last override when the spec names the same quota twice", () => {
    const { quotas } = resolveQuotas(
      [
        { group: "G", market: "spot", vcpus: 8 },
        { group: "G", market: "spot", vcpus: 16 },
      ],
      allFromAws,
    );
    expect(quotas.G.spot).toBe(16);
  });

  it("assumes the default for each quota neither source gives, with one warning each", () => {
    const { quotas, warnings, sources } = resolveQuotas([{ group: "G", market: "on-demand", vcpus: 32 }], {
      P: { "on-demand": 96 },
    });
    expect(quotas).toEqual({
      G: { "on-demand": 32, spot: ASSUMED_QUOTA_VCPUS },
      P: { "on-demand": 96, spot: ASSUMED_QUOTA_VCPUS },
      P5: { "on-demand": 0, spot: ASSUMED_QUOTA_VCPUS },
    });
    expect(sources.G.spot).toBe("assumed");
    expect(warnings).toEqual([
      assumedQuotaWarning("G", "spot"),
      assumedQuotaWarning("P", "spot"),
      assumedQuotaWarning("P5", "spot"),
    ]);
  });

  it("assumes all five quotas when AWS could not be read and the spec sets none", () => {
    const { warnings } = resolveQuotas([], undefined);
    expect(warnings).toHaveLength(5);
  });

  it("rounds a fractional AWS value down", () => {
    expect(resolveQuotas([], { G: { spot: 63.9 } }).quotas.G.spot).toBe(63);
  });

  it("ignores a negative or non-finite AWS value and assumes the default instead", () => {
    const { quotas, sources } = resolveQuotas([], { G: { spot: -1, "on-demand": Number.NaN } });
    expect(quotas.G).toEqual({ spot: ASSUMED_QUOTA_VCPUS, "on-demand": ASSUMED_QUOTA_VCPUS });
    expect(sources.G).toEqual({ spot: "assumed", "on-demand": "assumed" });
  });

  it("never reads an on-demand P5 quota, which AWS counts in the on-demand P quota", () => {
    const { quotas, sources } = resolveQuotas([], { P5: { "on-demand": 999 } as never });
    expect(quotas.P5["on-demand"]).toBe(0);
    expect(sources.P5["on-demand"]).toBe("not-applicable");
  });
});

describe("assumedQuotaWarning", () => {
  it("names the quota, its code, the assumed value and the spec line that replaces it", () => {
    expect(assumedQuotaWarning("G", "spot")).toBe(
      `quota assumed: G spot = ${ASSUMED_QUOTA_VCPUS} vCPUs (not read from AWS Service Quotas L-3819A6DF and not set ` +
        "in the spec); your account may allow less. Run with AWS credentials or add to the spec: " +
        "quotas: [{ group: G, market: spot, vcpus: N }]",
    );
  });
});

describe("QUOTA_CODES", () => {
  it("has a distinct Service Quotas code for every group and market AWS counts separately", () => {
    const codes = QUOTA_GROUPS.flatMap((group) => Object.values(QUOTA_CODES[group]));
    expect(codes).toHaveLength(5);
    expect(new Set(codes).size).toBe(5);
    for (const code of codes) expect(code).toMatch(/^L-[0-9A-F]{8}$/);
  });
});
