/**
 * Brings the bundled catalog to 2026: post-June-2025 on-demand prices, per-AZ spot prices,
 * three US regions, and the families launched since (P5 single-GPU, P5e, P6-B200/B300, G7,
 * G7e). Reads the catalog it updates and `../shared/reference/aws-prices-2026.csv` (one row
 * per type x region x zone, each with its source and date; described in
 * `aws-prices-2026.md`), writes the catalog back. Idempotent: run it again on its own output
 * and nothing changes.
 *   npx tsx scripts/import-2026-prices.ts [prices.csv] [catalog.json]
 *
 * Rules (docs/catalog.md, "The 2026 prices"):
 *  - on-demand: the region-level row from the Vantage mirror [V] (2026-08-26); types it does
 *    not price keep what they had (us-east-1) or get no on-demand price (other regions);
 *  - spot: the per-AZ rows of the SkyPilot snapshot (~Apr-May 2025; an empty cell is no
 *    price for that zone). Sources that give only a region *minimum* (dstack's offer lists)
 *    are not used: the planner budgets with the most expensive zone, which a minimum
 *    cannot bound. A type without per-AZ rows in a region has no spot market there until
 *    `saturn catalog refresh` reads one;
 *  - `stale` is cleared wherever the on-demand price is post-cut (or unaffected by the cut:
 *    G family, P3); a P-family region entry that still holds a pre-cut price stays stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseCatalog } from "../lambdas/core/catalog/catalog-schema.ts";
import type { Catalog, GpuModel, InstanceType, RegionPrice } from "../lambdas/core/catalog/types.ts";

const [csvPath = "../shared/reference/aws-prices-2026.csv", catalogPath = "data/catalog.json"] = process.argv.slice(2);
const REGIONS = ["us-east-1", "us-east-2", "us-west-2"] as const;
const VANTAGE =
  "tsaol/aws-gpu data/all_gpu_instances.js @18aebd1d (mirror of instances.vantage.sh, 'Last updated: 2026-08-26')";
const SKYPILOT = "skypilot-org/skypilot-catalog catalogs/v7/aws/vms.csv @27f67dd4 (per-AZ spot, ~Apr-May 2025)";
const CUT =
  "AWS News Blog 2025-06-05, 'Announcing up to 45% price reduction for Amazon EC2 NVIDIA GPU-accelerated instances' (P4d/P4de -33%, P5 -44%, P5en -25%)";

interface Row {
  readonly type: string;
  readonly region: string;
  readonly az: string;
  readonly onDemand: number | undefined;
  readonly spot: number | undefined;
  readonly source: string;
}

function parseCsv(text: string): Row[] {
  const lines = text.trim().split("\n").slice(1);
  return lines.map((line) => {
    const cells: string[] = [];
    let cell = "";
    let quoted = false;
    for (const char of line) {
      if (char === '"') quoted = !quoted;
      else if (char === "," && !quoted) {
        cells.push(cell);
        cell = "";
      } else cell += char;
    }
    cells.push(cell);
    const number = (value: string | undefined) => {
      const parsed = Number(value);
      return value !== undefined && value !== "" && Number.isFinite(parsed) ? parsed : undefined;
    };
    return {
      type: cells[0] ?? "",
      region: cells[1] ?? "",
      az: cells[2] ?? "",
      onDemand: number(cells[3]),
      spot: number(cells[4]),
      source: cells[5] ?? "",
    };
  });
}

/** GPU models of the new families. Every figure names its source; UNCONFIRMED ones say so. */
const NEW_GPUS: Record<string, GpuModel> = {
  B200: {
    name: "B200",
    peakTflops: 2250,
    supportsBf16: true,
    memoryGiB: 180,
    memoryBandwidthGBps: 7700,
    source:
      "datacrunch-research/blogs b300_comparison_b200.md @2289f4b8 (dense BF16 2.25 PFLOPS, 180 GB HBM3E, 7.7 TB/s, citing NVIDIA's Blackwell brief and DGX B200 datasheet); 'GPU & Network Constants' (2026-01-25) agrees",
  },
  B300: {
    name: "B300",
    peakTflops: 2250,
    supportsBf16: true,
    memoryGiB: 262,
    memoryBandwidthGBps: 7700,
    source:
      "dense BF16 2.25 PFLOPS: datacrunch-research b300_comparison_b200.md @2289f4b8 and 'GPU & Network Constants'. Memory: sources conflict (262 GB Vantage mirror, 268 axbrief, 270 datacrunch, 288 datacrunch blackwell-vms and Constants); the smallest, 262, is taken. Bandwidth: 7.7 TB/s (datacrunch @2289f4b8) vs 8 TB/s (blackwell-vms, Constants); the smaller is taken. Conservative values, UNCONFIRMED by AWS",
  },
  "RTX-PRO-4500": {
    name: "RTX-PRO-4500",
    peakTflops: 109.9,
    supportsBf16: true,
    memoryGiB: 32,
    memoryBandwidthGBps: 800,
    source:
      "UNCONFIRMED peak: hmc-tech.com gives 'Tensor BF16 109.9 TFLOPS' dense for the RTX PRO 4500 Blackwell workstation card (third-party; the Server Edition in G7 may differ). Memory 32 GB GDDR7 (dstack PR #4063 'RTXPRO4500:32GB'; Exxact blog 2026-05-20); bandwidth 800 GB/s for the Server Edition (Exxact blog 2026-05-20)",
  },
  "RTX-PRO-6000": {
    name: "RTX-PRO-6000",
    peakTflops: 503.8,
    supportsBf16: true,
    memoryGiB: 96,
    memoryBandwidthGBps: 1597,
    source:
      "UNCONFIRMED peak: hmc-tech.com gives BF16 503.8 TFLOPS tensor dense (1.01 PFLOPS sparse) for the RTX PRO 6000 Blackwell (third-party, the 600 W part). Memory 96 GB GDDR7 (Vantage mirror; dstack PR #3752 'RTXPRO6000:96GB'). Bandwidth: 1792 GB/s is the Workstation Edition's datasheet figure (atineoSE/coding-model-seeks-gpu rtxpro6000_specs.md); the Server Edition's is UNCONFIRMED, so 1597 GB/s (the Workstation figure less 11%, the gap between the RTX PRO 4500 Workstation 896 and Server 800 GB/s) is used as a conservative value",
  },
};

