/**
 * The REST API's routes (API Gateway, every method `AWS_IAM`), each a translation: HTTP
 * in -> a core use-case -> HTTP out. Routing reads `resource` (set by API Gateway and by
 * `saturn local`'s router) and falls back to matching `path`.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { Catalog } from "../core/catalog/types.ts";
import { type Caller, callerOf } from "../core/control-plane/caller.ts";
import {
  type ConsideredReportLink,
  type ConsideredReports,
  type ConsideredSummary,
  groupConsidered,
  summarizeConsidered,
  withoutConsidered,
} from "../core/control-plane/considered-report.ts";
import { WorkloadStateError } from "../core/control-plane/control-plane-errors.ts";
import type { ControlQueues } from "../core/control-plane/control-queues.ts";
import type { StackLimits } from "../core/control-plane/stored-workload.ts";
import { MAX_SUBMIT_BODY_BYTES } from "../core/control-plane/submit-request.ts";
import { submitWorkload } from "../core/control-plane/submit-workload.ts";
import { approveWorkload, cancelWorkload, readOwnWorkload } from "../core/control-plane/workload-requests.ts";
import { workloadView } from "../core/control-plane/workload-view.ts";
import { InvalidWorkloadError } from "../core/errors.ts";
import type { ProfilingPhaseStore, WorkloadRecord, WorkloadStore } from "../core/store/workload-store.ts";
import { HttpRequestError, jsonResponse } from "./http-errors.ts";

export interface ApiRuntime {
  readonly store: WorkloadStore & ProfilingPhaseStore;
  readonly queues: ControlQueues;
  readonly catalog: Catalog;
  readonly limits: StackLimits;
  /** IAM principal ARNs (users, roles) that see every workload. */
  readonly admins: readonly string[];
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  readonly newId: () => string;
  /** The regions the stack covers (AWS_REGION and SATURN_REGIONS): the only ones it launches in. */
  readonly regions?: readonly string[];
  /** Where a plan's `considered` report goes (the bucket); without it the plan route links none. */
  readonly consideredReports?: ConsideredReports;
}

type Route = "submit" | "list" | "get" | "plan" | "approve" | "cancel" | "catalog";

const ROUTES: readonly { readonly resource: string; readonly method: string; readonly route: Route }[] = [
  { resource: "/workloads", method: "POST", route: "submit" },
  { resource: "/workloads", method: "GET", route: "list" },
  { resource: "/workloads/{id}", method: "GET", route: "get" },
  { resource: "/workloads/{id}/plan", method: "GET", route: "plan" },
  { resource: "/workloads/{id}/approve", method: "POST", route: "approve" },
  { resource: "/workloads/{id}/cancel", method: "POST", route: "cancel" },
  { resource: "/catalog", method: "GET", route: "catalog" },
];

const PATTERNS: readonly { readonly resource: string; readonly pattern: RegExp }[] = [
  { resource: "/workloads", pattern: /^\/workloads\/?$/ },
  { resource: "/workloads/{id}", pattern: /^\/workloads\/([^/]+)\/?$/ },
  { resource: "/workloads/{id}/plan", pattern: /^\/workloads\/([^/]+)\/plan\/?$/ },
  { resource: "/workloads/{id}/approve", pattern: /^\/workloads\/([^/]+)\/approve\/?$/ },
  { resource: "/workloads/{id}/cancel", pattern: /^\/workloads\/([^/]+)\/cancel\/?$/ },
  { resource: "/catalog", pattern: /^\/catalog\/?$/ },
];

export interface MatchedRoute {
  readonly route: Route;
  readonly workloadId: string | undefined;
}

export function matchRoute(event: APIGatewayProxyEvent): MatchedRoute {
  let resource = event.resource;
  let workloadId = event.pathParameters?.id ?? undefined;
  if (!ROUTES.some((r) => r.resource === resource)) {
    const path = event.path ?? "";
    const found = PATTERNS.find((p) => p.pattern.test(path));
    if (found === undefined) throw new HttpRequestError(404, `no route for ${event.httpMethod} ${path}`);
    resource = found.resource;
    const id = found.pattern.exec(path)?.[1];
    workloadId = id === undefined ? undefined : decodeURIComponent(id);
  }
  const route = ROUTES.find((r) => r.resource === resource && r.method === event.httpMethod);
  if (route === undefined) {
    const allowed = ROUTES.filter((r) => r.resource === resource).map((r) => r.method);
    throw new HttpRequestError(405, `${event.httpMethod} is not allowed on ${resource}; use ${allowed.join(" or ")}`);
  }
  return { route: route.route, workloadId };
}

function bodyText(event: APIGatewayProxyEvent): string {
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_SUBMIT_BODY_BYTES) {
    throw new HttpRequestError(413, `request body is ${bytes} bytes; at most ${MAX_SUBMIT_BODY_BYTES} are accepted`);
  }
  return text;
}

