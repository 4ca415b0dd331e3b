/**
 * The independent judge of a plan. It knows nothing of the MILP, its slots or its
 * classes: it reads the plan as the reconciler would execute it and recomputes every
 * promise from first principles. Every plan the planner returns has passed it.
 *
 * Checks (docs/plan.md, "The validator"):
 *  V1 every job of the workload is assigned exactly once, and nothing else is;
 *  V2 every assignment runs on existing instances of one type, market and AZ, inside their
 *     lifetimes, after their boot time, and long enough to process the job's samples;
 *  V3 no GPU is used twice at once (GPU counts and, where given, GPU indices);
 *  V4 vCPU quotas per quota group and market hold at every moment;
 *  V5 instance types are allowed, offered in the region and market, priced as the catalog
 *     says (expected price, and budget price where given); jobs that cannot checkpoint are
 *     never on spot;
 *  V6 the deadline (plan-wide and per job) or the budget holds; the budget is checked at
 *     the catalog's budget (worst-case) prices, whatever the plan reports;
 *  V7 the reported costs (expected, and budget where given) equal the costs recomputed from
 *     instance lifetimes (per-second billing, 60 s minimum per launch) and the makespan
 *     equals the last job's end.
 */
import { budgetHourlyPrice, expectedHourlyPrice, offeredInstanceTypes } from "../catalog/select.ts";
import type { Catalog, InstanceType } from "../catalog/types.ts";
import type { Workload } from "../spec/workload.ts";
import type { QuotaTable } from "./api.ts";
import type { Plan, PlannedInstance } from "./plan.ts";

export interface PlanValidationContext {
  readonly workload: Workload;
  readonly catalog: Catalog;
  readonly quotas: QuotaTable;
  /** Quotas per region (multi-region workloads); a region without an entry uses `quotas`. */
  readonly quotasByRegion?: Readonly<Record<string, QuotaTable>>;
  /** Seconds an instance needs after launch before a job can start; default: the workload's bootMinutes. */
  readonly bootSeconds?: number;
}

/** AWS bills Linux instances per second with a 60-second minimum per launch (announcement, 2017-10-02). */
export const MINIMUM_BILLED_SECONDS = 60;

/** Relative tolerance for recomputed money and time (float rounding only). */
const RELATIVE_TOLERANCE = 1e-6;
/** Absolute tolerance in seconds for time comparisons. */
const SECONDS_TOLERANCE = 1e-6;

/** Cost of one instance lifetime: per-second billing with a 60-second minimum. */
export function instanceCostUsd(instance: Pick<PlannedInstance, "start" | "end" | "hourlyPriceUsd">): number {
  return (instance.hourlyPriceUsd * Math.max(MINIMUM_BILLED_SECONDS, instance.end - instance.start)) / 3600;
}

/** Total expected cost of a plan's instances. */
export function recomputeCostUsd(instances: readonly PlannedInstance[]): number {
  return instances.reduce((sum, instance) => sum + instanceCostUsd(instance), 0);
}

/** Total worst-case cost of a plan's instances: at `budgetHourlyPriceUsd`, else `hourlyPriceUsd`. */
export function recomputeBudgetCostUsd(instances: readonly PlannedInstance[]): number {
  return instances.reduce(
    (sum, instance) =>
      sum + instanceCostUsd({ ...instance, hourlyPriceUsd: instance.budgetHourlyPriceUsd ?? instance.hourlyPriceUsd }),
    0,
  );
}

