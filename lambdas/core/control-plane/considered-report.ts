/**
 * `GET /workloads/{id}/plan` answers the plan without its `considered` report (every job's
 * configurations next to the one chosen): at 1,000 jobs that report is ~207 MB of JSON,
 * far beyond Lambda's 6 MB response limit, while the rest of a plan grows with its jobs
 * and instances only (about 0.5 KB a job). The report goes to the stack's bucket instead,
 * grouped (sweep clones share one candidate list), and the answer carries a summary and a
 * short-lived link to it (`ConsideredReports`, the S3 adapter).
 */
import type { Plan } from "../planner/plan.ts";

type Considered = Plan["considered"];
type Candidates = Considered[number]["candidates"];

/** The report as stored: distinct candidate lists, and each job's index into them. */
export interface GroupedConsidered {
  readonly schemaVersion: 1;
  readonly workloadId: string;
  readonly planVersion: number;
  readonly lists: readonly Candidates[];
  /** [jobId, index into `lists`], in the plan's order. */
  readonly index: readonly (readonly [string, number])[];
}

export interface ConsideredSummary {
  readonly jobs: number;
  /** Candidates over all jobs (what the full report lists). */
  readonly candidates: number;
  /** Distinct candidate lists (the grouped report's size). */
  readonly distinctLists: number;
}

export interface ConsideredReportLink {
  /** A presigned GET of the grouped report (gzip JSON); no AWS credentials needed to read it. */
  readonly url: string;
  /** ISO time after which the link no longer works. */
  readonly expiresAt: string;
}

/**
 * Where the reports live (the S3 adapter, s3-considered-reports.ts). The planner and the
 * reconciler `put` the report of each plan version they store (storePlanVersion); the API
 * only `link`s to it, and `publish`es one only for a plan stored whole before that.
 */
export interface ConsideredReports {
  /** Stores the report of a plan version once (plan versions never change). */
  put(report: GroupedConsidered): Promise<void>;
  /** A short-lived link to the stored report of a plan version. */
  link(workloadId: string, planVersion: number): Promise<ConsideredReportLink>;
  /** `put`, then `link`. */
  publish(report: GroupedConsidered): Promise<ConsideredReportLink>;
}

/**
 * Groups equal candidate lists. Lists read back from the store are shared objects (the store
 * keeps them grouped too), so identity finds most repeats without serialising each list.
 */
export function groupConsidered(workloadId: string, planVersion: number, considered: Considered): GroupedConsidered {
  const lists: Candidates[] = [];
  const byIdentity = new Map<Candidates, number>();
  const byContent = new Map<string, number>();
  const index: [string, number][] = [];
  for (const entry of considered) {
    let at = byIdentity.get(entry.candidates);
    if (at === undefined) {
      const key = JSON.stringify(entry.candidates);
      at = byContent.get(key);
      if (at === undefined) {
        at = lists.length;
        lists.push(entry.candidates);
        byContent.set(key, at);
      }
      byIdentity.set(entry.candidates, at);
    }
    index.push([entry.jobId, at]);
  }
  return { schemaVersion: 1, workloadId, planVersion, lists, index };
}

export class ConsideredReportError extends Error {
  override readonly name = "ConsideredReportError";
}

/** The plan's `considered` again, from the grouped report. */
export function ungroupConsidered(report: GroupedConsidered): Considered {
  return report.index.map(([jobId, at]) => {
    const candidates = report.lists[at];
    if (candidates === undefined) {
      throw new ConsideredReportError(
        `Expected candidate list ${at} for job ${jobId} in the considered report, got ${report.lists.length} lists`,
      );
    }
    return { jobId, candidates };
  });
}

export function summarizeConsidered(report: GroupedConsidered): ConsideredSummary {
  return {
    jobs: report.index.length,
    candidates: report.index.reduce((sum, [, at]) => sum + (report.lists[at]?.length ?? 0), 0),
    distinctLists: report.lists.length,
  };
}

/** The plan as the route answers it: everything but the report. */
export function withoutConsidered(plan: Plan): Plan {
  return { ...plan, considered: [] };
}
