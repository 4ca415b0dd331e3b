/**
 * The workload spec: what a user writes (YAML or JSON) and what the API accepts.
 * Every object is strict: an unknown key is an error, so a typo never passes silently.
 * `docs/workload.md` documents each field; `saturn schema` prints it as JSON Schema.
 */
import { z } from "zod";
import { MODEL_PRESET_NAMES } from "../models/presets.ts";

/** The built-in techniques: the estimator models these (docs/estimator.md). */
export const TECHNIQUES = ["ddp", "fsdp", "fsdp-offload", "pipeline"] as const;
export type BuiltInTechnique = (typeof TECHNIQUES)[number];
/**
 * A technique a job may run under: a built-in, or the name of a plug-in the workload
 * declares in `plugins` (docs/workload.md, "Plug-in techniques"). A plug-in name is any
 * string the spec validated; only the built-ins are known statically.
 */
export type Technique = BuiltInTechnique | (string & {});

export function isBuiltInTechnique(technique: string): technique is BuiltInTechnique {
  return (TECHNIQUES as readonly string[]).includes(technique);
}

/**
 * A technique's name on every wire (spec, profile records, the worker protocol): what the
 * harness's registry accepts (letters, digits, '-' and '_').
 */
export const techniqueNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
  error: "expected a technique name of 1-63 letters, digits, '-' or '_', starting with a letter or digit",
});

/**
 * Where the worker finds a plug-in's Python module: an `s3://` or `https://` location of a
 * `.py` file (downloaded by the agent), or a dotted module name importable on the worker.
 */
export const pluginModuleSchema = z
  .string()
  .regex(/^((s3|https):\/\/\S+\.py|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$/, {
    error:
      "expected an s3:// or https:// location of a .py file, or a dotted Python module name such as 'my_plugins.accumulate'",
  });

export const MARKETS = ["spot", "on-demand"] as const;
export type Market = (typeof MARKETS)[number];

/** Quota groups as EC2 counts them (vCPUs). See `lambdas/core/catalog/quotas.ts`. */
export const QUOTA_GROUPS = ["G", "P", "P5"] as const;
export type QuotaGroup = (typeof QUOTA_GROUPS)[number];

export const RECIPES = ["causal-lm", "image-classification"] as const;

const identifier = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
  error: "expected 1-63 characters of letters, digits, '.', '_' or '-', starting with a letter or digit",
});

const positiveNumber = z
  .number({ error: "expected a number > 0" })
  .positive({ error: "expected a number > 0" })
  .finite({ error: "expected a finite number > 0" });
const positiveInt = z.int({ error: "expected an integer >= 1" }).min(1, { error: "expected an integer >= 1" });

/** An instance type (`p4d.24xlarge`) or a whole family (`g6e`). */
const instanceTypeOrFamily = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z0-9]+)?$/, {
  error: "expected an instance type such as 'p4d.24xlarge' or a family such as 'g6e'",
});

const awsRegion = z
  .string({ error: "expected an AWS region such as 'us-east-1'" })
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: "expected an AWS region such as 'us-east-1'" });

export const objectiveSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("min-cost"),
    /** Every job finishes within this many hours of the plan's start. */
    deadlineHours: positiveNumber,
  }),
  z.strictObject({
    kind: z.literal("min-time"),
    /** Hard limit on total spend, USD. */
    budgetUsd: positiveNumber,
  }),
  z.strictObject({
    kind: z.literal("pareto"),
    /** Optional outer bounds of the frontier. */
    deadlineHours: positiveNumber.optional(),
    budgetUsd: positiveNumber.optional(),
    /** How many frontier points to compute (at least 5). */
    points: z.int().min(5).max(50).default(7),
  }),
]);
export type Objective = z.infer<typeof objectiveSchema>;

export const customModelSchema = z.strictObject({
  family: z.enum(["decoder", "vit", "cnn"]),
  parameters: z.number().int().min(1_000),
  layers: positiveInt,
  hiddenSize: positiveInt,
  sequenceLength: z.int().min(0).default(0),
  vocabularySize: z.int().min(0).default(0),
  forwardFlopsPerSample: z.number().min(0).default(0),
  /** Mixture of experts: parameters one token passes through (compute); `parameters` is every expert (memory). */
  activeParameters: z.number().int().min(1_000).optional(),
});

/**
 * A Hugging Face config.json: a path (read by the CLI, relative to the spec file) or the
 * parsed object itself (what the API accepts). `lambdas/core/models/hugging-face-config.ts`.
 */
export const huggingFaceModelSchema = z.strictObject({
  huggingFaceConfig: z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
    error: "expected a path to a config.json or the config object itself",
  }),
});

