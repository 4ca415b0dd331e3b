import { inflateSync } from "node:zlib";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPlanReport } from "../../cli/report/html-report.ts";
import type { PlanningResult } from "../../lambdas/core/planner/api.ts";
import type { Plan } from "../../lambdas/core/planner/plan.ts";
import { launchHeadlessBrowser } from "../support/headless-browser.ts";

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    schemaVersion: 1,
    workload: "report-fixture",
    objective: "min-cost",
    instances: [
      {
        id: "i-1",
        instanceType: "p4d.24xlarge",
        market: "on-demand",
        availabilityZone: undefined,
        start: 0,
        end: 7200,
        hourlyPriceUsd: 32.77,
      },
      {
        id: "i-2",
        instanceType: "g6e.12xlarge",
        market: "spot",
        region: "us-east-2",
        availabilityZone: "us-east-2a",
        start: 600,
        end: 5400,
        hourlyPriceUsd: 6.03,
      },
    ],
    assignments: [
      assignment("gpt2-lr1 <b>", ["i-1"], 300, 3900, 4),
      assignment("gpt2-lr2", ["i-1"], 300, 7200, 4),
      assignment("gptj-lr1", ["i-2"], 900, 5400, 4),
      assignment("gpt2-lr3", ["i-1"], 3900, 7000, 4),
    ],
    totals: { expectedCostUsd: 73.58, makespanSeconds: 7200 },
    lowerBound: 72.1,
    gap: 0.0201,
    solveSeconds: 1.4,
    considered: [],
    ...overrides,
  };
}

function assignment(jobId: string, instanceIds: string[], start: number, end: number, gpus: number) {
  return {
    jobId,
    technique: "fsdp" as const,
    instanceIds,
    gpusPerInstance: gpus,
    start,
    end,
    samplesPerSecond: 3.25,
    throughputSource: "estimated" as const,
  };
}

const frontierPlan = (cost: number, makespan: number): Plan =>
  plan({ totals: { expectedCostUsd: cost, makespanSeconds: makespan } });

const result: PlanningResult = {
  plan: plan(),
  frontier: [
    frontierPlan(60, 20000),
    frontierPlan(66, 12000),
    frontierPlan(73.58, 7200),
    frontierPlan(90, 5000),
    frontierPlan(120, 4000),
  ],
  warnings: ["p4d prices are stale"],
};

const baselines = [
  { label: "current practice", costUsd: 140, makespanSeconds: 14000 },
  { label: "per-job cheapest", costUsd: 95, makespanSeconds: 9000 },
];

