/**
 * The live view of `saturn run`: on a terminal, one frame redrawn in place (a progress bar
 * per job, instances up, spend against budget or time against deadline, recent events);
 * elsewhere (pipes, CI), one plain line per notable event.
 */
import type { SimTick } from "../../lambdas/adapters/sim-cloud/run-on-sim.ts";
import { objectiveBudgetUsd, objectiveDeadlineHours } from "../../lambdas/core/reconciler/deadlines.ts";
import type { Action, ExecutionRecord } from "../../lambdas/core/reconciler/execution-record.ts";
import type { Workload } from "../../lambdas/core/spec/workload.ts";

export interface LiveViewOutput {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
}

const EVENT_LINES = 6;
const BAR_WIDTH = 24;
/** Redraw at most this often (wall clock), so the view never slows the simulation down. */
const FRAME_INTERVAL_MS = 80;

export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** A bar of `width` cells, filled in proportion to `fraction` (clamped to 0..1). */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

/** Redraws a block of lines in place on a terminal (cursor up, clear line, write). */
export class FrameWriter {
  readonly #out: LiveViewOutput;
  #linesDrawn = 0;

  constructor(out: LiveViewOutput) {
    this.#out = out;
  }

  draw(lines: readonly string[]): void {
    const up = this.#linesDrawn > 0 ? `\x1b[${this.#linesDrawn}A` : "";
    this.#out.write(
      up + lines.map((line) => `\x1b[2K${line.slice(0, Math.max(20, this.#out.columns - 1))}\n`).join(""),
    );
    this.#linesDrawn = lines.length;
  }
}

export class LiveView {
  readonly #out: LiveViewOutput;
  readonly #workload: Workload;
  readonly #plannedCostUsd: number;
  readonly #wallClock: () => number;
  readonly #events: string[] = [];
  readonly #frames: FrameWriter;
  #lastFrameAt = Number.NEGATIVE_INFINITY;
  #seenInterruptions = 0;
  #seenReplans = 0;
  #lastTick: SimTick | undefined;

  constructor(out: LiveViewOutput, workload: Workload, plannedCostUsd: number, wallClock: () => number) {
    this.#out = out;
    this.#workload = workload;
    this.#plannedCostUsd = plannedCostUsd;
    this.#wallClock = wallClock;
    this.#frames = new FrameWriter(out);
  }

  onActions(actions: readonly Action[], record: ExecutionRecord, now: number): void {
    for (const action of actions) {
      const line = describeAction(action);
      if (line !== undefined) this.#event(now, line);
    }
    for (const replan of record.replans.slice(this.#seenReplans)) {
      this.#event(
        replan.at,
        `re-plan (${replan.reason}): ${replan.adopted ? `adopted plan v${replan.toVersion}` : "kept the current plan"}`,
      );
    }
    this.#seenReplans = record.replans.length;
  }

  onTick(tick: SimTick): void {
    this.#lastTick = tick;
    const noticed = tick.record.interruptedInstanceIds;
    for (const id of noticed.slice(this.#seenInterruptions)) {
      this.#event(tick.now, `spot interruption warning for ${id} (reclaimed in 2 min)`);
    }
    this.#seenInterruptions = noticed.length;
    if (!this.#out.isTTY) return;
    const wall = this.#wallClock();
    if (wall - this.#lastFrameAt < FRAME_INTERVAL_MS) return;
    this.#lastFrameAt = wall;
    this.#draw(tick);
  }

  /** Draws the last frame once more (so the final state stays on screen). */
  close(): void {
    if (this.#out.isTTY && this.#lastTick !== undefined) this.#draw(this.#lastTick);
  }

  #event(at: number, text: string): void {
    const line = `[${formatClock(at)}] ${text}`;
    this.#events.push(line);
    if (this.#events.length > EVENT_LINES) this.#events.shift();
    if (!this.#out.isTTY) this.#out.write(`${line}\n`);
  }

  #draw(tick: SimTick): void {
    this.#frames.draw(this.frame(tick));
  }

  /** The frame's lines (exported for tests through the class). */
  frame(tick: SimTick): string[] {
    const { record, cloud, now } = tick;
    const spend = cloud.spendAt({ "saturn:workload": record.workloadName }, now);
    const budget = objectiveBudgetUsd(record.objective);
    const deadline = objectiveDeadlineHours(record.objective);
    const live = cloud.allInstances().filter((i) => i.state === "pending" || i.state === "running");
    const spot = live.filter((i) => i.market === "spot").length;
    const header = [
      `saturn run ${record.workloadName} on the simulated cloud · t = ${formatClock(now - record.startedAt)}`,
      deadline !== undefined ? ` of ${deadline} h deadline` : "",
    ].join("");
    const money =
      budget !== undefined
        ? `spend $${spend.toFixed(2)} of $${budget.toFixed(2)} budget`
        : `spend $${spend.toFixed(2)} (plan $${this.#plannedCostUsd.toFixed(2)})`;
    const lines = [
      header,
      `${money} · instances up ${live.length} (${spot} spot, ${live.length - spot} on-demand) · interruptions ${record.interruptedInstanceIds.length} · re-plans ${record.replans.filter((r) => r.adopted).length}/${record.replans.length} · plan v${record.planVersion}`,
    ];
    const width = Math.max(...this.#workload.jobs.map((job) => job.id.length));
    for (const job of this.#workload.jobs) {
      const state = record.jobs[job.id];
      const fraction = Math.min(1, cloud.samplesDone(job.id) / job.totalSamples);
      const bar = progressBar(fraction);
      const where = record.plan.assignments.find((a) => a.jobId === job.id);
      const slot = record.plan.instances.find((i) => i.id === where?.instanceIds[0]);
      const status =
        state?.status === "done"
          ? "done"
          : state?.status === "failed"
            ? "FAILED"
            : slot !== undefined
              ? `${slot.instanceType} ${slot.market}`
              : "";
      lines.push(`${job.id.padEnd(width)} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${status}`);
    }
    lines.push("events:", ...this.#events.map((event) => `  ${event}`));
    for (let k = this.#events.length; k < EVENT_LINES; k++) lines.push("");
    return lines;
  }
}

function describeAction(action: Action): string | undefined {
  switch (action.kind) {
    case "launch":
      return `launch ${action.slot}: ${action.request.instanceType} ${action.request.market}`;
    case "terminate":
      return `terminate ${action.instanceIds.join(", ")} (${action.reason})`;
    case "checkpoint-and-requeue":
      return `checkpoint and requeue ${action.jobId} (${action.reason})`;
    case "mark-done":
      return `${action.jobId} completed`;
    case "mark-failed":
      return `${action.jobId} failed: ${action.reason}`;
    case "stop-for-budget":
      return `stop for budget: ${action.reason}`;
    case "finish":
      return `finished: ${action.status} (${action.reason})`;
    default:
      return undefined;
  }
}