const PCIE_ASSUMED =
  "ASSUMED: PCIe Gen5 without NVLink (no NVLink mentioned for G7/G7e in any source found), ~20 GB/s busbw taken as for g5/g6 (conservative; no measured figure)";
const NVLINK5_ASSUMED =
  "ASSUMED: NVLink 5 (1.8 TB/s per GPU, datacrunch @2289f4b8) doubles H100's NVLink 4; no measured 8xB200 busbw found, so the measured 8xH100 figure (479.72 GB/s, aigatech/vpbenchmarking) is kept as a conservative lower value";
const H100_MEASURED =
  "measured: 8xH100 one node all_reduce busbw 479.72 GB/s (Voltage Park benchmark, aigatech/vpbenchmarking)";

type NewType = Omit<InstanceType, "prices"> & { readonly planByDefault?: boolean; readonly unconfirmed?: string[] };

function g7(size: string, gpus: number, vcpus: number, ramGiB: number, networkGbps: number): NewType {
  return {
    name: `g7.${size}`,
    family: "g7",
    gpuModel: "RTX-PRO-4500",
    gpus,
    gpuMemoryGiB: 32,
    vcpus,
    ramGiB,
    interconnect: "pcie",
    intraNodeBusGBps: gpus === 1 ? 0 : 20,
    intraNodeBusSource: gpus === 1 ? "single GPU: no intra-node collective" : PCIE_ASSUMED,
    networkGbps,
    // A third-party post claims 700 Gbps EFA on g7.48xlarge; AWS confirmation not found.
    efa: false,
    quotaGroups: { "on-demand": "G", spot: "G" },
    source: `${VANTAGE} (vCPU, RAM, network; GPU listed as 'Unknown'); GPUs per size and model: dstack PR #4063`,
    planByDefault: false,
    unconfirmed: [
      "GPU peak TFLOP/s (workstation-card figure)",
      "intra-node interconnect",
      "EFA (third-party claim only; taken as no EFA)",
    ],
  };
}

