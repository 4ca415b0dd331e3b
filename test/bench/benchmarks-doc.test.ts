import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BEGIN_MARKER, END_MARKER, writePlannerResults } from "../../bench/benchmarks-doc.ts";

describe("writePlannerResults", () => {
  const directory = mkdtempSync(join(tmpdir(), "saturn-bench-doc-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("creates the document with a Planner and an Execution section", () => {
    const path = join(directory, "new.md");

    writePlannerResults(path, "| a | b |");

    const text = readFileSync(path, "utf8");
    expect(text.indexOf("## Planner")).toBeLessThan(text.indexOf("| a | b |"));
    expect(text.indexOf("| a | b |")).toBeLessThan(text.indexOf("## Execution"));
  });

  it("replaces only what lies between the markers", () => {
    const path = join(directory, "existing.md");
    writeFileSync(
      path,
      `# B\n\n## Planner\n\nnotes kept\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nmore notes\n\n## Execution\n\nD's table\n`,
    );

    writePlannerResults(path, "new results");

    const text = readFileSync(path, "utf8");
    expect(text).not.toContain("old");
    expect(text).toContain(`${BEGIN_MARKER}\nnew results\n${END_MARKER}`);
    expect(text).toContain("notes kept");
    expect(text).toContain("more notes\n\n## Execution\n\nD's table\n");
  });

  it("refuses to write when the markers are gone, saying how to fix it", () => {
    const path = join(directory, "broken.md");
    writeFileSync(path, "# B\n\n## Planner\n");

    expect(() => writePlannerResults(path, "x")).toThrow(/restore them \(or delete the file to have it recreated\)/);
  });
});
