/**
 * The worker protocol: every message between the control plane and the agent on a GPU
 * instance. One set of zod schemas, used by the agent (`worker/`), the worker-event ingest
 * Lambda, the reconciler's worker adapter and the simulated workers. `docs/worker-protocol.md`
 * documents it; a change that a deployed agent could not read bumps `WORKER_PROTOCOL`.
 *
 * Two channels, both level-triggered and idempotent:
 *
 * - **Orders** (control plane -> agent): one JSON document per instance, in S3 at
 *   `ordersKey(workloadId, instanceId)`, rewritten whole by the reconciler. It lists the
 *   attempts the instance must run now and the attempts it must stop. The agent polls it
 *   (conditional GET on its ETag), starts each listed attempt it has not started, and never
 *   starts an attempt id twice. An attempt missing from the document is not a stop: only a
 *   `stops` entry (or the workload ending) stops it, so a torn read stops nothing.
 * - **Events** (agent -> control plane): one SQS message each, on the worker-event queue.
 *   Every event names its workload, instance, job and attempt and carries a unique
 *   `eventId`; the ingest folds them as unions or maxima, so duplicates and reordering
 *   change nothing twice. A message that fails these schemas is recorded and dead-lettered.
 *
 * Times are ISO 8601 strings on the wire (the agent's clock); progress is in samples, the
 * unit the planner counts work in.
 */
import { z } from "zod";
import { profileRecordSchema } from "../estimator/profile-record-schema.ts";
import { isBuiltInTechnique, pluginSchema, techniqueNameSchema } from "../spec/workload-schema.ts";

export const WORKER_PROTOCOL = "saturn.worker/v1" as const;

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
  error: "expected 1-128 characters of letters, digits, '.', '_', ':' or '-'",
});
/**
 * Attempt ids as the reconciler makes them (`<jobId>#<n>`): the id alphabet plus '#'.
 * Job ids never contain '#', so the attempt number is the part after the last '#'.
 */
const attemptId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:#-]{0,127}$/, {
  error: "expected 1-128 characters of letters, digits, '.', '_', ':', '#' or '-'",
});
const instanceId = z.string().regex(/^i-[0-9a-z]{1,32}$/, { error: "expected an EC2 instance id such as 'i-0abc123'" });
const s3Uri = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/, {
  error: "expected an s3://bucket/key location",
});
const isoTime = z.iso.datetime({
  offset: true,
  error: "expected an ISO 8601 date-time such as '2026-12-01T13:00:00Z'",
});
const nonNegativeInt = z.int({ error: "expected an integer >= 0" }).min(0, { error: "expected an integer >= 0" });
const positiveInt = z.int({ error: "expected an integer >= 1" }).min(1, { error: "expected an integer >= 1" });
const nonNegative = z
  .number({ error: "expected a number >= 0" })
  .nonnegative({ error: "expected a number >= 0" })
  .finite({ error: "expected a finite number >= 0" });
const hyperparameterValue = z.union([z.number(), z.string(), z.boolean()], {
  error: "expected a number, string or boolean",
});

/**
 * What the harness trains. `model` is a preset name or an architecture the harness can
 * build from a config (tiny test models, Hugging Face configs); `entrypoint` is a built-in
 * recipe or a user module (`get_model`, `get_dataloader`, `loss_fn`) fetched from S3.
 */
export const trainingTaskSchema = z.strictObject({
  model: z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
    error: "expected a model preset name or a model config object",
  }),
  method: z.enum(["full", "lora"]),
  loraRank: positiveInt.optional(),
  batchSize: positiveInt,
  sequenceLength: nonNegativeInt,
  totalSamples: positiveInt,
  entrypoint: z.union(
    [
      z.strictObject({ recipe: z.enum(["causal-lm", "image-classification"]), dataset: z.string().min(1).optional() }),
      z.strictObject({ script: z.string().regex(/^(s3|https):\/\/\S+$/), args: z.array(z.string()) }),
    ],
    { error: "expected {recipe, dataset?} or {script, args}" },
  ),
  hyperparameters: z.record(z.string(), hyperparameterValue),
});
export type TrainingTask = z.infer<typeof trainingTaskSchema>;

