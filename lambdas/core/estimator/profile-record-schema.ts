/**
 * Validation of measured throughput records wherever they enter: a profile file, a worker
 * message, an API body. Unknown keys are errors, like everywhere else in the input.
 */
import { z } from "zod";
import { techniqueNameSchema } from "../spec/workload-schema.ts";
import { PROFILE_BASES, type ProfileRecord } from "./types.ts";

export const profileRecordSchema = z
  .strictObject({
    jobSignature: z.string().min(1, { error: "expected a job signature (see `saturn estimate --json`)" }),
    /** A built-in or a plug-in's name: a record is looked up by name, whatever registered it. */
    technique: techniqueNameSchema,
    instanceType: z
      .string()
      .regex(/^[a-z0-9-]+\.[a-z0-9]+$/, { error: "expected an instance type such as 'p4d.24xlarge'" }),
    nodes: z.int({ error: "expected an integer >= 1" }).min(1, { error: "expected an integer >= 1" }),
    gpusPerNode: z.int({ error: "expected an integer >= 1" }).min(1, { error: "expected an integer >= 1" }),
    samplesPerSecond: z
      .number({ error: "expected a number > 0" })
      .nonnegative({ error: "expected a number > 0" })
      .finite({ error: "expected a finite number > 0" }),
    peakMemoryGiBPerGpu: z.number({ error: "expected a number >= 0" }).nonnegative({ error: "expected a number >= 0" }),
    measuredAt: z.iso.datetime({ error: "expected an ISO 8601 date-time such as '2026-11-27T13:00:00Z'" }),
    where: z.string().min(1, { error: "expected where it was measured, e.g. 'aws:us-east-1:i-0abc' or 'sim'" }),
    fits: z.boolean({ error: "expected true or false" }).optional(),
    reason: z.string().max(500, { error: "expected at most 500 characters" }).optional(),
    basis: z.enum(PROFILE_BASES).optional(),
    knobs: z
      .record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]), {
        error: "expected a map of knob names to numbers, strings, booleans or null",
      })
      .optional(),
  })
  // A measurement is > 0 samples/s; only a does-not-fit record (fits: false) carries 0 (a negative figure already failed above).
  .superRefine((record, context) => {
    if (record.fits !== false && record.samplesPerSecond === 0) {
      context.addIssue({ code: "custom", path: ["samplesPerSecond"], message: "expected a number > 0" });
    }
  }) satisfies z.ZodType<ProfileRecord>;
