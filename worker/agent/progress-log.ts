/**
 * Reads `WORK/progress.jsonl` as the harness appends to it (see
 * the harness contract in docs/worker-harness.md). Reads only the bytes
 * added since the last read and keeps an unfinished last line for the next one, so a line
 * is parsed exactly once, whole. Lines that do not match a known event are returned as
 * `invalid` with the reason: the agent logs them and goes on.
 */
import { open } from "node:fs/promises";
import { z } from "zod";

const samples = z.int().min(0);
const localPath = z.string().min(1);

export const progressLineSchema = z.discriminatedUnion("event", [
  z.object({
    event: z.literal("step"),
    samples,
    samplesPerSecond: z.number().nonnegative().nullable().optional(),
    peakGpuMemoryBytes: z.int().min(0).nullable().optional(),
    loss: z.number().nullable().optional(),
    time: z.string().optional(),
  }),
  z.object({ event: z.literal("checkpoint"), samples, path: localPath }),
  z.object({ event: z.literal("completed"), samples, path: localPath.nullable().optional() }),
  z.object({ event: z.literal("stopped"), samples, path: localPath.nullable().optional() }),
  z.object({
    event: z.literal("profile"),
    // Null when the configuration does not fit (docs/worker-harness.md): `configuration` names it.
    record: z.record(z.string(), z.unknown()).nullable(),
    configuration: z.record(z.string(), z.unknown()).nullable().optional(),
    fits: z.boolean(),
    reason: z.string().nullable().optional(),
  }),
  z.object({ event: z.literal("error"), message: z.string(), field: z.string().nullable().optional() }),
]);
export type ProgressLine = z.infer<typeof progressLineSchema>;

export type ProgressRead =
  | { readonly kind: "line"; readonly line: ProgressLine }
  | { readonly kind: "invalid"; readonly text: string; readonly reason: string };

export class ProgressLog {
  readonly #path: string;
  #offset = 0;
  /** Bytes after the last newline: an unfinished line (kept as bytes so a character split across reads survives). */
  #partial: Buffer = Buffer.alloc(0);

  constructor(path: string) {
    this.#path = path;
  }

  /** Everything appended since the last call; an absent file reads as nothing yet. */
  async readNew(): Promise<readonly ProgressRead[]> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.#path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    let bytes: Buffer;
    try {
      const { size } = await handle.stat();
      if (size <= this.#offset) return [];
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      bytes = Buffer.concat([this.#partial, buffer.subarray(0, bytesRead)]);
    } finally {
      await handle.close();
    }
    const end = bytes.lastIndexOf(0x0a);
    this.#partial = Buffer.from(bytes.subarray(end + 1));
    if (end < 0) return [];
    return bytes
      .subarray(0, end)
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map(parseProgressLine);
  }
}

export function parseProgressLine(text: string): ProgressRead {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: "invalid", text, reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = progressLineSchema.safeParse(json);
  if (!parsed.success)
    return {
      kind: "invalid",
      text,
      reason: parsed.error.issues.map((issue) => `${issue.path.join(".") || "(line)"}: ${issue.message}`).join("; "),
    };
  return { kind: "line", line: parsed.data };
}
