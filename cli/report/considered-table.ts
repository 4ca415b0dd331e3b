/**
 * "Considered resources", as SkyPilot prints them: per job, the cheapest fitting
 * configurations next to the chosen one (marked). Sweep clones share their candidates, so
 * jobs are grouped by identical candidate lists and each group is shown once.
 */
import type { ConsideredCandidate, Plan } from "../../lambdas/core/planner/plan.ts";
import { escapeHtml, formatDuration, formatUsd } from "./html-text.ts";

/** Alternatives shown per group besides the chosen one. */
const ALTERNATIVES = 5;
/** Groups shown at most; the rest are counted. */
const GROUP_LIMIT = 40;

export function consideredTable(plan: Plan): string {
  const groups = new Map<string, { jobIds: string[]; candidates: readonly ConsideredCandidate[] }>();
  for (const entry of plan.considered) {
    const key = groupKey(entry.candidates);
    const group = groups.get(key);
    if (group) group.jobIds.push(entry.jobId);
    else groups.set(key, { jobIds: [entry.jobId], candidates: entry.candidates });
  }
  if (groups.size === 0) return "<p>No candidates recorded in this plan.</p>";
  const shown = [...groups.values()].slice(0, GROUP_LIMIT);
  const sections = shown.map(({ jobIds, candidates }) => {
    const fitting = candidates.filter((candidate) => candidate.fits);
    const ranked = [...fitting].sort((a, b) => cheapest(a) - cheapest(b));
    const chosen = candidates.filter((candidate) => candidate.chosen);
    const rows = [...chosen, ...ranked.filter((candidate) => !candidate.chosen).slice(0, ALTERNATIVES)];
    const title =
      jobIds.length === 1 ? (jobIds[0] ?? "") : `${jobIds[0]} and ${jobIds.length - 1} more with the same candidates`;
    return (
      `<details><summary>${escapeHtml(title)} · ${fitting.length} of ${candidates.length} configurations fit</summary>` +
      `<table><tr><th></th><th>technique</th><th>instance type</th><th>nodes x GPUs</th><th>samples/s</th><th>runtime</th>` +
      `<th>on-demand</th><th>spot</th></tr>${rows.map(row).join("")}</table></details>`
    );
  });
  const hidden = groups.size - shown.length;
  return sections.join("") + (hidden > 0 ? `<p>${hidden} more groups of jobs not shown.</p>` : "");
}

function row(candidate: ConsideredCandidate): string {
  const cost = (market: "on-demand" | "spot"): string => {
    const value = candidate.costUsd[market];
    return value === undefined ? "-" : formatUsd(value);
  };
  return (
    `<tr${candidate.chosen ? ' class="chosen"' : ""}><td>${candidate.chosen ? "✔ chosen" : ""}</td>` +
    `<td>${candidate.config.technique}</td><td>${escapeHtml(candidate.config.instanceType)}</td>` +
    `<td class="num">${candidate.config.nodes} x ${candidate.config.gpusPerNode}</td>` +
    `<td class="num">${candidate.samplesPerSecond?.toFixed(2) ?? "-"}</td>` +
    `<td class="num">${candidate.runtimeSeconds === undefined ? "-" : formatDuration(candidate.runtimeSeconds)}</td>` +
    `<td class="num">${cost("on-demand")}</td><td class="num">${cost("spot")}</td></tr>`
  );
}

function cheapest(candidate: ConsideredCandidate): number {
  return Math.min(...Object.values(candidate.costUsd), Number.POSITIVE_INFINITY);
}

function groupKey(candidates: readonly ConsideredCandidate[]): string {
  return candidates
    .map((candidate) => {
      const { technique, instanceType, nodes, gpusPerNode } = candidate.config;
      return `${technique}/${instanceType}/${nodes}/${gpusPerNode}/${candidate.runtimeSeconds ?? "-"}/${candidate.chosen ? 1 : 0}`;
    })
    .join("|");
}