export const workSchema = z
  .strictObject({
    samples: positiveInt.optional(),
    epochs: positiveNumber.optional(),
    datasetSamples: positiveInt.optional(),
    steps: positiveInt.optional(),
  })
  .superRefine((work, ctx) => {
    const forms = [
      work.samples !== undefined,
      work.epochs !== undefined || work.datasetSamples !== undefined,
      work.steps !== undefined,
    ].filter(Boolean).length;
    if (forms !== 1) {
      ctx.addIssue({
        code: "custom",
        message: "expected exactly one of {samples}, {epochs, datasetSamples} or {steps}",
      });
    } else if ((work.epochs === undefined) !== (work.datasetSamples === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [work.epochs === undefined ? "epochs" : "datasetSamples"],
        message: "expected epochs and datasetSamples together",
      });
    }
  });

const hyperparameterValue = z.union([z.number(), z.string(), z.boolean()], {
  error: "expected a number, string or boolean",
});

export const entrypointSchema = z.union(
  [
    z.strictObject({ recipe: z.enum(RECIPES) }),
    z.strictObject({
      script: z.string().regex(/^(s3|https):\/\/\S+$/, { error: "expected an s3:// or https:// location" }),
      args: z.array(z.string()).default([]),
    }),
  ],
  { error: "expected {recipe: 'causal-lm' | 'image-classification'} or {script: 's3://...', args?: [...]}" },
);

export const jobSchema = z
  .strictObject({
    id: identifier,
    model: z.union([z.enum(MODEL_PRESET_NAMES as [string, ...string[]]), huggingFaceModelSchema, customModelSchema], {
      error:
        `expected a preset (${MODEL_PRESET_NAMES.join(", ")}), {huggingFaceConfig: path/to/config.json} ` +
        "or {family, parameters, layers, hiddenSize, ...}",
    }),
    method: z.enum(["full", "lora"]).default("full"),
    loraRank: z.int().min(1).max(1024).optional(),
    /** Global batch size in samples per optimizer step. */
    batchSize: positiveInt,
    /** Overrides the model's sequence length (decoders). */
    sequenceLength: positiveInt.optional(),
    work: workSchema,
    /** Built-ins and plug-ins declared in the workload's `plugins`; checked against them below. */
    techniques: z
      .array(techniqueNameSchema)
      .min(1)
      .default([...TECHNIQUES]),
    checkpointable: z.boolean().default(true),
    /**
     * Size of the job's training data in GiB, read from the home region. Default: the
     * samples it trains on once, at 4 bytes per token (decoders) or 110 KiB per image.
     */
    datasetGiB: z.number().min(0).finite().optional(),
    deadlineHours: positiveNumber.optional(),
    entrypoint: entrypointSchema.optional(),
    hyperparameters: z.record(z.string(), hyperparameterValue).default({}),
    /** Expands this job into the cartesian product of the listed values; ids get a suffix. */
    sweep: z.record(z.string(), z.array(hyperparameterValue).min(1)).optional(),
  })
  .superRefine((job, ctx) => {
    if (job.loraRank !== undefined && job.method !== "lora") {
      ctx.addIssue({ code: "custom", path: ["loraRank"], message: "expected loraRank only with method 'lora'" });
    }
  });

export const quotaOverrideSchema = z.strictObject({
  /** The region the quota holds in (quotas are per region); absent: every region of the workload. */
  region: awsRegion.optional(),
  group: z.enum(QUOTA_GROUPS),
  market: z.enum(MARKETS),
  vcpus: z.int().min(0),
});

export const spotSettingsSchema = z.strictObject({
  /** Expected interruptions per instance-hour, by instance type or family; overrides defaults. */
  interruptionRatePerHour: z.record(z.string(), z.number().min(0).max(10)).default({}),
  checkpointIntervalMinutes: positiveNumber.default(30),
  restartMinutes: positiveNumber.default(10),
});

export const plannerSettingsSchema = z.strictObject({
  slotMinutes: positiveNumber.optional(),
  timeLimitSeconds: positiveNumber.default(60),
  mipGap: z.number().min(0).max(1).default(0.01),
  bootMinutes: z.number().min(0).default(5),
});

const nonNegativeInt = z.int({ error: "expected an integer >= 0" }).min(0, { error: "expected an integer >= 0" });

/**
 * The profiling phase (docs/plan.md, "Profiling phase"): before the real run, short runs
 * measure the configurations whose measured figure could change the plan, within this
 * budget (USD, a hard limit like the objective's) and this time.
 */
export const profilingSettingsSchema = z.strictObject({
  budgetUsd: positiveNumber,
  maxMinutes: positiveNumber,
  /** Configurations whose estimated cost is within this percentage of the chosen one's are worth measuring. */
  marginPercent: z
    .number({ error: "expected a number between 0 and 1000" })
    .min(0, { error: "expected a number between 0 and 1000" })
    .max(1000, { error: "expected a number between 0 and 1000" })
    .default(15),
  warmupSteps: nonNegativeInt.default(10),
  measuredSteps: positiveInt.default(20),
});

