/**
 * `saturn catalog`: the GPU instance types of a region with prices per hour and per GPU-hour.
 * `saturn catalog refresh`: rebuilds prices, spot prices and instance facts from AWS.
 * docs/catalog.md explains the columns, the sources and the refresh rules.
 */
import Table from "cli-table3";
import type { Command } from "commander";
import { AwsCatalogSource, type AwsCatalogSourceOptions } from "../../lambdas/adapters/aws-catalog-source.ts";
import { BUNDLED_CATALOG_PATH, loadCatalog, saveCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { applyRefresh, type RefreshOutcome } from "../../lambdas/core/catalog/apply-refresh.ts";
import { type CatalogRow, catalogRows } from "../../lambdas/core/catalog/catalog-table.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";

const DEFAULT_REGION = "us-east-1";
const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

interface CatalogOptions {
  region: string;
  family?: string[];
  json?: boolean;
  catalog?: string;
}

interface RefreshOptions {
  region: string;
  regions?: string[];
  out?: string;
  catalog?: string;
}

export function registerCatalogCommands(program: Command): void {
  const catalog = program
    .command("catalog")
    .description("list GPU instance types with GPUs, memory, prices and $/GPU-hour (see docs/catalog.md)")
    .option("--region <region>", "AWS region whose prices to show", DEFAULT_REGION)
    .option("--family <families...>", "only these instance families (e.g. g6e p5); repeat or comma-separate")
    .option("--json", "print the rows as JSON")
    .option("--catalog <file>", "catalog file to read", BUNDLED_CATALOG_PATH)
    .action((options: CatalogOptions) => {
      const region = checkedRegion(options.region);
      const families = (options.family ?? []).flatMap((entry) => entry.split(",")).filter((entry) => entry !== "");
      const loaded = loadCatalog(options.catalog);
      const known = new Set(loaded.instanceTypes.map((type) => type.family));
      const unknown = families.filter((family) => !known.has(family));
      if (unknown.length > 0) {
        throw new InvalidWorkloadError(
          unknown.map((family) => ({
            path: "--family",
            message: `expected one of the catalog's families (${[...known].join(", ")}), got '${family}'`,
          })),
          { subject: "command line" },
        );
      }
      const rows = catalogRows(loaded, { region, families });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(renderCatalogTable(rows, region));
    });

  catalog
    .command("refresh")
    .description("rebuild prices, spot prices and instance facts from AWS (needs AWS credentials)")
    .option("--region <region>", "AWS region to price", DEFAULT_REGION)
    .option("--regions <regions...>", "several AWS regions to price (repeat or comma-separate); overrides --region")
    .option("--out <file>", "where to write the refreshed catalog (default: the catalog read)")
    .option("--catalog <file>", "catalog file to start from", BUNDLED_CATALOG_PATH)
    .action(async (_options: RefreshOptions, command: Command) => {
      // Both `catalog` and `refresh` define these options; whichever commander filled wins.
      const options = command.optsWithGlobals<RefreshOptions>();
      const listed = (options.regions ?? []).flatMap((entry) => entry.split(",")).filter((entry) => entry !== "");
      const regions = [...new Set(listed.length > 0 ? listed : [options.region])].map((region) =>
        checkedRegion(region, listed.length > 0 ? "--regions" : "--region"),
      );
      const catalogPath = options.catalog ?? BUNDLED_CATALOG_PATH;
      const outcomes = await refreshCatalogFile({
        regions,
        catalogPath,
        outPath: options.out ?? catalogPath,
        now: new Date(),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      for (const [index, outcome] of outcomes.entries()) {
        process.stderr.write(
          `refreshed ${options.out ?? catalogPath}: ${outcome.repriced.length} types repriced in ${regions[index]}, ` +
            `${outcome.keptPrices.length} kept as they were, ${outcome.refreshedFacts.length} with facts from EC2\n`,
        );
      }
    });
}

export interface RefreshCatalogFileInput {
  /** Regions to price, in order; instance facts come from the first. */
  readonly regions: readonly string[];
  readonly catalogPath: string;
  readonly outPath: string;
  /** Refresh time: spot prices in effect then; its UTC date becomes each refreshed price's `asOf`. */
  readonly now: Date;
  readonly log: (line: string) => void;
  /** Clients to use instead of the SDK defaults (tests: emulator or fakes). */
  readonly clients?: Pick<AwsCatalogSourceOptions, "ec2" | "pricing">;
}

/**
 * Reads the catalog, fetches every region from AWS, merges region by region, and writes
 * once, atomically: nothing is written when any region's calls fail. One outcome per region.
 */
export async function refreshCatalogFile(input: RefreshCatalogFileInput): Promise<RefreshOutcome[]> {
  let catalog = loadCatalog(input.catalogPath);
  const names = catalog.instanceTypes.map((type) => type.name);
  const fetched = [];
  for (const region of input.regions) {
    const source = new AwsCatalogSource({ region, onProgress: input.log, ...input.clients });
    input.log(`reading ${names.length} instance types for ${region} from AWS`);
    fetched.push(await source.fetchRefreshData(names, input.now, input.now.toISOString().slice(0, 10)));
  }
  const outcomes: RefreshOutcome[] = [];
  for (const [index, data] of fetched.entries()) {
    const outcome = applyRefresh(catalog, data);
    for (const warning of outcome.warnings) input.log(`warning: ${warning}`);
    if (outcome.keptPrices.length > 0) {
      input.log(`no price from AWS in ${input.regions[index]}, kept as they were: ${outcome.keptPrices.join(", ")}`);
    }
    catalog = outcome.catalog;
    outcomes.push(outcome);
  }
  saveCatalog(catalog, input.outPath);
  return outcomes;
}

/** The table `saturn catalog` prints, with a footnote on stale prices and the spot price used. */
export function renderCatalogTable(rows: readonly CatalogRow[], region: string): string {
  const table = new Table({
    head: [
      "type",
      "GPUs",
      "GPU mem",
      "vCPU",
      "RAM",
      "interconnect",
      "network",
      "on-demand $/h",
      "spot $/h (AZ min-max)",
      "$/GPU-h od",
      "$/GPU-h spot",
      "quota group",
    ],
    colAligns: ["left", "left", "right", "right", "right", "left", "right", "right", "right", "right", "right", "left"],
    style: { head: [], border: [] },
    // One rule under the header only: 40 rows stay readable in a terminal.
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of rows) {
    const mark = row.stale ? "*" : "";
    table.push([
      row.instanceType,
      `${row.gpus} x ${row.gpuModel}`,
      `${row.gpuMemoryGiB} GiB`,
      String(row.vcpus),
      `${row.ramGiB} GiB`,
      row.interconnect,
      `${row.networkGbps} Gbps${row.efa ? " EFA" : ""}`,
      usd(row.onDemandUsdPerHour, mark),
      row.spotMinUsdPerHour === null || row.spotMaxUsdPerHour === null
        ? "-"
        : `${row.spotMinUsdPerHour.toFixed(3)}-${row.spotMaxUsdPerHour.toFixed(3)}${mark}`,
      usd(row.onDemandUsdPerGpuHour, mark),
      usd(row.spotUsdPerGpuHour, mark),
      row.quotaGroups["on-demand"] === row.quotaGroups.spot
        ? row.quotaGroups.spot
        : `${row.quotaGroups["on-demand"]} (spot: ${row.quotaGroups.spot})`,
    ]);
  }
  const lines = [
    table.toString(),
    `${rows.length} instance type${rows.length === 1 ? "" : "s"} in ${region}. ` +
      "$/GPU-h spot uses the highest spot price over the region's zones: the price the planner budgets with.",
  ];
  if (rows.some((row) => row.stale)) {
    lines.push(
      "* stale: recorded before a known price change (P family: before the June 2025 AWS price cut). " +
        `Run \`saturn catalog refresh --region ${region}\` with AWS credentials.`,
    );
  }
  const dates = [...new Set(rows.map((row) => row.priceAsOf))];
  if (dates.length > 0) lines.push(`prices as of: ${dates.join("; ")}`);
  return `${lines.join("\n")}\n`;
}

function usd(value: number | null, mark: string): string {
  return value === null ? "-" : `${value.toFixed(3)}${mark}`;
}

function checkedRegion(region: string, path = "--region"): string {
  if (!REGION_PATTERN.test(region)) {
    throw new InvalidWorkloadError([{ path, message: `expected an AWS region such as 'us-east-1', got '${region}'` }], {
      subject: "command line",
    });
  }
  return region;
}