/** Lists every violation; an empty list means the plan is valid. */
export function validatePlan(plan: Plan, context: PlanValidationContext): string[] {
  const { workload, catalog, quotas } = context;
  const bootSeconds = context.bootSeconds ?? workload.planner.bootMinutes * 60;
  const violations: string[] = [];
  const typesByName = new Map(catalog.instanceTypes.map((type) => [type.name, type]));
  const allowed = new Set(offeredInstanceTypes(catalog, workload).map((type) => type.name));
  const instances = new Map<string, PlannedInstance>();

  // V5: instances are allowed, offered and priced as the catalog says.
  for (const instance of plan.instances) {
    if (instances.has(instance.id)) violations.push(`V2 instance id '${instance.id}' is used twice`);
    instances.set(instance.id, instance);
    const type = typesByName.get(instance.instanceType);
    if (type === undefined) {
      violations.push(`V5 instance ${instance.id}: type ${instance.instanceType} is not in the catalog`);
      continue;
    }
    const region = instance.region ?? workload.region;
    if (!workload.regions.includes(region)) {
      violations.push(`V5 instance ${instance.id}: region ${region} is not one of the workload's regions`);
    }
    if (!allowed.has(type.name)) {
      violations.push(`V5 instance ${instance.id}: type ${type.name} is not allowed in ${region} by the spec`);
    }
    if (!workload.markets.includes(instance.market)) {
      violations.push(`V5 instance ${instance.id}: market ${instance.market} is not allowed by the spec`);
    }
    const price = expectedHourlyPrice(type, region, instance.market);
    const budgetPrice = budgetHourlyPrice(type, region, instance.market);
    if (price === undefined) {
      violations.push(`V5 instance ${instance.id}: ${type.name} has no ${instance.market} price in ${region}`);
    } else if (!close(price, instance.hourlyPriceUsd)) {
      violations.push(
        `V5 instance ${instance.id}: hourly price ${instance.hourlyPriceUsd} differs from the catalog's expected ${price}`,
      );
    }
    if (
      instance.budgetHourlyPriceUsd !== undefined &&
      budgetPrice !== undefined &&
      !close(budgetPrice, instance.budgetHourlyPriceUsd)
    ) {
      violations.push(
        `V5 instance ${instance.id}: budget hourly price ${instance.budgetHourlyPriceUsd} differs from the catalog's ${budgetPrice}`,
      );
    }
    if (!(instance.end > instance.start) || instance.start < -SECONDS_TOLERANCE) {
      violations.push(`V2 instance ${instance.id}: lifetime [${instance.start}, ${instance.end}] is empty or negative`);
    }
  }

  // V1: each job exactly once.
  const jobs = new Map(workload.jobs.map((job) => [job.id, job]));
  const seen = new Set<string>();
  for (const assignment of plan.assignments) {
    if (!jobs.has(assignment.jobId)) violations.push(`V1 assignment for unknown job '${assignment.jobId}'`);
    if (seen.has(assignment.jobId)) violations.push(`V1 job '${assignment.jobId}' is assigned more than once`);
    seen.add(assignment.jobId);
  }
  for (const job of workload.jobs) {
    if (!seen.has(job.id)) violations.push(`V1 job '${job.id}' is not assigned`);
  }

  // V2 and V5 per assignment.
  const usesByInstance = new Map<string, { start: number; end: number; gpus: number; indices?: readonly number[] }[]>();
  for (const assignment of plan.assignments) {
    const job = jobs.get(assignment.jobId);
    const where = `job '${assignment.jobId}'`;
    if (assignment.instanceIds.length === 0) violations.push(`V2 ${where} runs on no instance`);
    if (new Set(assignment.instanceIds).size !== assignment.instanceIds.length) {
      violations.push(`V2 ${where} names one instance twice`);
    }
    if (!(assignment.end > assignment.start))
      violations.push(`V2 ${where}: empty run [${assignment.start}, ${assignment.end}]`);
    if (job !== undefined) {
      const processed = (assignment.end - assignment.start) * assignment.samplesPerSecond;
      if (!(assignment.samplesPerSecond > 0) || processed < job.totalSamples * (1 - RELATIVE_TOLERANCE)) {
        violations.push(
          `V2 ${where}: ${format(assignment.end - assignment.start)} s at ${assignment.samplesPerSecond} samples/s ` +
            `process ${format(processed)} samples, the job needs ${job.totalSamples}`,
        );
      }
      if (!job.techniques.includes(assignment.technique)) {
        violations.push(
          `V2 ${where}: technique ${assignment.technique} is not among the job's ${job.techniques.join(", ")}`,
        );
      }
    }
    const placed = assignment.instanceIds.map((id) => instances.get(id));
    const first = placed[0];
    for (const [index, instance] of placed.entries()) {
      const id = assignment.instanceIds[index];
      if (instance === undefined) {
        violations.push(`V2 ${where} names unknown instance '${id}'`);
        continue;
      }
      if (
        first !== undefined &&
        (instance.instanceType !== first.instanceType ||
          instance.market !== first.market ||
          instance.availabilityZone !== first.availabilityZone)
      ) {
        violations.push(`V2 ${where}: its instances differ in type, market or availability zone`);
      }
      if (assignment.start < instance.start + bootSeconds - SECONDS_TOLERANCE) {
        violations.push(
          `V2 ${where} starts at ${format(assignment.start)} s on ${instance.id}, before it has booted ` +
            `(launched ${format(instance.start)} s, boot ${bootSeconds} s)`,
        );
      }
      if (assignment.end > instance.end + SECONDS_TOLERANCE) {
        violations.push(
          `V2 ${where} ends at ${format(assignment.end)} s, after ${instance.id} ends (${format(instance.end)} s)`,
        );
      }
      if (job !== undefined && !job.checkpointable && instance.market === "spot") {
        violations.push(`V5 ${where} cannot checkpoint but runs on spot instance ${instance.id}`);
      }
      const uses = usesByInstance.get(instance.id) ?? [];
      uses.push({
        start: assignment.start,
        end: assignment.end,
        gpus: assignment.gpusPerInstance,
        ...(assignment.gpuIndices === undefined ? {} : { indices: assignment.gpuIndices }),
      });
      usesByInstance.set(instance.id, uses);
    }
  }

  // V3: GPUs per instance at every moment.
  for (const [id, uses] of usesByInstance) {
    const instance = instances.get(id);
    const type = instance === undefined ? undefined : typesByName.get(instance.instanceType);
    if (type === undefined) continue;
    violations.push(...gpuViolations(id, type, uses));
  }

  // V4: quotas at every moment.
  violations.push(...quotaViolations(plan.instances, typesByName, workload.region, quotas, context.quotasByRegion));

  // V6: deadline or budget.
  const makespan = plan.assignments.reduce((latest, assignment) => Math.max(latest, assignment.end), 0);
  const cost = recomputeCostUsd(plan.instances);
  const objective = workload.objective;
  const deadlineHours = objective.kind === "min-time" ? undefined : objective.deadlineHours;
  const budgetUsd = objective.kind === "min-cost" ? undefined : objective.budgetUsd;
  if (deadlineHours !== undefined && makespan > deadlineHours * 3600 + SECONDS_TOLERANCE) {
    violations.push(`V6 the last job ends at ${hours(makespan)} h, after the ${deadlineHours} h deadline`);
  }
  for (const assignment of plan.assignments) {
    const limit = jobs.get(assignment.jobId)?.deadlineHours;
    if (limit !== undefined && assignment.end > limit * 3600 + SECONDS_TOLERANCE) {
      violations.push(`V6 job '${assignment.jobId}' ends at ${hours(assignment.end)} h, after its ${limit} h deadline`);
    }
  }
  const transfer = plan.assignments.reduce((sum, assignment) => sum + (assignment.transferUsd ?? 0), 0);
  if (budgetUsd !== undefined) {
    // The catalog's worst-case prices, not the plan's own figures: a plan cannot talk its way under.
    // Inter-region transfer is spent money too.
    const worstCase = plan.instances.reduce((sum, instance) => {
      const type = typesByName.get(instance.instanceType);
      const region = instance.region ?? workload.region;
      const budgetPrice = type === undefined ? undefined : budgetHourlyPrice(type, region, instance.market);
      return sum + instanceCostUsd({ ...instance, hourlyPriceUsd: budgetPrice ?? instance.hourlyPriceUsd });
    }, transfer);
    if (worstCase > budgetUsd * (1 + RELATIVE_TOLERANCE)) {
      violations.push(
        `V6 the plan costs $${worstCase.toFixed(2)} at the highest spot prices, above the $${budgetUsd} budget`,
      );
    }
  }

  // V7: reported totals equal the recomputed ones.
  if (!close(cost, plan.totals.expectedCostUsd)) {
    violations.push(
      `V7 reported cost $${plan.totals.expectedCostUsd} differs from $${cost} recomputed from instance lifetimes`,
    );
  }
  if (!close(transfer, plan.totals.transferCostUsd ?? 0)) {
    violations.push(
      `V7 reported transfer cost $${plan.totals.transferCostUsd ?? 0} differs from $${transfer} summed over the assignments`,
    );
  }
  for (const assignment of plan.assignments) {
    const home = assignment.instanceIds.every(
      (id) => (instances.get(id)?.region ?? workload.region) === workload.region,
    );
    if (home && (assignment.transferUsd ?? 0) > 0) {
      violations.push(`V7 job '${assignment.jobId}' runs in the home region but is charged a transfer`);
    }
  }
  const budgetCost = plan.totals.budgetCostUsd;
  if (budgetCost !== undefined && !close(recomputeBudgetCostUsd(plan.instances), budgetCost)) {
    violations.push(
      `V7 reported budget cost $${budgetCost} differs from $${recomputeBudgetCostUsd(plan.instances)} recomputed from instance lifetimes`,
    );
  }
  if (Math.abs(makespan - plan.totals.makespanSeconds) > SECONDS_TOLERANCE * Math.max(1, makespan)) {
    violations.push(
      `V7 reported makespan ${plan.totals.makespanSeconds} s differs from the last job's end ${makespan} s`,
    );
  }
  return violations;
}

