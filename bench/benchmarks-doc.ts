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

export interface ResultMarkers {
  readonly begin: string;
  readonly end: string;
}

/** The block of the 5,000-job sweep (`--only planner-5000`), below the planner results. */
export const LARGE_MARKERS: ResultMarkers = {
  begin:
    "<!-- planner-5000-results:begin (written by `npm run bench -- --only planner-5000`; edits here are overwritten) -->",
  end: "<!-- planner-5000-results:end -->",
};

export function writePlannerResults(
  path: string,
  markdown: string,
  markers: ResultMarkers = { begin: BEGIN_MARKER, end: END_MARKER },
): void {
  let text = existsSync(path) ? readFileSync(path, "utf8") : SKELETON;
  const BEGIN_MARKER_ = markers.begin;
  const END_MARKER_ = markers.end;
  if (markers.begin !== BEGIN_MARKER && !text.includes(markers.begin)) {
    // A new block goes right after the planner results.
    const at = text.indexOf(END_MARKER);
    if (at !== -1) {
      const after = at + END_MARKER.length;
      text = `${text.slice(0, after)}\n\n${markers.begin}\n${markers.end}${text.slice(after)}`;
    }
  }
  const begin = text.indexOf(BEGIN_MARKER_);
  const end = text.indexOf(END_MARKER_);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(
      `expected ${path} to hold the markers ${BEGIN_MARKER_} and ${END_MARKER_} inside its "## Planner" section; ` +
        "restore them (or delete the file to have it recreated)",
    );
  }
  const updated = `${text.slice(0, begin + BEGIN_MARKER_.length)}\n${markdown.trim()}\n${text.slice(end)}`;
  writeFileSync(path, updated);
}
