/** The Saturn API's routes as typed calls (docs/control-plane.md, "API"). */
import {
  type PlanAnswerView,
  parseDetail,
  parseList,
  parsePlanAnswer,
  parseSummary,
  type WorkloadDetailView,
  type WorkloadSummaryView,
} from "./api-responses.ts";
import type { SaturnApiClient } from "./saturn-api-client.ts";

export class WorkloadApi {
  readonly #client: SaturnApiClient;

  constructor(client: SaturnApiClient) {
    this.#client = client;
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
