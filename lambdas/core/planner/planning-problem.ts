/**
 * The planning problem in the planner's own terms (docs/plan.md, "The MILP"):
 *
 * - a *class* is a set of jobs that are interchangeable for planning (same candidates with
 *   the same runtimes, same checkpointing and deadline): sweep clones. The model decides
 *   how many jobs of a class start where, never which one;
 * - a *pool* is an instance type in a region and a market (p4d.24xlarge in us-east-2 on
 *   spot), with its price, its quota cell (group x market in that region: EC2 quotas are
 *   per region) and the most instances its quota admits at once;
 * - an *option* is a way to run one class in one pool: technique, nodes, GPUs per node and
 *   how many jobs of the class run side by side on one instance (the *bundle*; eight 1-GPU
 *   jobs on one p4d). A bundle always occupies whole instances; its jobs start together.
 *
 * Options only exist where the configuration fits, the market has a price and admits the
 * job (no spot without checkpoints), and the quota admits at least one instance. Why a
 * job has no option at all is kept for the infeasibility message.
 */
import { budgetHourlyPrice, expectedHourlyPrice } from "../catalog/select.ts";
import type { InstanceType } from "../catalog/types.ts";
import type { Candidate, ThroughputSource } from "../estimator/types.ts";
import type { Job, Workload } from "../spec/workload.ts";
import type { Market, QuotaGroup, Technique } from "../spec/workload-schema.ts";
import type { ExcludedOffer, QuotaTable } from "./api.ts";
import { jobTransfer } from "./data-transfer.ts";
import { spotSlowdown } from "./spot-overhead.ts";

export interface Pool {
  readonly index: number;
  readonly key: string;
  readonly type: InstanceType;
  readonly market: Market;
  /** The region its instances run in. */
  readonly region: string;
  /** Expected USD per hour (`expectedHourlyPrice`): the min-cost objective and expected costs. */
  readonly priceUsdPerHour: number;
  /** Worst-case USD per hour (`budgetHourlyPrice`): the budget row and every hard limit. */
  readonly budgetPriceUsdPerHour: number;
  readonly quotaGroup: QuotaGroup;
  /** The quota cell the pool counts against: `region|group|market`; pools with the same cell share one limit. */
  readonly quotaCell: string;
  /** vCPUs the quota cell admits at once. */
  readonly quotaVcpus: number;
  /** floor(quota / vCPUs): the most instances of this pool alone that the quota admits at once. */
  readonly maxInstances: number;
}

export interface JobClass {
  readonly index: number;
  readonly jobs: readonly Job[];
  /** The tighter of the plan-wide deadline and the jobs' own, in seconds; undefined: none. */
  readonly deadlineSeconds: number | undefined;
  readonly candidates: readonly Candidate[];
}

export interface PlanOption {
  readonly index: number;
  readonly classIndex: number;
  readonly poolIndex: number;
  readonly technique: Technique;
  readonly nodes: number;
  readonly gpusPerNode: number;
  /** Jobs of the class that run side by side on one set of instances (1 unless they share an instance). */
  readonly jobsPerBundle: number;
  /** Samples per second of one job (on-demand speed; spot jobs expect `slowdown` more time). */
  readonly samplesPerSecond: number;
  readonly source: ThroughputSource;
  /** Expected seconds for one job, interruption overhead included. */
  readonly runtimeSeconds: number;
  /** Expected runtime / uninterrupted runtime (1 on demand). */
  readonly slowdown: number;
  /** USD per job for moving its data and checkpoints between its pool's region and the home region (0 at home). */
  readonly transferUsd: number;
}

export interface PlanningProblem {
  readonly workload: Workload;
  readonly quotas: QuotaTable;
  readonly bootSeconds: number;
  readonly pools: readonly Pool[];
  readonly classes: readonly JobClass[];
  readonly options: readonly PlanOption[];
  /** Jobs without any option, with the reasons their candidates were dropped. */
  readonly unplaceable: readonly { readonly job: Job; readonly reasons: readonly DropReason[] }[];
}

