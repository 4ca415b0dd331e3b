/**
 * How candidates are ranked for people: fitting before not fitting, then by the cheapest
 * market price for the whole job, then by runtime. (The planner does its own optimisation;
 * this order is for `saturn estimate` and for reports.)
 */
import type { Candidate } from "./types.ts";

/** The cheapest cost over the priced markets; undefined when no market prices it. */
export function cheapestCostUsd(candidate: Candidate): number | undefined {
  const costs = Object.values(candidate.costUsd).filter((cost): cost is number => cost !== undefined);
  return costs.length === 0 ? undefined : Math.min(...costs);
}

export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.estimate.fits !== b.estimate.fits) return a.estimate.fits ? -1 : 1;
  const costA = cheapestCostUsd(a) ?? Number.POSITIVE_INFINITY;
  const costB = cheapestCostUsd(b) ?? Number.POSITIVE_INFINITY;
  if (costA !== costB) return costA - costB;
  const timeA = a.runtimeSeconds ?? Number.POSITIVE_INFINITY;
  const timeB = b.runtimeSeconds ?? Number.POSITIVE_INFINITY;
  if (timeA !== timeB) return timeA - timeB;
  return a.estimate.peakMemoryGiBPerGpu - b.estimate.peakMemoryGiBPerGpu;
}

/** The kind of obstacle a non-fitting candidate hit, for summaries. */
export type MisfitKind = "gpu-memory" | "host-memory" | "batch-too-small" | "pipeline-shape" | "other";

export function misfitKind(reason: string): MisfitKind {
  if (/GiB per GPU/.test(reason)) return "gpu-memory";
  if (/host RAM/.test(reason)) return "host-memory";
  if (/global batch \d+ is smaller than/.test(reason)) return "batch-too-small";
  if (/^pipeline/.test(reason)) return "pipeline-shape";
  return "other";
}
