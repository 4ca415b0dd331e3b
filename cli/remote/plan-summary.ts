/**
 * What `saturn submit` and `saturn plan <id>` show before anything launches: the plan's
 * expected and worst-case (budget) cost, inter-region transfer, its makespan, and the
 * instances it rents by type, region and market, so the user approves a price they have seen.
 */
import Table from "cli-table3";
import type { PlanAnswerView } from "../api/api-responses.ts";
import { formatClock } from "../run/live-view.ts";

export function formatPlanSummary(answer: PlanAnswerView): string {
  const { plan } = answer;
  const groups = new Map<
    string,
    { type: string; region: string; market: string; count: number; hours: number; cost: number }
  >();
  // A region column only where it tells something: several regions, or jobs away from home
  // (they move data, so the plan carries a transfer cost).
  const regions = new Set(plan.instances.map((instance) => instance.region ?? ""));
  const showRegion = regions.size > 1 || (plan.totals.transferCostUsd ?? 0) > 0;
  for (const instance of plan.instances) {
    const key = `${instance.instanceType}|${instance.region ?? ""}|${instance.market}`;
    const group = groups.get(key) ?? {
      type: instance.instanceType,
      region: instance.region ?? "home",
      market: instance.market,
      count: 0,
      hours: 0,
      cost: 0,
    };
    const hours = Math.max(0, instance.end - instance.start) / 3600;
    group.count++;
    group.hours += hours;
    group.cost += hours * instance.hourlyPriceUsd;
    groups.set(key, group);
  }
  const table = new Table({
    head: ["instance type", ...(showRegion ? ["region"] : []), "market", "instances", "instance-hours", "expected $"],
    style: { head: [], border: [] },
  });
  for (const group of [...groups.values()].sort((a, b) => b.cost - a.cost)) {
    table.push([
      group.type,
      ...(showRegion ? [group.region] : []),
      group.market,
      group.count,
      group.hours.toFixed(1),
      group.cost.toFixed(2),
    ]);
  }
  const budget = plan.totals.budgetCostUsd;
  const transfer = plan.totals.transferCostUsd ?? 0;
  const lines = [
    `Plan v${answer.planVersion} for ${answer.workloadId} (${plan.objective}, ${plan.assignments.length} jobs):`,
    `  expected cost   $${plan.totals.expectedCostUsd.toFixed(2)}`,
    ...(budget === undefined
      ? []
      : [`  budget cost     $${budget.toFixed(2)} (worst case at the highest spot prices)`]),
    ...(transfer > 0
      ? [`  data transfer   $${transfer.toFixed(2)} on top (inter-region: data and checkpoints of jobs away from home)`]
      : []),
    `  makespan        ${formatClock(plan.totals.makespanSeconds)} (${(plan.totals.makespanSeconds / 3600).toFixed(2)} h)`,
    `  instances       ${plan.instances.length}`,
    `  solver          ${plan.solveSeconds.toFixed(1)} s, gap ${(plan.gap * 100).toFixed(1)}%`,
    table.toString(),
  ];
  const measured = plan.assignments.filter((a) => a.throughputSource === "measured").length;
  lines.push(`  measured        ${measured}/${plan.assignments.length} assignments on measured throughput`);
  const profiling = answer.profiling;
  if (profiling?.status === "proposed") {
    lines.push(
      `Profiling phase first (approving this plan approves it): ${profiling.runs.length} on-demand profile runs, about $${profiling.estimatedCostUsd.toFixed(2)} (hard limit $${profiling.settings.budgetUsd.toFixed(2)}, ${profiling.settings.maxMinutes} min).`,
      "Then the plan is made again from the measurements and waits for a second approval.",
    );
  } else if (profiling !== undefined && profiling !== null) {
    const ended = profiling.runs.filter((run) => run.status === "measured").length;
    lines.push(
      `Profiling phase ${profiling.status}: ${ended}/${profiling.runs.length} runs measured, $${profiling.spentUsd.toFixed(2)} spent.`,
    );
  }
  return `${lines.join("\n")}\n`;
}
