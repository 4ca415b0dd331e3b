/** The Saturn API's routes as typed calls (docs/control-plane.md, "API"). */
import { gunzipSync } from "node:zlib";
import { type GroupedConsidered, ungroupConsidered } from "../../lambdas/core/control-plane/considered-report.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import {
  type PlanAnswerView,
  parseDetail,
  parseGroupedConsidered,
  parseList,
  parsePlanAnswer,
  parseSummary,
  type WorkloadDetailView,
  type WorkloadSummaryView,
} from "./api-responses.ts";
import type { SaturnApiClient } from "./saturn-api-client.ts";

export class ConsideredReportFetchError extends Error {
  override readonly name = "ConsideredReportFetchError";
}

export class WorkloadApi {
  readonly #client: SaturnApiClient;
  readonly #fetch: (url: string) => Promise<Response>;

  constructor(client: SaturnApiClient, fetchUrl: (url: string) => Promise<Response> = (url) => fetch(url)) {
    this.#client = client;
    this.#fetch = fetchUrl;
  }

  get endpoint() {
    return this.#client.endpoint;
  }

  /** POST /workloads; a repeat with the same key answers the first workload. */
  async submit(specText: string, idempotencyKey: string): Promise<WorkloadSummaryView> {
    const answer = await this.#client.request({
      method: "POST",
      path: "workloads",
      body: { spec: specText },
      headers: { "idempotency-key": idempotencyKey },
    });
    return parseSummary(unwrap(answer), "POST /workloads");
  }

  async list(): Promise<readonly WorkloadSummaryView[]> {
    return parseList(await this.#client.request({ method: "GET", path: "workloads" }), "GET /workloads");
  }

  async get(id: string): Promise<WorkloadDetailView> {
    const path = `workloads/${encodeURIComponent(id)}`;
    return parseDetail(await this.#client.request({ method: "GET", path }), `GET /${path}`);
  }

  async plan(id: string): Promise<PlanAnswerView> {
    const path = `workloads/${encodeURIComponent(id)}/plan`;
    return parsePlanAnswer(await this.#client.request({ method: "GET", path }), `GET /${path}`);
  }

  /**
   * The plan's `considered` report through the answer's presigned link (a plain GET: the
   * link carries its own signature); undefined when the answer links none.
   */
  async consideredReport(answer: PlanAnswerView): Promise<Plan["considered"] | undefined> {
    const link = answer.considered?.report;
    if (link === undefined || link === null) return undefined;
    const what = `the considered report of ${answer.workloadId} plan v${answer.planVersion}`;
    const response = await this.#fetch(link.url);
    if (!response.ok) {
      throw new ConsideredReportFetchError(
        `Expected ${what} from its link (valid until ${link.expiresAt}), got HTTP ${response.status}; run the command again for a fresh link`,
      );
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    // fetch inflates `Content-Encoding: gzip` itself; a server that does not set it sends the gzip bytes.
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
    const grouped = parseGroupedConsidered(JSON.parse(text), what);
    return ungroupConsidered(grouped as unknown as GroupedConsidered);
  }

  async approve(id: string): Promise<WorkloadSummaryView> {
    const path = `workloads/${encodeURIComponent(id)}/approve`;
    return parseSummary(unwrap(await this.#client.request({ method: "POST", path })), `POST /${path}`);
  }

  async cancel(id: string): Promise<WorkloadSummaryView> {
    const path = `workloads/${encodeURIComponent(id)}/cancel`;
    return parseSummary(unwrap(await this.#client.request({ method: "POST", path })), `POST /${path}`);
  }
}

/** Accepts both `{...summary}` and `{workload: {...summary}}`. */
function unwrap(answer: unknown): unknown {
  if (answer !== null && typeof answer === "object" && "workload" in answer && !("id" in answer)) {
    return (answer as { workload: unknown }).workload;
  }
  return answer;
}
