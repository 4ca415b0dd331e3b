/**
 * Writes the planner's measured results into docs/benchmarks.md between two markers,
 * leaving everything else (the hand-written notes of the Planner section, the Execution
 * section below it) as it is. Creates the file with both sections' headings when missing.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const BEGIN_MARKER = "<!-- planner-results:begin (written by `npm run bench`; edits here are overwritten) -->";
export const END_MARKER = "<!-- planner-results:end -->";

const SKELETON = `# Benchmarks

Every figure here comes from a command in this repository; each section names its command.

## Planner

${BEGIN_MARKER}
${END_MARKER}

## Execution

(Written by the execution benchmark.)
`;

export function writePlannerResults(path: string, markdown: string): void {
  const text = existsSync(path) ? readFileSync(path, "utf8") : SKELETON;
  const begin = text.indexOf(BEGIN_MARKER);
  const end = text.indexOf(END_MARKER);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(
      `expected ${path} to hold the markers ${BEGIN_MARKER} and ${END_MARKER} inside its "## Planner" section; ` +
        "restore them (or delete the file to have it recreated)",
    );
  }
  const updated = `${text.slice(0, begin + BEGIN_MARKER.length)}\n${markdown.trim()}\n${text.slice(end)}`;
  writeFileSync(path, updated);
}
