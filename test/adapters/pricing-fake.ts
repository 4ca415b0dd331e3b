/**
 * A hand-written Price List client for tests. moto 5.2 does not serve the Price List API
 * (`GetProducts` answers with an HTML page), so the adapter's pricing path is tested against
 * this fake, which answers in the documented `aws_v1` product format (AWS Billing user
 * guide, "Reading the service price list file for an AWS service": products carry
 * `terms.OnDemand.<offer>.priceDimensions.<rate>.{unit, pricePerUnit.USD}`).
 */
import type { GetProductsCommand, GetProductsCommandOutput } from "@aws-sdk/client-pricing";
import type { PricingPort } from "../../lambdas/adapters/aws-catalog-source.ts";

/** One product document with one on-demand rate per given price (USD per hour, as AWS writes it: a string). */
export function productDocument(instanceType: string, region: string, usdPerHour: readonly string[]): string {
  const sku = `SKU${instanceType.replace(/\W/g, "").toUpperCase()}`;
  const dimensions = Object.fromEntries(
    usdPerHour.map((usd, index) => [
      `${sku}.JRTCKXETXF.6YS6EN2CT${index}`,
      {
        unit: "Hrs",
        endRange: "Inf",
        description: `$${usd} per On Demand Linux ${instanceType} Instance Hour`,
        appliesTo: [],
        rateCode: `${sku}.JRTCKXETXF.6YS6EN2CT${index}`,
        beginRange: "0",
        pricePerUnit: { USD: usd },
      },
    ]),
  );
  return JSON.stringify({
    product: {
      productFamily: "Compute Instance",
      attributes: { instanceType, regionCode: region, operatingSystem: "Linux", tenancy: "Shared" },
      sku,
    },
    serviceCode: "AmazonEC2",
    terms: {
      OnDemand: {
        [`${sku}.JRTCKXETXF`]: {
          priceDimensions: dimensions,
          sku,
          effectiveDate: "2026-11-01T00:00:00Z",
          offerTermCode: "JRTCKXETXF",
          termAttributes: {},
        },
      },
    },
    version: "20261101000000",
    publicationDate: "2026-11-01T00:00:00Z",
  });
}

export interface FakePricing extends PricingPort {
  /** Every request, in order. */
  readonly requests: GetProductsCommand["input"][];
}

/**
 * Answers GetProducts from `pages`: for each instance type, a list of pages of product
 * documents (several pages exercise NextToken). Unknown types get an empty PriceList.
 */
export function fakePricing(pages: Readonly<Record<string, readonly (readonly string[])[]>>): FakePricing {
  const requests: GetProductsCommand["input"][] = [];
  return {
    requests,
    async send(command: GetProductsCommand): Promise<GetProductsCommandOutput> {
      requests.push(command.input);
      const type = command.input.Filters?.find((filter) => filter.Field === "instanceType")?.Value ?? "";
      const region = command.input.Filters?.find((filter) => filter.Field === "regionCode")?.Value;
      // Documents of another region than the one asked about are not answered (AWS filters them out).
      const typePages = (pages[type] ?? [[]]).map((page) =>
        page.filter(
          (document) => region === undefined || JSON.parse(document).product.attributes.regionCode === region,
        ),
      );
      const index = command.input.NextToken === undefined ? 0 : Number(command.input.NextToken);
      const next = index + 1 < typePages.length ? String(index + 1) : undefined;
      return { PriceList: [...(typePages[index] ?? [])], NextToken: next, FormatVersion: "aws_v1", $metadata: {} };
    },
  };
}

/** A client whose every call fails with an error of the given name, as the SDK would throw it. */
export function failingClient(name: string, message: string): PricingPort {
  return {
    async send(): Promise<GetProductsCommandOutput> {
      const error = new Error(message);
      error.name = name;
      throw error;
    },
  };
}
