/**
 * The worker's EC2 user data, for the main stack's launch template: `worker/user-data.sh`
 * with its placeholders filled in. Values may be CDK tokens (the bucket name, the queue
 * URL); CDK resolves tokens embedded in the string at synthesis.
 */
import { readFileSync } from "node:fs";

export const WORKER_USER_DATA_FILE = new URL("../worker/user-data.sh", import.meta.url).pathname;

export interface WorkerUserDataValues {
  readonly bucketName: string;
  readonly workerEventsQueueUrl: string;
  readonly region: string;
  /** The `agent/<version>/saturn-agent.tgz` the bootstrap fetches when the image is not baked. */
  readonly agentVersion: string;
}

export class WorkerUserDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerUserDataError";
  }
}

export function renderWorkerUserData(
  values: WorkerUserDataValues,
  template = readFileSync(WORKER_USER_DATA_FILE, "utf8"),
): string {
  const filled = template
    .replaceAll("__SATURN_BUCKET__", values.bucketName)
    .replaceAll("__SATURN_QUEUE_URL__", values.workerEventsQueueUrl)
    .replaceAll("__SATURN_REGION__", values.region)
    .replaceAll("__SATURN_AGENT_VERSION__", values.agentVersion);
  const left = filled.match(/__SATURN_[A-Z_]+__/);
  if (left) throw new WorkerUserDataError(`worker user data: no value for the placeholder ${left[0]}`);
  return filled;
}
