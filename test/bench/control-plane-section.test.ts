import { describe, expect, it } from "vitest";
import { withControlPlaneSection } from "../../bench/control-plane/control-plane-section.ts";

const HEAD = "| workload | end |\n|---|---|";
const NOTE = "Pass times are wall-clock.";
const block = (command: string, rows: readonly string[]) => [command, "", HEAD, ...rows, "", NOTE].join("\n");
const doc = (inner: string) =>
  `# Benchmarks\n\n## Control plane\n\n<!-- control-plane-results:begin (written by \`npm run bench -- --only control-plane\`) -->\n${inner}\n<!-- control-plane-results:end -->\n\nProse.\n`;

describe("withControlPlaneSection", () => {
  it("replaces the block whole when the run has every workload of the earlier one", () => {
    const before = doc(block("Command: old", ["| a (12 jobs) | running |"]));
    const after = withControlPlaneSection(before, block("Command: new", ["| a (12 jobs) | completed |"]));
    expect(after).toBe(doc(block("Command: new", ["| a (12 jobs) | completed |"])));
  });

  it("keeps the other workloads' rows of an earlier run, in job order, each with its command", () => {
    const first = withControlPlaneSection(
      doc(block("Command: old", ["| c (1000 jobs) | running |"])),
      block("Command: twelve-hundred", ["| a (12 jobs) | completed |", "| b (100 jobs) | completed |"]),
    );
    const second = withControlPlaneSection(first, block("Command: thousand", ["| c (1000 jobs) | completed |"]));
    const inner = second.split("-->\n")[1]?.split("\n<!--")[0] ?? "";
    expect(inner.split("\n")).toEqual([
      "Rows c (1000 jobs): Command: thousand",
      "",
      "Rows a (12 jobs), b (100 jobs): Command: twelve-hundred",
      "",
      "| workload | end |",
      "|---|---|",
      "| a (12 jobs) | completed |",
      "| b (100 jobs) | completed |",
      "| c (1000 jobs) | completed |",
      "",
      NOTE,
    ]);
    expect(second.endsWith("\n\nProse.\n")).toBe(true);
  });
});