/** One attempt of one job on the instances that run it (every node gets the same attempt). */
export const assignmentSchema = z
  .strictObject({
    workloadId: id,
    jobId: id,
    /** Unique per attempt; the agent never starts the same attempt id twice. */
    attemptId,
    planVersion: positiveInt,
    /** A built-in technique, or a plug-in's name (then `plugin` says where its module is). */
    technique: techniqueNameSchema,
    /** All instances of the attempt, node rank 0 first. */
    instanceIds: z.array(instanceId).min(1),
    gpusPerInstance: positiveInt,
    /** CUDA_VISIBLE_DEVICES on every node (a bundle shares an instance by GPU index). */
    gpuIndices: z.array(nonNegativeInt).min(1),
    /**
     * torchrun `--rdzv-endpoint` for multi-node attempts: node 0's private address and port,
     * filled in by the control plane from DescribeInstances. Null for a single node.
     */
    rendezvous: z.strictObject({ endpoint: z.string().regex(/^[0-9a-zA-Z.-]+:\d{2,5}$/), id: attemptId }).nullable(),
    task: trainingTaskSchema,
    /** Where checkpoints go (a prefix) and where to resume from (null: from scratch). */
    checkpoint: z.strictObject({
      prefix: s3Uri,
      intervalSeconds: positiveInt,
      resumeFrom: z.strictObject({ uri: s3Uri, samples: nonNegativeInt }).nullable(),
    }),
    checkpointable: z.boolean(),
    plannedSamplesPerSecond: nonNegative,
    /** Profile mode: measure these configurations and report `throughput-measured`, then complete. */
    profile: z
      .strictObject({
        warmupSteps: nonNegativeInt,
        measuredSteps: positiveInt,
        jobSignature: z.string().min(1),
      })
      .nullable(),
    /**
     * The plug-in technique's declaration from the workload spec (additive): the agent
     * fetches its module (s3:// or https://, or imports a module name) and names it in the
     * harness's `options.plugins`. Absent or null for a built-in technique.
     */
    plugin: pluginSchema.nullable().optional(),
  })
  .superRefine((assignment, ctx) => {
    if (isBuiltInTechnique(assignment.technique)) {
      if (assignment.plugin != null) {
        ctx.addIssue({
          code: "custom",
          path: ["plugin"],
          message: `expected null for the built-in technique '${assignment.technique}'`,
        });
      }
    } else if (assignment.plugin?.name !== assignment.technique) {
      ctx.addIssue({
        code: "custom",
        path: ["plugin"],
        message: `expected the declaration of plug-in technique '${assignment.technique}' ({name, module}), got ${assignment.plugin == null ? "none" : `'${assignment.plugin.name}'`}`,
      });
    }
  });
export type AssignmentMessage = z.infer<typeof assignmentSchema>;

export const stopOrderSchema = z.strictObject({
  attemptId,
  /** `checkpoint`: save at the next step boundary, then exit; `abandon`: exit now (cancel). */
  mode: z.enum(["checkpoint", "abandon"]),
  reason: z.string().max(500),
});
export type StopOrder = z.infer<typeof stopOrderSchema>;

/** The orders document for one instance. */
export const instanceOrdersSchema = z.strictObject({
  protocol: z.literal(WORKER_PROTOCOL),
  workloadId: id,
  instanceId,
  /** Increases with every rewrite; an agent ignores a document older than one it has read. */
  sequence: nonNegativeInt,
  writtenAt: isoTime,
  assignments: z.array(assignmentSchema),
  stops: z.array(stopOrderSchema),
  /** True once the workload ended for this instance: stop everything, then shut down. */
  shutdown: z.boolean(),
});
export type InstanceOrders = z.infer<typeof instanceOrdersSchema>;

