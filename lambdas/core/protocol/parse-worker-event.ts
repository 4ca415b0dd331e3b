/**
 * One worker message body -> a validated event, or every problem with it (each naming the
 * field, what was expected and what came). Pure; the ingest adapter decides what to store.
 */
import { formatIssues } from "../spec/format-issues.ts";
import { type WorkerEvent, workerEventSchema } from "./worker-protocol.ts";

export type ParsedWorkerEvent =
  | { readonly ok: true; readonly event: WorkerEvent }
  | { readonly ok: false; readonly issues: readonly string[] };

export function parseWorkerEvent(body: string): ParsedWorkerEvent {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [`(body): expected a JSON worker event, got text that is not JSON (${reason})`] };
  }
  const parsed = workerEventSchema.safeParse(data);
  if (parsed.success) return { ok: true, event: parsed.data };
  return {
    ok: false,
    issues: formatIssues(parsed.error.issues, data).map((issue) => `${issue.path || "(body)"}: ${issue.message}`),
  };
}
