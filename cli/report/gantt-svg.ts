/**
 * Draws a `GanttChart` as a self-contained SVG: one row per instance, its rented lifetime
 * as a pale band (hatched for spot, solid for on-demand), job bars on top colored by job.
 * Jobs that share an instance at the same time (eight 1-GPU jobs on a p4d) are stacked in
 * lanes inside the row, so no bar hides another.
 */
import type { GanttBar, GanttChart } from "./gantt-chart.ts";
import { escapeHtml, formatDuration } from "./html-text.ts";
import { jobColors } from "./job-colors.ts";
import { formatTick, timeTicks } from "./time-axis.ts";

export interface GanttSvgOptions {
  /** Unique per page: prefixes the ids of the SVG's patterns. */
  readonly idPrefix: string;
  readonly width?: number;
  /** Job colors shared with other charts of the same page. */
  readonly colors?: ReadonlyMap<string, string>;
}

const LABEL_WIDTH = 270;
const LANE_HEIGHT = 16;
const ROW_PADDING = 4;
const AXIS_HEIGHT = 24;
const RIGHT_MARGIN = 36;
const MIN_LABEL_PIXELS = 7;

export function renderGanttSvg(chart: GanttChart, options: GanttSvgOptions): string {
  const width = options.width ?? 1100;
  const plotWidth = width - LABEL_WIDTH - RIGHT_MARGIN;
  const colors = options.colors ?? jobColors(chart.bars.map((bar) => bar.jobId));
  const x = (seconds: number): number => LABEL_WIDTH + (Math.max(0, seconds) / chart.horizon) * plotWidth;
  const hatch = `${options.idPrefix}-spot-hatch`;

  const parts: string[] = [];
  let y = AXIS_HEIGHT;
  chart.rows.forEach((row, rowIndex) => {
    const lanes = assignLanes(chart.bars.filter((bar) => bar.rowId === row.id));
    const laneCount = Math.max(1, ...lanes.map((entry) => entry.lane + 1));
    const rowHeight = laneCount * LANE_HEIGHT + 2 * ROW_PADDING;
    const stripe = rowIndex % 2 === 0 ? "#f7f7f9" : "#ffffff";
    parts.push(
      `<g class="gantt-row" data-instance="${escapeHtml(row.id)}" data-market="${row.market}">`,
      `<rect x="0" y="${y}" width="${width}" height="${rowHeight}" fill="${stripe}"/>`,
      `<text x="6" y="${y + rowHeight / 2 + 4}" font-size="11" fill="#222"><title>${escapeHtml(row.id)}</title>${escapeHtml(row.label)}` +
        `<tspan fill="${row.market === "spot" ? "#b45309" : "#1d4ed8"}"> ${row.market}</tspan></text>`,
    );
    for (const lifetime of row.lifetimes) {
      const left = x(lifetime.start);
      const barWidth = Math.max(1, x(lifetime.end) - left);
      parts.push(
        `<rect class="instance-lifetime" data-market="${row.market}" x="${left.toFixed(1)}" y="${y + 1}" ` +
          `width="${barWidth.toFixed(1)}" height="${rowHeight - 2}" ` +
          `fill="${row.market === "spot" ? `url(#${hatch})` : "#dbe4f3"}" stroke="#9aa5b8" stroke-width="0.5">` +
          `<title>${escapeHtml(`${row.id} (${row.market}) rented ${formatDuration(lifetime.start)} to ${formatDuration(lifetime.end)}`)}</title></rect>`,
      );
    }
    for (const { bar, lane } of lanes) {
      parts.push(renderBar(bar, x, y + ROW_PADDING + lane * LANE_HEIGHT, colors.get(bar.jobId) ?? "#888"));
    }
    parts.push("</g>");
    y += rowHeight;
  });

  const height = y + 4;
  const { step, ticks } = timeTicks(chart.horizon);
  const axis = ticks.map((tick) => {
    const tickX = x(tick).toFixed(1);
    return (
      `<line x1="${tickX}" y1="${AXIS_HEIGHT - 4}" x2="${tickX}" y2="${height}" stroke="#c8ccd4" stroke-width="0.5"/>` +
      `<text x="${tickX}" y="${AXIS_HEIGHT - 8}" font-size="10" text-anchor="middle" fill="#555">${formatTick(tick, step)}</text>`
    );
  });
  const now =
    chart.now === undefined
      ? ""
      : `<line class="gantt-now" x1="${x(chart.now).toFixed(1)}" y1="${AXIS_HEIGHT - 4}" x2="${x(chart.now).toFixed(1)}" y2="${height}" ` +
        `stroke="#111" stroke-width="1" stroke-dasharray="4 3"><title>${escapeHtml(`now: ${formatDuration(chart.now)}`)}</title></line>`;
  const empty =
    chart.rows.length === 0
      ? `<text x="${LABEL_WIDTH}" y="${AXIS_HEIGHT + 20}" font-size="12" fill="#555">No instances.</text>`
      : "";

  return [
    `<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.max(height, AXIS_HEIGHT + 30)}" ` +
      `viewBox="0 0 ${width} ${Math.max(height, AXIS_HEIGHT + 30)}" font-family="system-ui, sans-serif" role="img">`,
    `<defs><pattern id="${hatch}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<rect width="6" height="6" fill="#fdf0dc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e8b36a" stroke-width="2"/></pattern></defs>`,
    ...parts,
    ...axis,
    now,
    empty,
    "</svg>",
  ].join("\n");
}

function renderBar(bar: GanttBar, x: (seconds: number) => number, top: number, color: string): string {
  const left = x(bar.start);
  const barWidth = Math.max(1.5, x(bar.end) - left);
  const height = LANE_HEIGHT - 2;
  // Executed intervals that did not complete get a dark dashed outline so they stand out.
  const stroke =
    bar.outcome === "interrupted" || bar.outcome === "failed"
      ? ` stroke="#7f1d1d" stroke-width="1.5" stroke-dasharray="3 2"`
      : bar.outcome === "running"
        ? ` stroke="#111" stroke-width="1" stroke-dasharray="1 2"`
        : "";
  const fits = barWidth / MIN_LABEL_PIXELS;
  const text =
    fits >= 4
      ? `<text x="${(left + 3).toFixed(1)}" y="${top + height - 4}" font-size="10" fill="#fff" pointer-events="none">` +
        `${escapeHtml(bar.label.length > fits ? `${bar.label.slice(0, Math.max(1, Math.floor(fits) - 1))}…` : bar.label)}</text>`
      : "";
  return (
    `<rect class="gantt-bar" data-job="${escapeHtml(bar.jobId)}" data-outcome="${bar.outcome}" ` +
    `x="${left.toFixed(1)}" y="${top}" width="${barWidth.toFixed(1)}" height="${height}" rx="2" fill="${color}"${stroke}>` +
    `<title>${escapeHtml(bar.tooltip)}</title></rect>${text}`
  );
}

/** Interval-graph coloring: each bar takes the first lane free at its start (bars sorted by start). */
function assignLanes(bars: readonly GanttBar[]): { bar: GanttBar; lane: number }[] {
  const laneEnds: number[] = [];
  return [...bars]
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map((bar) => {
      let lane = laneEnds.findIndex((end) => end <= bar.start + 1e-6);
      if (lane === -1) {
        lane = laneEnds.length;
        laneEnds.push(bar.end);
      } else laneEnds[lane] = bar.end;
      return { bar, lane };
    });
}