const eventBase = {
  protocol: z.literal(WORKER_PROTOCOL),
  /** Unique per event (a UUID); duplicates carry the same id. */
  eventId: z.string().min(8).max(64),
  workloadId: id,
  instanceId,
  sentAt: isoTime,
};
const attemptBase = { ...eventBase, jobId: id, attemptId };

export const workerEventSchema = z.discriminatedUnion(
  "kind",
  [
    /** The agent is up and polling; sent at boot and every heartbeat interval while idle. */
    z.strictObject({ ...eventBase, kind: z.literal("agent-alive"), runningAttempts: z.array(attemptId) }),
    z.strictObject({
      ...attemptBase,
      kind: z.literal("heartbeat"),
      samplesDone: nonNegativeInt,
      /** Measured since the attempt started; null before the first step completes. */
      samplesPerSecond: nonNegative.nullable(),
      peakGpuMemoryBytes: nonNegativeInt.nullable(),
    }),
    z.strictObject({
      ...attemptBase,
      kind: z.literal("checkpoint-saved"),
      samples: nonNegativeInt,
      uri: s3Uri,
    }),
    z.strictObject({ ...attemptBase, kind: z.literal("completed"), samples: positiveInt, finalUri: s3Uri.nullable() }),
    z.strictObject({
      ...attemptBase,
      kind: z.literal("stopped"),
      /** Samples in the checkpoint it saved before exiting (0 when nothing was saved). */
      samples: nonNegativeInt,
      reason: z.enum(["stop-order", "spot-interruption", "rebalance", "shutdown"]),
    }),
    z.strictObject({
      ...attemptBase,
      kind: z.literal("failed"),
      exitCode: z.int(),
      /** The last lines of the harness's output, at most 8 KiB. */
      logTail: z.string().max(8192),
      reason: z.string().max(500),
    }),
    z.strictObject({ ...attemptBase, kind: z.literal("throughput-measured"), record: profileRecordSchema }),
    /**
     * The agent read an orders document (or an assignment in it) that fails these schemas
     * and ignored it. Attempt-level faults with a readable job and attempt id are reported
     * as `failed` instead; this names what could not be tied to an attempt.
     */
    z.strictObject({
      ...eventBase,
      kind: z.literal("orders-rejected"),
      /** The document's `sequence` when it could be read, else null. */
      sequence: nonNegativeInt.nullable(),
      /** Each problem as `path: message`, at most 4 KiB in all. */
      problems: z.string().max(4096),
    }),
    /** The instance's own IMDS announced a spot interruption or rebalance recommendation. */
    z.strictObject({
      ...eventBase,
      kind: z.literal("interruption-notice"),
      notice: z.enum(["spot-instance-action", "rebalance-recommendation"]),
      actionAt: isoTime.nullable(),
    }),
  ],
  {
    error:
      "expected a worker event with kind agent-alive, heartbeat, checkpoint-saved, completed, stopped, failed, throughput-measured, orders-rejected or interruption-notice",
  },
);
export type WorkerEvent = z.infer<typeof workerEventSchema>;
export type WorkerEventKind = WorkerEvent["kind"];

/** S3 layout under the stack's bucket. Keys only: the bucket name comes from configuration. */
export const bucketLayout = {
  orders: (workloadId: string, instanceId: string) => `workloads/${workloadId}/orders/${instanceId}.json`,
  checkpointPrefix: (workloadId: string, jobId: string) => `workloads/${workloadId}/checkpoints/${jobId}/`,
  logs: (workloadId: string, jobId: string, attemptId: string) =>
    `workloads/${workloadId}/logs/${jobId}/${attemptId}.log`,
  agentBundle: (version: string) => `agent/${version}/saturn-agent.tgz`,
} as const;