function g7e(size: string, gpus: number, vcpus: number, ramGiB: number, networkGbps: number, efa: boolean): NewType {
  return {
    name: `g7e.${size}`,
    family: "g7e",
    gpuModel: "RTX-PRO-6000",
    gpus,
    gpuMemoryGiB: 96,
    vcpus,
    ramGiB,
    interconnect: "pcie",
    intraNodeBusGBps: gpus === 1 ? 0 : 20,
    intraNodeBusSource: gpus === 1 ? "single GPU: no intra-node collective" : PCIE_ASSUMED,
    networkGbps,
    efa,
    quotaGroups: { "on-demand": "G", spot: "G" },
    source: `${VANTAGE} (vCPU, RAM, network); EFA on 8xl-48xl: dstack PR #3752 (NCCL test)`,
    planByDefault: false,
    unconfirmed: [
      "GPU peak TFLOP/s (third-party figure)",
      "memory bandwidth (Server Edition)",
      "intra-node interconnect",
    ],
  };
}

const NEW_TYPES: NewType[] = [
  {
    name: "p5.4xlarge",
    family: "p5",
    gpuModel: "H100",
    gpus: 1,
    gpuMemoryGiB: 80,
    vcpus: 16,
    ramGiB: 256,
    interconnect: "nvswitch",
    intraNodeBusGBps: 0,
    intraNodeBusSource: "single GPU: no intra-node collective",
    networkGbps: 100,
    efa: false,
    quotaGroups: { "on-demand": "P", spot: "P5" },
    source: `${VANTAGE} (1 x H100 80 GB HBM3, 16 vCPU, 256 GB, 100 Gigabit; EFA not listed, taken as none)`,
  },
  {
    name: "p5e.48xlarge",
    family: "p5e",
    gpuModel: "H200",
    gpus: 8,
    gpuMemoryGiB: 141,
    vcpus: 192,
    ramGiB: 2048,
    interconnect: "nvswitch",
    intraNodeBusGBps: 480,
    intraNodeBusSource: H100_MEASURED,
    networkGbps: 3200,
    efa: true,
    quotaGroups: { "on-demand": "P", spot: "P5" },
    source: `${VANTAGE} (192 vCPU, 2048 GiB, '3200 Gbps EFAv2'); 32 EFA devices: meta-pytorch/torchx PRs #995/#1098`,
  },
  {
    name: "p6-b200.48xlarge",
    family: "p6-b200",
    gpuModel: "B200",
    gpus: 8,
    gpuMemoryGiB: 180,
    vcpus: 192,
    ramGiB: 2048,
    interconnect: "nvswitch",
    intraNodeBusGBps: 480,
    intraNodeBusSource: NVLINK5_ASSUMED,
    networkGbps: 3200,
    efa: true,
    quotaGroups: { "on-demand": "P", spot: "P5" },
    source: `${VANTAGE} (192 vCPU, 2048 GiB, '3200 Gbps EFAv4', '1800 GB/s NVLink'); spot quota: a third-party guide counts P6 spot in 'All P5 Spot Instance Requests' (UNCONFIRMED)`,
    unconfirmed: ["spot quota group (taken as P5)"],
  },
  {
    name: "p6-b300.48xlarge",
    family: "p6-b300",
    gpuModel: "B300",
    gpus: 8,
    gpuMemoryGiB: 262,
    vcpus: 192,
    ramGiB: 4096,
    interconnect: "nvswitch",
    intraNodeBusGBps: 480,
    intraNodeBusSource: NVLINK5_ASSUMED,
    networkGbps: 6400,
    // The source lists '6400 Gigabit' without saying EFA; taken as none (conservative).
    efa: false,
    quotaGroups: { "on-demand": "P", spot: "P5" },
    source: `${VANTAGE} (192 vCPU, 4096 GB, '6400 Gigabit'; GPU memory '262 GB HBM3e')`,
    unconfirmed: ["GPU memory (262-288 GB; smallest taken)", "EFA (taken as none)", "spot quota group (taken as P5)"],
  },
  g7("2xlarge", 1, 8, 32, 60),
  g7("4xlarge", 1, 16, 64, 100),
  g7("8xlarge", 1, 32, 128, 100),
  g7("12xlarge", 2, 48, 192, 175),
  g7("24xlarge", 4, 96, 384, 350),
  g7("48xlarge", 8, 192, 768, 700),
  g7e("2xlarge", 1, 8, 64, 50, false),
  g7e("4xlarge", 1, 16, 128, 50, false),
  g7e("8xlarge", 1, 32, 256, 100, true),
  g7e("12xlarge", 2, 48, 512, 400, true),
  g7e("24xlarge", 4, 96, 1024, 800, true),
  g7e("48xlarge", 8, 192, 2048, 1600, true),
];

const CUT_FAMILIES = new Set(["p4d", "p4de", "p5", "p5en"]);