/** Approve and cancel take no parameters: an empty body or `{}`. */
function expectEmptyBody(text: string): void {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "{}") return;
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch (error) {
    throw new InvalidWorkloadError(
      [{ path: "body", message: `expected no body or {}, got malformed JSON: ${(error as Error).message}` }],
      { subject: "request" },
    );
  }
  const keys = data !== null && typeof data === "object" && !Array.isArray(data) ? Object.keys(data) : undefined;
  const got = keys === undefined ? JSON.stringify(data).slice(0, 60) : `unknown field(s) ${keys.join(", ")}`;
  throw new InvalidWorkloadError([{ path: "body", message: `expected no body or {}, got ${got}` }], {
    subject: "request",
  });
}

export function callerOfEvent(event: APIGatewayProxyEvent, admins: readonly string[]): Caller {
  const principal = event.requestContext?.identity?.userArn;
  if (typeof principal !== "string" || principal === "") {
    throw new HttpRequestError(403, "the request carries no IAM principal; every route needs AWS_IAM (SigV4) auth");
  }
  return callerOf(principal, admins);
}

function headerValue(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

function summaryOf(record: WorkloadRecord) {
  const { specText: _specText, ...summary } = record;
  return { ...summary, statusReason: summary.statusReason ?? null };
}

export async function routeApiRequest(
  runtime: ApiRuntime,
  event: APIGatewayProxyEvent,
  matched: MatchedRoute,
): Promise<APIGatewayProxyResult> {
  const caller = callerOfEvent(event, runtime.admins);
  const text = bodyText(event);
  const now = new Date(runtime.clock()).toISOString();
  const id = matched.workloadId ?? "";
  const deps = { store: runtime.store, queues: runtime.queues };
  switch (matched.route) {
    case "submit": {
      const result = await submitWorkload(deps, {
        caller,
        body: text,
        idempotencyKey: headerValue(event, "Idempotency-Key"),
        newId: runtime.newId(),
        now,
        ...(runtime.regions === undefined ? {} : { deploymentRegions: runtime.regions }),
      });
      return jsonResponse(result.created ? 201 : 200, summaryOf(result.record));
    }
    case "list": {
      const workloads = await runtime.store.list(caller.admin ? undefined : caller.principal);
      return jsonResponse(200, {
        workloads: workloads.map((w) => ({ ...w, statusReason: w.statusReason ?? null })),
      });
    }
    case "get": {
      const record = await readOwnWorkload(runtime.store, id, caller);
      const [execution, audit, profiling] = await Promise.all([
        runtime.store.getExecution(id),
        runtime.store.audit(id),
        runtime.store.getProfilingPhase(id),
      ]);
      const planVersion = execution?.record.planVersion ?? record.planVersion;
      // The record carries the plan in force (without its `considered` report, which the
      // view does not show): no read of the stored plan version once the run started.
      const plan =
        execution?.record.plan ?? (planVersion > 0 ? await runtime.store.getPlan(id, planVersion) : undefined);
      return jsonResponse(200, workloadView(record, plan, execution?.record, audit, profiling?.phase));
    }
    case "plan": {
      const record = await readOwnWorkload(runtime.store, id, caller);
      const execution = await runtime.store.getExecution(id);
      const planVersion = execution?.record.planVersion ?? record.planVersion;
      // The stored plan is what this route answers (storePlanVersion): its `considered`
      // report is in the bucket, written by the planner, and the item has its summary.
      const stored = planVersion > 0 ? await runtime.store.getStoredPlan(id, planVersion) : undefined;
      if (stored === undefined) {
        throw new WorkloadStateError(id, record.status, "it has no plan (yet); see its status for why");
      }
      const { plan } = stored;
      // The profiling phase's price is part of what approving this plan approves.
      const profiling = (await runtime.store.getProfilingPhase(id))?.phase ?? null;
      const reports = runtime.consideredReports;
      let considered: ConsideredSummary & { readonly report: ConsideredReportLink | null };
      if (plan.considered.length > 0) {
        // A plan stored whole (before the planner wrote reports): the answer stays bounded
        // (Lambda answers at most 6 MB) by moving its report to the bucket now.
        const grouped = groupConsidered(id, planVersion, plan.considered);
        considered = {
          ...summarizeConsidered(grouped),
          report: reports === undefined ? null : await reports.publish(grouped),
        };
      } else if (stored.considered !== undefined) {
        considered = {
          ...stored.considered,
          report: reports === undefined ? null : await reports.link(id, planVersion),
        };
      } else {
        considered = { jobs: 0, candidates: 0, distinctLists: 0, report: null };
      }
      return jsonResponse(200, {
        workloadId: id,
        planVersion,
        status: record.status,
        plan: withoutConsidered(plan),
        considered,
        profiling,
      });
    }
    case "approve":
      expectEmptyBody(text);
      return jsonResponse(200, summaryOf(await approveWorkload(deps, id, caller, now)));
    case "cancel":
      expectEmptyBody(text);
      return jsonResponse(202, summaryOf(await cancelWorkload(deps, id, caller, now)));
    case "catalog":
      return jsonResponse(200, {
        ...runtime.catalog,
        stack: {
          allowedInstanceTypes: runtime.limits.allowedInstanceTypes ?? null,
          budgetCapUsd: runtime.limits.budgetCapUsd ?? null,
        },
      });
  }
}