function gpuViolations(
  id: string,
  type: InstanceType,
  uses: readonly { start: number; end: number; gpus: number; indices?: readonly number[] }[],
): string[] {
  const violations: string[] = [];
  for (const use of uses) {
    if (!Number.isInteger(use.gpus) || use.gpus < 1 || use.gpus > type.gpus) {
      violations.push(`V3 instance ${id} (${type.name}, ${type.gpus} GPUs): a job asks for ${use.gpus} GPUs`);
    }
    if (use.indices !== undefined) {
      const valid = use.indices.every((index) => Number.isInteger(index) && index >= 0 && index < type.gpus);
      if (!valid || new Set(use.indices).size !== use.indices.length || use.indices.length !== use.gpus) {
        violations.push(
          `V3 instance ${id}: GPU indices [${use.indices.join(", ")}] do not name ${use.gpus} distinct GPUs`,
        );
      }
    }
  }
  // Sweep: at every start, the GPUs of the runs in progress fit and their indices are disjoint.
  for (const use of uses) {
    const overlapping = uses.filter((other) => other.start <= use.start && other.end > use.start + SECONDS_TOLERANCE);
    const gpus = overlapping.reduce((sum, other) => sum + other.gpus, 0);
    if (gpus > type.gpus) {
      violations.push(`V3 instance ${id} (${type.gpus} GPUs) runs jobs needing ${gpus} GPUs at ${format(use.start)} s`);
    }
    const indices = overlapping.flatMap((other) => other.indices ?? []);
    if (new Set(indices).size !== indices.length) {
      violations.push(`V3 instance ${id}: a GPU is used by two jobs at ${format(use.start)} s`);
    }
  }
  return [...new Set(violations)];
}