describe("renderPlanReport", () => {
  it("draws one bar per job and instance, and one lifetime per instance", () => {
    const html = renderPlanReport(result, { baselines });

    expect(html.match(/class="gantt-bar"/g)).toHaveLength(4);
    expect(html.match(/class="instance-lifetime" data-market="spot"/g)).toHaveLength(1);
    expect(html.match(/class="instance-lifetime" data-market="on-demand"/g)).toHaveLength(1);
    expect(html.match(/class="pareto-point"/g)).toHaveLength(5);
    expect(html.match(/class="pareto-baseline"/g)).toHaveLength(2);
    expect(html.match(/class="pareto-chosen"/g)).toHaveLength(1);
  });

  it("shows the region of every instance and assignment", () => {
    const html = renderPlanReport(result);

    expect(html).toContain("<th>region</th>");
    expect(html.match(/<td>us-east-2<\/td>/g)).toHaveLength(1 + 1);
  });

  it("escapes job ids and loads nothing from outside the page", () => {
    const html = renderPlanReport(result);

    expect(html).not.toContain("gpt2-lr1 <b>");
    expect(html).toContain("gpt2-lr1 &lt;b&gt;");
    expect(html).not.toMatch(/<script|<link|\bsrc=|@import|url\(http/i);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(/https?:\/\//);
  });

  it("draws what actually ran with the same renderer, marking interrupted intervals", () => {
    const html = renderPlanReport(result, {
      executed: {
        now: 8000,
        instances: [{ id: "i-9", instanceType: "p4d.24xlarge", market: "spot", start: 0, end: undefined }],
        intervals: [
          { jobId: "gpt2-lr2", instanceIds: ["i-9"], start: 300, end: 2000, outcome: "interrupted" },
          { jobId: "gpt2-lr2", instanceIds: ["i-9"], start: 2600, end: 7900, outcome: "completed" },
        ],
      },
    });

    expect(html).toContain("What actually ran");
    expect(html.match(/class="gantt-bar"/g)).toHaveLength(6);
    expect(html.match(/data-outcome="interrupted"/g)).toHaveLength(1);
    expect(html.match(/class="gantt-now"/g)).toHaveLength(1);
  });
});

describe("renderPlanReport's considered configurations", () => {
  const candidate = (instanceType: string, spot: number, chosen: boolean) => ({
    config: { technique: "fsdp" as const, instanceType, nodes: 1, gpusPerNode: 8 },
    fits: true,
    reason: undefined,
    samplesPerSecond: 4,
    runtimeSeconds: 3600,
    costUsd: { spot, "on-demand": spot * 3 },
    chosen,
  });
  const considered = ["a", "b"].map((jobId) => ({
    jobId,
    candidates: [candidate("p4d.24xlarge", 10, false), candidate("g6e.48xlarge", 7, true)],
  }));

  it("shows sweep clones with the same candidates once, the chosen configuration first and marked", () => {
    const html = renderPlanReport({ ...result, plan: plan({ considered }) });

    expect(html.match(/<details>/g)).toHaveLength(1);
    expect(html).toContain("a and 1 more with the same candidates");
    const chosenAt = html.indexOf('<tr class="chosen"><td>✔ chosen</td><td>fsdp</td><td>g6e.48xlarge</td>');
    expect(chosenAt).toBeGreaterThan(-1);
    expect(chosenAt).toBeLessThan(html.indexOf('<td>p4d.24xlarge</td><td class="num">1 x 8</td>'));
  });
});

describe("renderPlanReport in headless Chromium", () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchHeadlessBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openReport(): Promise<Page> {
    if (browser === undefined) throw new Error("expected the browser to have started in beforeAll");
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1400 });
    // The page loads nothing from outside, so setContent's load event means fully drawn.
    await page.setContent(renderPlanReport(result, { baselines }), { waitUntil: "load" });
    return page;
  }

  it("renders a page that is not blank", async () => {
    const page = await openReport();
    const screenshot = Buffer.from(await page.screenshot({ type: "png" }));
    await page.close();

    const image = decodePng(screenshot);
    expect(image.width).toBe(1280);
    const stats = pixelStats(image);
    // A blank page is one color; the report has white, grey rows, job colors, hatching and text.
    expect(stats.distinctColors).toBeGreaterThan(20);
    expect(stats.nonWhiteFraction).toBeGreaterThan(0.03);
  });

  it("lays out every Gantt bar and chart point with a visible size", async () => {
    const page = await openReport();
    const sizes = await page.$$eval(".gantt-bar,.pareto-point,.instance-lifetime", (elements) =>
      elements.map((element) => {
        const box = element.getBoundingClientRect();
        return { width: box.width, height: box.height };
      }),
    );
    await page.close();

    expect(sizes).toHaveLength(4 + 5 + 2);
    for (const size of sizes) {
      expect(size.width).toBeGreaterThan(0);
      expect(size.height).toBeGreaterThan(0);
    }
  });
});

interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly pixels: Uint8Array;
}

/** Minimal PNG decoder for 8-bit RGB/RGBA non-interlaced images (what Chromium writes). */
function decodePng(file: Buffer): DecodedImage {
  expect(file.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString("latin1", offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const bitDepth = body[8];
      const colorType = body[9];
      if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || body[12] !== 0) {
        throw new Error(
          `expected an 8-bit RGB or RGBA non-interlaced PNG, got depth ${bitDepth} color type ${colorType}`,
        );
      }
      channels = colorType === 6 ? 4 : 3;
    } else if (type === "IDAT") data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)] ?? 0;
    for (let column = 0; column < stride; column++) {
      const value = raw[row * (stride + 1) + 1 + column] ?? 0;
      const left = column >= channels ? (pixels[row * stride + column - channels] ?? 0) : 0;
      const up = row > 0 ? (pixels[(row - 1) * stride + column] ?? 0) : 0;
      const upLeft = row > 0 && column >= channels ? (pixels[(row - 1) * stride + column - channels] ?? 0) : 0;
      pixels[row * stride + column] = (value + unfilter(filter, left, up, upLeft)) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

function unfilter(filter: number, left: number, up: number, upLeft: number): number {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      return left;
    case 2:
      return up;
    case 3:
      return Math.floor((left + up) / 2);
    case 4: {
      const estimate = left + up - upLeft;
      const distanceLeft = Math.abs(estimate - left);
      const distanceUp = Math.abs(estimate - up);
      const distanceUpLeft = Math.abs(estimate - upLeft);
      if (distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft) return left;
      return distanceUp <= distanceUpLeft ? up : upLeft;
    }
    default:
      throw new Error(`expected a PNG row filter 0-4, got ${filter}`);
  }
}

function pixelStats(image: DecodedImage): { distinctColors: number; nonWhiteFraction: number } {
  const colors = new Set<number>();
  let nonWhite = 0;
  const count = image.width * image.height;
  for (let index = 0; index < count; index++) {
    const base = index * image.channels;
    const red = image.pixels[base] ?? 0;
    const green = image.pixels[base + 1] ?? 0;
    const blue = image.pixels[base + 2] ?? 0;
    colors.add((red << 16) | (green << 8) | blue);
    if (red < 245 || green < 245 || blue < 245) nonWhite++;
  }
  return { distinctColors: colors.size, nonWhiteFraction: nonWhite / count };
}
