/**
 * The region benchmark (`npm run bench -- --only regions`): the same workloads planned with
 * their home region only and with three regions (us-east-1, us-east-2, us-west-2), side by
 * side. Same spec, catalog, solver and time limit; the only difference is `regions`. Quota
 * overrides without a region hold in every region (EC2 quotas are per region), so three
 * regions also mean three times the quota: that is part of what choosing regions buys.
 * Costs are the plans' expected costs; transfer is the inter-region data and checkpoint
 * traffic priced by `lambdas/core/planner/data-transfer.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jsonFilesNextTo } from "../cli/spec-file.ts";
import { loadCatalog } from "../lambdas/adapters/catalog-file.ts";
import { HighsSolver } from "../lambdas/adapters/highs-solver.ts";
import { resolveWorkloadQuotas } from "../lambdas/core/catalog/quotas.ts";
import { InMemoryProfileStore } from "../lambdas/core/estimator/profiles.ts";
import type { Plan } from "../lambdas/core/planner/plan.ts";
import { planWorkload } from "../lambdas/core/planner/plan-workload.ts";
import { validatePlan } from "../lambdas/core/planner/validate-plan.ts";
import { parseWorkloadText, type Workload } from "../lambdas/core/spec/workload.ts";

export const REGIONS_BEGIN =
  "<!-- region-results:begin (written by `npm run bench -- --only regions`; edits here are overwritten) -->";
export const REGIONS_END = "<!-- region-results:end -->";

export const THREE_REGIONS = ["us-east-1", "us-east-2", "us-west-2"] as const;

const path = (file: string): string => fileURLToPath(new URL(`../${file}`, import.meta.url));

/** Workloads compared: Saturn's text sweep, the LLM sweep, the Hugging Face example (dense + MoE), large LoRA jobs under a tight deadline. */
export const REGION_WORKLOADS: readonly { readonly name: string; readonly file: string }[] = [
  { name: "saturn-text", file: "bench/workloads/saturn-text.yaml" },
  { name: "llm-finetune", file: "bench/workloads/llm-finetune.yaml" },
  { name: "hf-sweep", file: "examples/hugging-face-sweep.yaml" },
  { name: "lora-large", file: "bench/workloads/lora-large.yaml" },
];

export interface RegionRun {
  readonly workload: string;
  readonly regions: readonly string[];
  readonly plan: Plan | undefined;
  readonly error: string | undefined;
  readonly violations: readonly string[];
  readonly seconds: number;
}

export async function runRegionBenchmark(options: {
  readonly timeLimitSeconds: number;
  readonly onProgress: (line: string) => void;
}): Promise<RegionRun[]> {
  const catalog = loadCatalog();
  const solver = new HighsSolver();
  const runs: RegionRun[] = [];
  for (const source of REGION_WORKLOADS) {
    const file = path(source.file);
    const base = parseWorkloadText(readFileSync(file, "utf8"), { files: jsonFilesNextTo(file) });
    for (const regions of [[base.region], [...THREE_REGIONS]]) {
      const workload: Workload = {
        ...base,
        regions,
        planner: { ...base.planner, timeLimitSeconds: options.timeLimitSeconds },
      };
      const quotas = resolveWorkloadQuotas(workload, () => undefined);
      const started = performance.now();
      options.onProgress(`${source.name} in ${regions.join(", ")}`);
      try {
        const result = await planWorkload({
          workload,
          catalog,
          quotas: quotas.quotas,
          quotasByRegion: quotas.quotasByRegion,
          profiles: new InMemoryProfileStore([]),
          solver,
        });
        const violations = validatePlan(result.plan, {
          workload,
          catalog,
          quotas: quotas.quotas,
          quotasByRegion: quotas.quotasByRegion,
        });
        runs.push({
          workload: source.name,
          regions,
          plan: result.plan,
          error: undefined,
          violations,
          seconds: (performance.now() - started) / 1000,
        });
      } catch (error) {
        runs.push({
          workload: source.name,
          regions,
          plan: undefined,
          error: error instanceof Error ? error.message.split("\n")[0] : String(error),
          violations: [],
          seconds: (performance.now() - started) / 1000,
        });
      }
    }
  }
  return runs;
}

export function renderRegionMarkdown(runs: readonly RegionRun[], header: string): string {
  const lines = [
    header,
    "",
    "| workload | regions | instances $ | transfer $ | total $ | total vs 1 region | makespan h | jobs per region | valid | solve s |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |",
  ];
  for (const run of runs) {
    const single = runs.find((other) => other.workload === run.workload && other.regions.length === 1);
    const total = (plan: Plan | undefined) =>
      plan === undefined ? undefined : plan.totals.expectedCostUsd + (plan.totals.transferCostUsd ?? 0);
    const mine = total(run.plan);
    const theirs = total(single?.plan);
    if (run.plan === undefined || mine === undefined) {
      lines.push(
        `| ${run.workload} | ${run.regions.length} | - | - | - | - | - | ${run.error ?? "no plan"} | - | ${run.seconds.toFixed(1)} |`,
      );
      continue;
    }
    lines.push(
      `| ${run.workload} | ${run.regions.length === 1 ? run.regions[0] : run.regions.join(", ")} | ` +
        `${run.plan.totals.expectedCostUsd.toFixed(2)} | ${(run.plan.totals.transferCostUsd ?? 0).toFixed(2)} | ` +
        `${mine.toFixed(2)} | ${theirs === undefined ? "-" : (mine / theirs).toFixed(3)} | ` +
        `${(run.plan.totals.makespanSeconds / 3600).toFixed(2)} | ${jobsPerRegion(run.plan, run.regions[0] ?? "")} | ` +
        `${run.violations.length === 0 ? "yes" : `no: ${run.violations[0]}`} | ${run.seconds.toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}

function jobsPerRegion(plan: Plan, home: string): string {
  const regionOf = new Map(plan.instances.map((instance) => [instance.id, instance.region ?? home]));
  const counts = new Map<string, number>();
  for (const assignment of plan.assignments) {
    const region = regionOf.get(assignment.instanceIds[0] ?? "") ?? home;
    counts.set(region, (counts.get(region) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([region, jobs]) => `${region} ${jobs}`)
    .join(", ");
}

/** Writes the block between the region markers of docs/benchmarks.md, appending a Regions section when missing. */
export function writeRegionResults(file: string, markdown: string): void {
  let text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const block = `${REGIONS_BEGIN}\n${markdown.trim()}\n${REGIONS_END}`;
  const begin = text.indexOf(REGIONS_BEGIN);
  const end = text.indexOf(REGIONS_END);
  if (begin !== -1 && end > begin) {
    text = `${text.slice(0, begin)}${block}${text.slice(end + REGIONS_END.length)}`;
  } else {
    text = `${text.trimEnd()}\n\n## Regions\n\n${block}\n`;
  }
  writeFileSync(file, text);
}