function quotaViolations(
  instances: readonly PlannedInstance[],
  typesByName: ReadonlyMap<string, InstanceType>,
  home: string,
  quotas: QuotaTable,
  quotasByRegion: Readonly<Record<string, QuotaTable>> | undefined,
): string[] {
  const violations: string[] = [];
  const events = new Map<string, { time: number; vcpus: number }[]>();
  for (const instance of instances) {
    const type = typesByName.get(instance.instanceType);
    if (type === undefined) continue;
    const key = `${type.quotaGroups[instance.market]}|${instance.market}|${instance.region ?? home}`;
    const list = events.get(key) ?? [];
    list.push({ time: instance.start, vcpus: type.vcpus }, { time: instance.end, vcpus: -type.vcpus });
    events.set(key, list);
  }
  for (const [key, list] of events) {
    const [group, market, region] = key.split("|") as [keyof QuotaTable, "spot" | "on-demand", string];
    const limit = (quotasByRegion?.[region] ?? quotas)[group][market];
    // Ends before starts at the same moment: an instance that stops when another launches frees its vCPUs.
    list.sort((a, b) => a.time - b.time || a.vcpus - b.vcpus);
    let running = 0;
    for (const event of list) {
      running += event.vcpus;
      if (running > limit) {
        violations.push(
          `V4 ${running} vCPUs of ${group} ${market} instances run at ${format(event.time)} s; the quota is ${limit}`,
        );
        break;
      }
    }
  }
  return violations;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

function format(value: number): string {
  return Number(value.toFixed(3)).toString();
}

function hours(seconds: number): string {
  return (seconds / 3600).toFixed(2);
}