function regionPrice(type: string, family: string, region: string, rows: readonly Row[], old: RegionPrice | undefined) {
  const here = rows.filter((row) => row.type === type && row.region === region);
  const vantage = here.find((row) => row.source.startsWith("tsaol/aws-gpu") && row.onDemand !== undefined);
  const zones = here.filter((row) => row.source.startsWith("skypilot") && row.spot !== undefined);
  if (vantage === undefined && zones.length === 0) {
    // An entry without any price (p5e in the old snapshot) says nothing; drop it.
    return old !== undefined && (old.onDemandUsdPerHour !== null || old.spot !== null) ? old : undefined;
  }
  const byAz = Object.fromEntries(
    zones.map((row) => [row.az, row.spot as number] as const).sort(([a], [b]) => a.localeCompare(b)),
  );
  const prices = Object.values(byAz);
  const onDemand = vantage?.onDemand ?? (old?.stale === false ? old.onDemandUsdPerHour : null);
  const onDemandNote =
    vantage !== undefined
      ? `on-demand: ${VANTAGE}${CUT_FAMILIES.has(family) ? `, after the June 2025 cut (${CUT})` : ""}`
      : "on-demand: not listed in the 2026 sources (UNCONFIRMED), so not offered on demand";
  const spotNote =
    zones.length > 0
      ? `spot: ${SKYPILOT}`
      : "spot: no per-AZ price in the 2026 sources (region minima only, which cannot bound the dearest zone); run `saturn catalog refresh`";
  const price: RegionPrice = {
    onDemandUsdPerHour: onDemand,
    spot: prices.length > 0 ? { minUsdPerHour: Math.min(...prices), maxUsdPerHour: Math.max(...prices), byAz } : null,
    asOf: `on-demand ${vantage !== undefined ? "2026-08-26" : "-"}; spot ${zones.length > 0 ? "~2025-05" : "-"}`,
    source: `${onDemandNote}; ${spotNote}`,
    stale: false,
  };
  return price.onDemandUsdPerHour === null && price.spot === null ? undefined : price;
}

const rows = parseCsv(readFileSync(csvPath, "utf8"));
const catalog = JSON.parse(readFileSync(catalogPath, "utf8")) as Catalog & { notes: string[] };
const known = new Map(catalog.instanceTypes.map((type) => [type.name, type]));
const types: InstanceType[] = [
  ...catalog.instanceTypes,
  ...NEW_TYPES.filter((type) => !known.has(type.name)).map((type) => ({
    ...type,
    prices: {} as Readonly<Record<string, RegionPrice>>,
  })),
].map((type) => {
  const prices: Record<string, RegionPrice> = {};
  for (const region of REGIONS) {
    const price = regionPrice(type.name, type.family, region, rows, type.prices[region]);
    if (price !== undefined) prices[region] = price;
  }
  for (const [region, price] of Object.entries(type.prices)) if (!(region in prices)) prices[region] = price;
  const fresh = NEW_TYPES.find((entry) => entry.name === type.name);
  return { ...(fresh ?? type), prices } as InstanceType;
});

const updated = {
  ...catalog,
  generatedAt: "2026-12-01",
  notes: [
    "Imported from shared/reference/aws-gpu-catalog.json by scripts/import-reference-catalog.ts, then brought to 2026 by scripts/import-2026-prices.ts (shared/reference/aws-prices-2026.csv).",
    `On-demand prices: ${VANTAGE}; P4d/P4de/P5/P5en after the June 2025 cut (${CUT}). Cross-check: 32.7726 x 0.67 = 21.957 (p4d), 98.32 -> 55.04 (p5, -44%).`,
    `Spot prices: per-AZ rows of ${SKYPILOT}; keys of byAz are AZ IDs (use1-az1), not zone names. Spot moves: refresh before relying on it.`,
    "Types with planByDefault false (G7, G7e) rest on UNCONFIRMED GPU figures and are planned only when instanceTypes.allow names them; each type's unconfirmed[] lists what is not confirmed.",
  ],
  gpus: { ...catalog.gpus, ...NEW_GPUS },
  instanceTypes: types,
};
parseCatalog(updated);
writeFileSync(catalogPath, `${JSON.stringify(updated, null, 2)}\n`);
console.log(`wrote ${catalogPath}: ${types.length} instance types, ${Object.keys(updated.gpus).length} GPU models`);
