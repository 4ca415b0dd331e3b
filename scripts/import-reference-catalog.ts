/**
 * One-off importer: turns `../shared/reference/aws-gpu-catalog.json` (sourced facts gathered
 * by hand) into `data/catalog.json` in Saturn's catalog format. `saturn catalog refresh`
 * later rewrites prices and instance facts from AWS itself.
 *   npx tsx scripts/import-reference-catalog.ts [reference.json] [out.json]
 */
import { readFileSync, writeFileSync } from "node:fs";

const [referencePath = "../shared/reference/aws-gpu-catalog.json", outPath = "data/catalog.json"] =
  process.argv.slice(2);
// biome-ignore lint/suspicious/noExplicitAny: untyped reference document, read once.
const ref: any = JSON.parse(readFileSync(referencePath, "utf8"));

const GPU_KEYS: Record<string, string> = {
  T4: "T4",
  A10G: "A10G",
  L4: "L4",
  L40S: "L40S",
  V100: "V100",
  "V100-32GB": "V100-32GB",
  "A100 (40GB)": "A100-40GB",
  "A100-80GB": "A100-80GB",
  "H100 (SXM, 80GB)": "H100",
  H200: "H200",
};

const value = (v: unknown): number | undefined =>
  typeof v === "number"
    ? v
    : v && typeof v === "object" && "value" in v
      ? Number((v as { value: number }).value)
      : undefined;
const sourceText = (s: unknown): string =>
  Array.isArray(s)
    ? s.map(sourceText).join("; ")
    : s && typeof s === "object"
      ? [(s as { name?: string }).name, (s as { repo?: string }).repo, (s as { path?: string }).path]
          .filter(Boolean)
          .join(" ") + ((s as { commit?: string }).commit ? ` @${(s as { commit: string }).commit.slice(0, 8)}` : "")
      : String(s);

function gpu(key: string, refKey: string, memoryGiB: number) {
  const g = ref.gpus[refKey];
  let peak = g.bf16_dense_tflops ?? g.fp16_tensor_dense_tflops;
  let note = "";
  if (peak && typeof peak === "object" && "conflict" in peak) {
    peak = 70;
    note = " A10G peak: sources conflict (70 vs 125 TFLOP/s); 70 taken as the A10G (AWS variant) figure, unconfirmed.";
  }
  return {
    name: key,
    peakTflops: peak,
    supportsBf16: g.bf16_dense_tflops !== null && g.bf16_dense_tflops !== undefined,
    memoryGiB,
    memoryBandwidthGBps: value(g.mem_bw_GBps),
    source: `${sourceText(g.source)}.${note}`.trim(),
  };
}

const gpus = {
  T4: gpu("T4", "T4", 16),
  A10G: gpu("A10G", "A10G", 24),
  L4: gpu("L4", "L4", 24),
  L40S: gpu("L40S", "L40S", 48),
  V100: gpu("V100", "V100", 16),
  "V100-32GB": gpu("V100-32GB", "V100", 32),
  "A100-40GB": gpu("A100-40GB", "A100-40GB", 40),
  "A100-80GB": gpu("A100-80GB", "A100-80GB", 80),
  H100: gpu("H100", "H100-SXM", 80),
  H200: gpu("H200", "H200-SXM", 141),
};

/**
 * Effective all-reduce bus bandwidth inside one instance (NCCL busbw, GB/s). Measured where
 * `published-throughput.md` has a figure; otherwise an assumption, marked so.
 */
function intraNodeBus(family: string, gpuModel: string, gpuCount: number): [number, string] {
  if (gpuCount === 1) return [0, "single GPU: no intra-node collective"];
  if (family === "p4d" || family === "p4de")
    return [230, "measured: p4dn 1 node all_reduce busbw 230.77 GB/s at 1 GiB (NVIDIA/nccl#527)"];
  if (family.startsWith("p5"))
    return [
      480,
      "measured: 8xH100 one node all_reduce busbw 479.72 GB/s (Voltage Park benchmark, aigatech/vpbenchmarking)",
    ];
  if (family.startsWith("p3"))
    return [100, "ASSUMED: V100 NVLink hybrid cube-mesh, ~100 GB/s busbw (no measured AWS figure found)"];
  if (gpuModel === "T4") return [10, "ASSUMED: PCIe Gen3 x16 host-staged all-reduce, ~10 GB/s (no measured figure)"];
  return [20, "ASSUMED: PCIe Gen4 x16 without NVLink, ~20 GB/s busbw (no measured g5/g6 figure; see nccl#1298)"];
}

