/**
 * Cost (x, USD) against makespan (y, hours) as an SVG scatter: the frontier as a step line
 * through its plans, the chosen plan ringed, and baselines as labelled diamonds.
 */
import { escapeHtml, formatDuration, formatUsd } from "./html-text.ts";

export interface ParetoPoint {
  readonly label: string;
  readonly costUsd: number;
  readonly makespanSeconds: number;
}

export interface ParetoChartInput {
  readonly frontier: readonly ParetoPoint[];
  readonly chosen: ParetoPoint;
  readonly baselines: readonly ParetoPoint[];
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 150, top: 20, bottom: 50 } as const;

export function renderParetoSvg(input: ParetoChartInput): string {
  const all = [...input.frontier, input.chosen, ...input.baselines];
  const xAxis = niceAxis(Math.max(...all.map((point) => point.costUsd)));
  const yAxis = niceAxis(Math.max(...all.map((point) => point.makespanSeconds / 3600)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (usd: number): number => MARGIN.left + (usd / xAxis.max) * plotWidth;
  const y = (seconds: number): number => MARGIN.top + plotHeight - (seconds / 3600 / yAxis.max) * plotHeight;

  const grid = [
    ...xAxis.ticks.map(
      (tick) =>
        `<line x1="${x(tick).toFixed(1)}" y1="${MARGIN.top}" x2="${x(tick).toFixed(1)}" y2="${MARGIN.top + plotHeight}" stroke="#e3e6ec"/>` +
        `<text x="${x(tick).toFixed(1)}" y="${MARGIN.top + plotHeight + 16}" font-size="10" text-anchor="middle" fill="#555">${formatUsd(tick).replace(/\.00$/, "")}</text>`,
    ),
    ...yAxis.ticks.map(
      (tick) =>
        `<line x1="${MARGIN.left}" y1="${y(tick * 3600).toFixed(1)}" x2="${MARGIN.left + plotWidth}" y2="${y(tick * 3600).toFixed(1)}" stroke="#e3e6ec"/>` +
        `<text x="${MARGIN.left - 6}" y="${(y(tick * 3600) + 3).toFixed(1)}" font-size="10" text-anchor="end" fill="#555">${tick} h</text>`,
    ),
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" font-size="12" text-anchor="middle" fill="#222">expected cost (USD)</text>`,
    `<text x="16" y="${MARGIN.top + plotHeight / 2}" font-size="12" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${MARGIN.top + plotHeight / 2})">makespan (hours)</text>`,
  ];

  const frontier = [...input.frontier].sort((a, b) => a.costUsd - b.costUsd);
  const frontierPath =
    frontier.length > 1
      ? `<path class="pareto-frontier" d="${frontier
          .map((point, index) => {
            const px = x(point.costUsd).toFixed(1);
            const py = y(point.makespanSeconds).toFixed(1);
            if (index === 0) return `M ${px} ${py}`;
            // Step shape: between two plans, a cost buys the previous makespan until the next plan.
            const previous = frontier[index - 1] as ParetoPoint;
            return `L ${px} ${y(previous.makespanSeconds).toFixed(1)} L ${px} ${py}`;
          })
          .join(" ")}" fill="none" stroke="#2563eb" stroke-width="1.5"/>`
      : "";
  const frontierDots = frontier.map(
    (point) =>
      `<circle class="pareto-point" cx="${x(point.costUsd).toFixed(1)}" cy="${y(point.makespanSeconds).toFixed(1)}" r="4" fill="#2563eb">` +
      `<title>${escapeHtml(describe(point))}</title></circle>`,
  );
  // Labels are placed chosen first, then baselines; a label that would overlap one already
  // placed moves down a line, so coinciding points stay readable.
  const placed: { x: number; y: number }[] = [];
  const labelAt = (x: number, y: number): number => {
    let labelY = y;
    while (placed.some((other) => Math.abs(other.x - x) < 110 && Math.abs(other.y - labelY) < 12)) labelY += 13;
    placed.push({ x, y: labelY });
    return labelY;
  };
  const chosenX = x(input.chosen.costUsd);
  const chosenY = y(input.chosen.makespanSeconds);
  const chosen =
    `<circle class="pareto-chosen" cx="${chosenX.toFixed(1)}" cy="${chosenY.toFixed(1)}" r="8" ` +
    `fill="none" stroke="#16a34a" stroke-width="2.5"><title>${escapeHtml(`chosen: ${describe(input.chosen)}`)}</title></circle>` +
    `<circle cx="${chosenX.toFixed(1)}" cy="${chosenY.toFixed(1)}" r="3.5" fill="#16a34a"/>` +
    `<text x="${(chosenX + 10).toFixed(1)}" y="${labelAt(chosenX + 10, chosenY - 8).toFixed(1)}" font-size="11" fill="#166534">${escapeHtml(input.chosen.label)}</text>`;
  const baselines = input.baselines.map((point) => {
    const px = x(point.costUsd);
    const py = y(point.makespanSeconds);
    return (
      `<g class="pareto-baseline"><path d="M ${px.toFixed(1)} ${(py - 6).toFixed(1)} L ${(px + 6).toFixed(1)} ${py.toFixed(1)} ` +
      `L ${px.toFixed(1)} ${(py + 6).toFixed(1)} L ${(px - 6).toFixed(1)} ${py.toFixed(1)} Z" fill="#dc2626">` +
      `<title>${escapeHtml(describe(point))}</title></path>` +
      `<text x="${(px + 9).toFixed(1)}" y="${(labelAt(px + 9, py + 4)).toFixed(1)}" font-size="11" fill="#7f1d1d">${escapeHtml(point.label)}</text></g>`
    );
  });

  return [
    `<svg class="pareto" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" role="img">`,
    ...grid,
    frontierPath,
    ...frontierDots,
    ...baselines,
    chosen,
    "</svg>",
  ].join("\n");
}

function describe(point: ParetoPoint): string {
  return `${point.label}: ${formatUsd(point.costUsd)}, ${formatDuration(point.makespanSeconds)}`;
}

/** Axis from 0 to a round maximum above `max`, with 4-8 round ticks. */
function niceAxis(max: number): { readonly max: number; readonly ticks: readonly number[] } {
  const top = max > 0 ? max * 1.08 : 1;
  const magnitude = 10 ** Math.floor(Math.log10(top));
  const step =
    [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((s) => top / s <= 8) ??
    magnitude * 10;
  const axisMax = Math.ceil(top / step) * step;
  const ticks: number[] = [];
  for (let tick = 0; tick <= axisMax + step / 1000; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { max: axisMax, ticks };
}