/**
 * A user's technique, as in Saturn: a Python module that registers a `Technique` with
 * `search(task, gpus)` and `execute(task, gpus, knobs, context)` (docs/worker-harness.md,
 * "Writing a plug-in technique"). The estimator has no model of it: its throughput comes
 * from profile records (docs/estimator.md, "Plug-in techniques").
 */
export const pluginSchema = z.strictObject({
  /** The name its module registers, and what jobs list in `techniques`. */
  name: techniqueNameSchema,
  module: pluginModuleSchema,
});
export type PluginSpec = z.infer<typeof pluginSchema>;

export const workloadSchema = z
  .strictObject({
    name: identifier,
    /** The home region: data and checkpoints live here. Default: the first of `regions`, else us-east-1. */
    region: awsRegion.optional(),
    /** Regions the planner may run jobs in (the home region need not be one). Default: the home region. */
    regions: z
      .array(awsRegion)
      .min(1)
      .refine((list) => new Set(list).size === list.length, { error: "expected each region once" })
      .optional(),
    objective: objectiveSchema,
    markets: z
      .array(z.enum(MARKETS))
      .min(1)
      .default([...MARKETS]),
    instanceTypes: z
      .strictObject({
        allow: z.array(instanceTypeOrFamily).min(1).optional(),
        deny: z.array(instanceTypeOrFamily).default([]),
      })
      .default({ deny: [] }),
    quotas: z.array(quotaOverrideSchema).default([]),
    spot: spotSettingsSchema.default({
      interruptionRatePerHour: {},
      checkpointIntervalMinutes: 30,
      restartMinutes: 10,
    }),
    planner: plannerSettingsSchema.default({ timeLimitSeconds: 60, mipGap: 0.01, bootMinutes: 5 }),
    profiling: profilingSettingsSchema.optional(),
    plugins: z.array(pluginSchema).max(32).default([]),
    jobs: z.array(jobSchema).min(1).max(5000),
  })
  .superRefine((workload, ctx) => {
    checkTechniques(workload, ctx);
    const seen = new Map<string, number>();
    workload.jobs.forEach((job, index) => {
      const first = seen.get(job.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["jobs", index, "id"],
          message: `expected a unique job id; '${job.id}' is already used by jobs[${first}]`,
        });
      } else seen.set(job.id, index);
    });
    workload.quotas.forEach((quota, index) => {
      if (quota.group === "P5" && quota.market === "on-demand") {
        ctx.addIssue({
          code: "custom",
          path: ["quotas", index, "group"],
          message: "expected 'P' for on-demand P5 instances (AWS counts them in the on-demand P quota)",
        });
      }
    });
  });

/**
 * A plug-in may not take a built-in's name or another plug-in's, and every technique a job
 * lists is a built-in or a declared plug-in.
 */
function checkTechniques(
  workload: {
    readonly plugins: readonly PluginSpec[];
    readonly jobs: readonly { readonly techniques: readonly string[] }[];
  },
  ctx: z.RefinementCtx,
): void {
  const declared = new Map<string, number>();
  workload.plugins.forEach((plugin, index) => {
    if (isBuiltInTechnique(plugin.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["plugins", index, "name"],
        message: `expected a name other than the built-in techniques (${TECHNIQUES.join(", ")})`,
      });
      return;
    }
    const first = declared.get(plugin.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["plugins", index, "name"],
        message: `expected a unique plug-in name; '${plugin.name}' is already declared by plugins[${first}]`,
      });
    } else declared.set(plugin.name, index);
  });
  const known = [...TECHNIQUES, ...declared.keys()].join(", ");
  workload.jobs.forEach((job, jobIndex) => {
    job.techniques.forEach((technique, index) => {
      if (isBuiltInTechnique(technique) || declared.has(technique)) return;
      ctx.addIssue({
        code: "custom",
        path: ["jobs", jobIndex, "techniques", index],
        message:
          declared.size === 0
            ? `expected one of ${known} (a plug-in technique must be declared in plugins)`
            : `expected one of ${known} (built-ins and the plug-ins declared in plugins)`,
      });
    });
  });
}

/** The spec as written, after defaults. */
export type WorkloadSpec = z.infer<typeof workloadSchema>;
export type JobSpecInput = z.infer<typeof jobSchema>;
export type Entrypoint = z.infer<typeof entrypointSchema>;
export type SpotSettings = z.infer<typeof spotSettingsSchema>;
export type PlannerSettings = z.infer<typeof plannerSettingsSchema>;
export type ProfilingSettings = z.infer<typeof profilingSettingsSchema>;
export type QuotaOverride = z.infer<typeof quotaOverrideSchema>;
