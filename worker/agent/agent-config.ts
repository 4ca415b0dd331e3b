/**
 * The agent's configuration: where the control plane lives (bucket, queue, region), how
 * to run the harness, and the timings of its loops. Read once, in `main.ts`, from a JSON
 * file (user data writes `/etc/saturn/agent.json`) with `SATURN_*` environment variables
 * over it. Unknown keys and bad values fail at once with the field's name, so a typo in
 * user data stops the agent at boot instead of running with a default nobody chose.
 */
import { z } from "zod";

const seconds = z.number({ error: "expected a number of seconds > 0" }).positive({
  error: "expected a number of seconds > 0",
});

export const agentConfigSchema = z.strictObject({
  /** The stack's bucket: orders, checkpoints, logs, data sets. */
  bucket: z
    .string({ error: "expected an S3 bucket name" })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "expected an S3 bucket name" }),
  /** The worker-event queue (`SATURN_WORKER_EVENTS_QUEUE_URL` in the stack contract). */
  queueUrl: z.url({ error: "expected the worker-event queue URL" }),
  region: z
    .string({ error: "expected an AWS region such as 'us-east-1'" })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "expected an AWS region such as 'us-east-1'" }),
  /** The harness venv's interpreter; it runs `-m torch.distributed.run`. */
  python: z.string().min(1).default("/opt/saturn/venv/bin/python"),
  /** One folder per attempt lives under here; its existence marks the attempt as started. */
  workRoot: z.string().min(1).default("/opt/saturn/work"),
  imdsEndpoint: z.url().default("http://169.254.169.254"),
  /** How the instance ends itself: EC2 TerminateInstances on its own id, or `shutdown -h now`. */
  terminateAction: z.enum(["terminate-instance", "shutdown"]).default("terminate-instance"),
  /** `gpu` sets CUDA_VISIBLE_DEVICES from the assignment; `cpu` leaves it unset (tests, CPU hosts). */
  devices: z.enum(["gpu", "cpu"]).default("gpu"),
  /** `auto`: NCCL over EFA when the instance has an EFA device (`/sys/class/infiniband/*`). */
  efa: z.enum(["auto", "on", "off"]).default("auto"),
  /** Used when IMDS does not expose instance tags (tags in metadata disabled). */
  workloadId: z.string().min(1).optional(),
  ordersPollSeconds: seconds.default(5),
  /** The spot notice comes two minutes ahead; AWS suggests polling every 5 s. */
  interruptionPollSeconds: seconds.default(5),
  heartbeatSeconds: seconds.default(30),
  progressPollSeconds: seconds.default(1),
  /** No assignment running for this long: the instance ends itself. */
  idleShutdownSeconds: seconds.default(900),
  /** No successful S3 orders read or SQS send for this long: the instance ends itself. */
  unreachableShutdownSeconds: seconds.default(900),
  /** A checkpoint stop that has not exited after this long gets SIGTERM, then SIGKILL. */
  stopTimeoutSeconds: seconds.default(90),
  killGraceSeconds: seconds.default(10),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

export class AgentConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentConfigError";
  }
}

/** Environment variables that override the file, by config key. */
export const CONFIG_ENV: Readonly<Record<string, keyof AgentConfig>> = {
  SATURN_BUCKET_NAME: "bucket",
  SATURN_WORKER_EVENTS_QUEUE_URL: "queueUrl",
  AWS_REGION: "region",
  SATURN_AGENT_PYTHON: "python",
  SATURN_AGENT_WORK_ROOT: "workRoot",
  SATURN_AGENT_IMDS_ENDPOINT: "imdsEndpoint",
  SATURN_AGENT_TERMINATE_ACTION: "terminateAction",
  SATURN_AGENT_DEVICES: "devices",
  SATURN_AGENT_EFA: "efa",
  SATURN_AGENT_IDLE_SHUTDOWN_SECONDS: "idleShutdownSeconds",
  SATURN_AGENT_UNREACHABLE_SHUTDOWN_SECONDS: "unreachableShutdownSeconds",
};

const NUMERIC_KEYS = new Set<string>([
  "ordersPollSeconds",
  "interruptionPollSeconds",
  "heartbeatSeconds",
  "progressPollSeconds",
  "idleShutdownSeconds",
  "unreachableShutdownSeconds",
  "stopTimeoutSeconds",
  "killGraceSeconds",
]);

/** Merges the file's object and the environment, then validates; throws AgentConfigError naming each bad field. */
export function parseAgentConfig(fileContent: unknown, env: Readonly<Record<string, string | undefined>>): AgentConfig {
  if (
    fileContent !== undefined &&
    (typeof fileContent !== "object" || fileContent === null || Array.isArray(fileContent))
  )
    throw new AgentConfigError(`agent config: expected a JSON object, got ${JSON.stringify(fileContent)}`);
  const merged: Record<string, unknown> = { ...(fileContent as Record<string, unknown> | undefined) };
  for (const [name, key] of Object.entries(CONFIG_ENV)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    merged[key] = NUMERIC_KEYS.has(key) ? Number(value) : value;
  }
  const parsed = agentConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.join(".") || "(root)";
      const got = issue.path.length > 0 ? merged[String(issue.path[0])] : merged;
      return `${field}: ${issue.message}, got ${got === undefined ? "nothing" : JSON.stringify(got)}`;
    });
    throw new AgentConfigError(`agent config is invalid: ${problems.join("; ")}`);
  }
  return parsed.data;
}
