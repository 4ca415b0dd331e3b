/** The body of a plan or reconcile request on the control plane's own queues. */
import { z } from "zod";

export const controlMessageSchema = z.strictObject({
  workloadId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
  reason: z.string().max(500),
});
export type ControlMessage = z.infer<typeof controlMessageSchema>;

/** The message, or a reason it is not one. */
export function parseControlMessage(body: string): ControlMessage | string {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    return `expected JSON, got malformed text: ${error instanceof Error ? error.message : String(error)}`;
  }
  const parsed = controlMessageSchema.safeParse(data);
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
}