/** Why a candidate gave no option: it does not fit, or its pool is unusable (and why). */
export interface DropReason {
  readonly kind: "fit" | "quota" | "price" | "spot" | "excluded" | "type";
  readonly text: string;
}

export interface ProblemInput {
  readonly workload: Workload;
  /** The home region's quotas, and any region's that `quotasByRegion` lacks. */
  readonly quotas: QuotaTable;
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  readonly instanceTypes: readonly InstanceType[];
  /** Candidates per job id (jobs with identical candidates may share one array). */
  readonly candidates: ReadonlyMap<string, readonly Candidate[]>;
  readonly excludedOffers?: readonly ExcludedOffer[];
}

export function buildPlanningProblem(input: ProblemInput): PlanningProblem {
  const { workload, quotas } = input;
  const bootSeconds = workload.planner.bootMinutes * 60;
  const typesByName = new Map(input.instanceTypes.map((type) => [type.name, type]));
  const excluded = new Set(
    (input.excludedOffers ?? []).map((offer) => `${offer.instanceType}|${offer.market}|${offer.region ?? "*"}`),
  );
  const multiRegion = workload.regions.length > 1 || workload.regions[0] !== workload.region;
  const quotasIn = (region: string): QuotaTable => input.quotasByRegion?.[region] ?? quotas;
  const planDeadline = workload.objective.kind === "min-time" ? undefined : workload.objective.deadlineHours;

  const pools: Pool[] = [];
  const poolIndex = new Map<string, number | DropReason>();
  const poolFor = (type: InstanceType, region: string, market: Market): Pool | DropReason => {
    const key = `${type.name}|${region}|${market}`;
    const known = poolIndex.get(key);
    if (known !== undefined) return typeof known === "number" ? (pools[known] as Pool) : known;
    const reason = poolProblem(type, region, market, quotasIn(region), excluded);
    if (reason !== undefined) {
      poolIndex.set(key, reason);
      return reason;
    }
    const price = expectedHourlyPrice(type, region, market) as number;
    const budgetPrice = budgetHourlyPrice(type, region, market) as number;
    const quotaGroup = type.quotaGroups[market];
    const quotaVcpus = quotasIn(region)[quotaGroup][market];
    const pool: Pool = {
      index: pools.length,
      // Single-region plans keep the names they had before regions existed.
      key: multiRegion ? `${type.name}_${region}_${market}` : `${type.name}_${market}`,
      type,
      market,
      region,
      priceUsdPerHour: price,
      budgetPriceUsdPerHour: budgetPrice,
      quotaGroup,
      quotaCell: `${region}|${quotaGroup}|${market}`,
      quotaVcpus,
      maxInstances: Math.floor(quotaVcpus / type.vcpus),
    };
    pools.push(pool);
    poolIndex.set(key, pool.index);
    return pool;
  };

  const classes: JobClass[] = [];
  const classByKey = new Map<string, JobClass & { jobs: Job[] }>();
  const contentKeys = new Map<readonly Candidate[], string>();
  for (const job of workload.jobs) {
    const candidates = input.candidates.get(job.id) ?? [];
    let content = contentKeys.get(candidates);
    if (content === undefined) {
      content = candidates
        .map((c) => `${configKey(c)}:${c.runtimeSeconds ?? "-"}:${c.estimate.fits ? c.estimate.samplesPerSecond : "-"}`)
        .join(",");
      contentKeys.set(candidates, content);
    }
    const key = `${job.checkpointable}|${job.deadlineHours ?? ""}|${job.techniques.join("+")}|${content}`;
    const known = classByKey.get(key);
    if (known !== undefined) {
      known.jobs.push(job);
      continue;
    }
    const deadlineHours = minDefined(planDeadline, job.deadlineHours);
    const jobClass = {
      index: classes.length,
      jobs: [job],
      deadlineSeconds: deadlineHours === undefined ? undefined : deadlineHours * 3600,
      candidates,
    };
    classByKey.set(key, jobClass);
    classes.push(jobClass);
  }

  const options: PlanOption[] = [];
  const unplaceable: { job: Job; reasons: DropReason[] }[] = [];
  for (const jobClass of classes) {
    const reasons: DropReason[] = [];
    const job = jobClass.jobs[0] as Job;
    // Per (pool, nodes, jobs per bundle) only the fastest configuration can be worth choosing:
    // it occupies the same instances for less time.
    const fastest = new Map<string, PlanOption>();
    for (const candidate of jobClass.candidates) {
      const { config, estimate } = candidate;
      if (!estimate.fits || candidate.runtimeSeconds === undefined) {
        reasons.push({
          kind: "fit",
          text: `${configLabel(candidate)}: ${estimate.fits ? "no runtime" : estimate.reason}`,
        });
        continue;
      }
      if (!job.techniques.includes(config.technique)) continue;
      const type = typesByName.get(config.instanceType);
      if (type === undefined) {
        reasons.push({
          kind: "type",
          text: `${config.instanceType}: not allowed or not offered in ${workload.regions.join(", ")}`,
        });
        continue;
      }
      for (const [region, market] of workload.regions.flatMap((r) => workload.markets.map((m) => [r, m] as const))) {
        if (market === "spot" && !job.checkpointable) {
          reasons.push({
            kind: "spot",
            text: `${config.instanceType} spot: the job cannot checkpoint, so it never runs on spot`,
          });
          continue;
        }
        const pool = poolFor(type, region, market);
        if (!("index" in pool)) {
          reasons.push(pool);
          continue;
        }
        const jobsPerBundle = config.nodes === 1 ? Math.max(1, Math.floor(type.gpus / config.gpusPerNode)) : 1;
        const slowdown = market === "spot" ? spotSlowdown(type, workload.spot) : 1;
        const option: PlanOption = {
          index: -1,
          classIndex: jobClass.index,
          poolIndex: pool.index,
          technique: config.technique,
          nodes: config.nodes,
          gpusPerNode: config.gpusPerNode,
          jobsPerBundle,
          samplesPerSecond: estimate.samplesPerSecond,
          source: estimate.source,
          runtimeSeconds: candidate.runtimeSeconds * slowdown,
          slowdown,
          transferUsd: jobTransfer(
            job,
            candidate.runtimeSeconds * slowdown,
            workload.spot.checkpointIntervalMinutes,
            workload.region,
            region,
          ).usd,
        };
        const key = `${pool.index}|${config.nodes}|${jobsPerBundle}`;
        const best = fastest.get(key);
        if (best === undefined || option.runtimeSeconds < best.runtimeSeconds) fastest.set(key, option);
      }
    }
    if (fastest.size === 0) {
      const unique = [...new Map(reasons.map((reason) => [reason.text, reason])).values()];
      for (const member of jobClass.jobs) unplaceable.push({ job: member, reasons: unique });
    }
    for (const option of fastest.values()) options.push({ ...option, index: options.length });
  }
  return { workload, quotas, bootSeconds, pools, classes, options, unplaceable };
}