function networkGbps(i: { network: { value: string | null; unverified_hint: string | null } }): number {
  const text = i.network.value ?? i.network.unverified_hint ?? "";
  const multi = /(\d+)x(\d+)\s*Gbps/.exec(text);
  if (multi) return Number(multi[1]) * Number(multi[2]);
  const single = /(\d+)\s*Gbps/.exec(text);
  return single ? Number(single[1]) : 10;
}

const QUOTA_GROUP: Record<string, "G" | "P" | "P5"> = {
  "L-DB2E81BA": "G",
  "L-3819A6DF": "G",
  "L-417A185B": "P",
  "L-7212CCBC": "P",
  "L-C4BD4855": "P5",
};

const staleFamilies = new Set(["p4d", "p4de", "p5", "p5e", "p5en"]);
const priceSource = `${sourceText(ref.meta.price_source)} (us-east-1)`;

// biome-ignore lint/suspicious/noExplicitAny: reference rows.
const instanceTypes = ref.instances.map((i: any) => {
  const gpuModel = GPU_KEYS[i.gpu_model];
  if (!gpuModel) throw new Error(`unknown GPU model ${i.gpu_model} for ${i.instance_type}`);
  const [bus, busSource] = intraNodeBus(i.family, gpuModel, i.gpus);
  const interconnect = i.gpu_interconnect.value.startsWith("NVSwitch")
    ? "nvswitch"
    : i.gpu_interconnect.value.startsWith("NVLink")
      ? "nvlink"
      : "pcie";
  const spot = i.spot_usd_per_hr_us_east_1;
  return {
    name: i.instance_type,
    family: i.family,
    gpuModel,
    gpus: i.gpus,
    gpuMemoryGiB: gpus[gpuModel as keyof typeof gpus].memoryGiB,
    vcpus: i.vcpus,
    ramGiB: i.ram_gib,
    interconnect,
    intraNodeBusGBps: bus,
    intraNodeBusSource: busSource,
    networkGbps: networkGbps(i),
    efa: i.efa.supported === true,
    quotaGroups: {
      "on-demand": QUOTA_GROUP[i.quota_codes.on_demand.slice(0, 10)],
      spot: QUOTA_GROUP[i.quota_codes.spot.slice(0, 10)],
    },
    prices: {
      "us-east-1": {
        onDemandUsdPerHour: i.on_demand_usd_per_hr_us_east_1 ?? null,
        spot: spot ? { minUsdPerHour: spot.min_over_azs, maxUsdPerHour: spot.max_over_azs, byAz: {} } : null,
        asOf: "unknown (SkyPilot catalog snapshot, commit 001367d2; G-family prices match long-standing list prices)",
        source: priceSource,
        stale: staleFamilies.has(i.family),
      },
    },
    source: `${sourceText(i.source)}; network: ${sourceText(i.network.source ?? "unverified hint")}; interconnect: ${
      typeof i.gpu_interconnect.source === "string" ? i.gpu_interconnect.source : sourceText(i.gpu_interconnect.source)
    }`,
  };
});

const catalog = {
  schemaVersion: 1,
  generatedAt: "2026-11-27",
  notes: [
    "Imported from shared/reference/aws-gpu-catalog.json by scripts/import-reference-catalog.ts.",
    "P-family (p4d, p4de, p5, p5e, p5en) prices predate the June 2025 AWS price cut and are marked stale: run `saturn catalog refresh`.",
    ...ref.meta.price_caveats,
  ],
  gpus,
  instanceTypes,
};
writeFileSync(outPath, `${JSON.stringify(catalog, null, 2)}\n`);
console.log(`wrote ${outPath}: ${instanceTypes.length} instance types, ${Object.keys(gpus).length} GPU models`);
