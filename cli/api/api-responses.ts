/**
 * What the CLI reads from the API's answers, parsed with zod so that a server of another
 * version fails with a message naming the field rather than printing `undefined`. Only
 * the fields the CLI shows are required; everything else passes through untouched, so
 * the server may add fields freely (docs/control-plane.md, "API", is the full shape).
 */
import { z } from "zod";
import { formatIssues } from "../../lambdas/core/spec/format-issues.ts";

export const WORKLOAD_STATUSES = [
  "planning",
  "planned",
  "infeasible",
  "approved",
  "profiling",
  "running",
  "completed",
  "failed",
  "cancelled",
  "stopped-for-budget",
] as const;

const summarySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  status: z.enum(WORKLOAD_STATUSES),
  statusReason: z.string().nullish(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number(),
  planVersion: z.number(),
  jobCount: z.number(),
  cancelRequested: z.boolean(),
});
export type WorkloadSummaryView = z.infer<typeof summarySchema>;

const jobProgressSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  samplesDone: z.number(),
  totalSamples: z.number(),
  samplesPerSecond: z.number().nullish(),
  reason: z.string().nullish(),
});
export type JobProgressView = z.infer<typeof jobProgressSchema>;

const instanceSchema = z.looseObject({
  id: z.string(),
  instanceType: z.string(),
  market: z.string(),
  state: z.string(),
  availabilityZone: z.string().nullish(),
  region: z.string().nullish(),
  slot: z.string().nullish(),
});
export type InstanceView = z.infer<typeof instanceSchema>;

const eventSchema = z.looseObject({ at: z.string(), kind: z.string(), detail: z.unknown().optional() });
export type EventView = z.infer<typeof eventSchema>;

/** `GET /workloads/{id}`: the summary's fields, plus plan totals, spend, jobs, instances and recent actions. */
const workloadDetailSchema = summarySchema.extend({
  objective: z.string(),
  plan: z
    .looseObject({
      version: z.number(),
      expectedCostUsd: z.number(),
      worstCaseCostUsd: z.number(),
      makespanSeconds: z.number(),
      instances: z.number(),
    })
    .nullable(),
  spend: z.looseObject({
    spentUsd: z.number(),
    budgetUsd: z.number().nullable(),
    /** Epoch seconds. */
    deadlineAt: z.number().nullable(),
    startedAt: z.number().nullable(),
  }),
  jobs: z.array(jobProgressSchema),
  instances: z.array(instanceSchema),
  /** Epoch seconds of the control plane's last observation (its clock, which the local stack may accelerate). */
  observedAt: z.number().nullable(),
  recentActions: z.array(eventSchema),
});
export type WorkloadDetailView = z.infer<typeof workloadDetailSchema>;

const plannedInstanceSchema = z.looseObject({
  id: z.string(),
  instanceType: z.string(),
  market: z.string(),
  start: z.number(),
  end: z.number(),
  hourlyPriceUsd: z.number(),
  region: z.string().optional(),
});
const planSchema = z.looseObject({
  workload: z.string(),
  objective: z.string(),
  instances: z.array(plannedInstanceSchema),
  assignments: z.array(z.looseObject({ jobId: z.string(), instanceIds: z.array(z.string()) })),
  totals: z.looseObject({
    expectedCostUsd: z.number(),
    makespanSeconds: z.number(),
    budgetCostUsd: z.number().optional(),
    transferCostUsd: z.number().optional(),
  }),
  gap: z.number(),
  solveSeconds: z.number(),
});
/** The profiling phase proposed with (or run before) the plan; absent from stacks older than it. */
const profilingSchema = z.looseObject({
  status: z.string(),
  estimatedCostUsd: z.number(),
  spentUsd: z.number(),
  settings: z.looseObject({ budgetUsd: z.number(), maxMinutes: z.number() }),
  runs: z.array(z.looseObject({ status: z.string() })),
});
const planAnswerSchema = z.looseObject({
  workloadId: z.string(),
  planVersion: z.number(),
  plan: planSchema,
  profiling: profilingSchema.nullish(),
  /**
   * The plan's `considered` report, which the plan above leaves out (it can be hundreds of
   * MB): its size and a presigned link to it. Absent from stacks older than it.
   */
  considered: z
    .looseObject({
      jobs: z.number(),
      candidates: z.number(),
      distinctLists: z.number(),
      report: z.looseObject({ url: z.string(), expiresAt: z.string() }).nullable(),
    })
    .nullish(),
});
/** The grouped report behind the link (lambdas/core/control-plane/considered-report.ts). */
export const groupedConsideredSchema = z.looseObject({
  schemaVersion: z.literal(1),
  workloadId: z.string(),
  planVersion: z.number(),
  lists: z.array(z.array(z.looseObject({ chosen: z.boolean() }))),
  index: z.array(z.tuple([z.string(), z.number().int().nonnegative()])),
});
export type PlanAnswerView = z.infer<typeof planAnswerSchema>;

export class UnexpectedAnswerError extends Error {
  override readonly name = "UnexpectedAnswerError";
  constructor(what: string, problems: readonly string[]) {
    super(
      `the API's answer to ${what} does not have the expected shape (is the CLI older than the stack?): ${problems.join("; ")}`,
    );
  }
}

function parseAnswer<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new UnexpectedAnswerError(
    what,
    formatIssues(parsed.error.issues, data).map((issue) => `${issue.path}: ${issue.message}`),
  );
}

export const parseSummary = (data: unknown, what: string) => parseAnswer(summarySchema, data, what);
export const parseList = (data: unknown, what: string) =>
  parseAnswer(z.looseObject({ workloads: z.array(summarySchema) }), data, what).workloads;
export const parseDetail = (data: unknown, what: string) => parseAnswer(workloadDetailSchema, data, what);
export const parsePlanAnswer = (data: unknown, what: string) => parseAnswer(planAnswerSchema, data, what);
export const parseGroupedConsidered = (data: unknown, what: string) => parseAnswer(groupedConsideredSchema, data, what);