function poolProblem(
  type: InstanceType,
  region: string,
  market: Market,
  quotas: QuotaTable,
  excluded: ReadonlySet<string>,
): DropReason | undefined {
  if (excluded.has(`${type.name}|${market}|*`) || excluded.has(`${type.name}|${market}|${region}`)) {
    return { kind: "excluded", text: `${type.name} ${market} in ${region}: excluded after a failed launch` };
  }
  if (expectedHourlyPrice(type, region, market) === undefined) {
    return { kind: "price", text: `${type.name} has no ${market} price in ${region}` };
  }
  const group = type.quotaGroups[market];
  const quota = quotas[group][market];
  if (quota < type.vcpus) {
    return {
      kind: "quota",
      text: `the ${group} ${market} quota of ${quota} vCPUs admits no ${type.gpuModel} instance (${type.name} needs ${type.vcpus})`,
    };
  }
  return undefined;
}

export function configKey(candidate: Pick<Candidate, "config">): string {
  const { technique, instanceType, nodes, gpusPerNode } = candidate.config;
  return `${technique}/${instanceType}/${nodes}x${gpusPerNode}`;
}

function configLabel(candidate: Candidate): string {
  const { technique, instanceType, nodes, gpusPerNode } = candidate.config;
  return `${instanceType} ${technique} ${nodes}x${gpusPerNode} GPUs`;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
