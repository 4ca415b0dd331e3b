/**
 * The Control plane block of docs/benchmarks.md. A run of some workloads (`--workloads 1000`)
 * replaces those workloads' rows and keeps the others' rows of an earlier run, each with the
 * command line that produced it, so 12/100 and 1,000 can run as separate commands and the
 * block still shows every figure with its source.
 */
const BEGIN = "<!-- control-plane-results:begin (written by `npm run bench -- --only control-plane`) -->";
const END = "<!-- control-plane-results:end -->";
const COMMAND_PREFIX = "Command: ";
const ROWS_PREFIX = "Rows ";

/** A table row's workload cell ("sweep-100 (100 jobs)"), undefined for other lines. */
function rowKey(line: string): string | undefined {
  if (!line.startsWith("| ") || line.startsWith("| workload |")) return undefined;
  return line.split(" | ")[0]?.slice(2).trim();
}

function jobsOf(key: string): number {
  return Number(/\((\d+) jobs\)/.exec(key)?.[1] ?? Number.POSITIVE_INFINITY);
}

/** Rows of the existing block not in `fresh`, each with the command line it came from. */
function keptRows(previous: string, fresh: ReadonlySet<string>): { key: string; row: string; command: string }[] {
  const lines = previous.split("\n");
  let fallback = "";
  const commandOf = new Map<string, string>();
  for (const line of lines) {
    const at = line.indexOf(COMMAND_PREFIX);
    if (at === -1) continue;
    const command = line.slice(at);
    if (!line.startsWith(ROWS_PREFIX)) fallback = command;
    else for (const key of line.slice(ROWS_PREFIX.length, at - 2).split(", ")) commandOf.set(key, command);
  }
  const kept: { key: string; row: string; command: string }[] = [];
  for (const line of lines) {
    const key = rowKey(line);
    if (key !== undefined && !fresh.has(key)) kept.push({ key, row: line, command: commandOf.get(key) ?? fallback });
  }
  return kept;
}

export function withControlPlaneSection(document: string, markdown: string): string {
  let text = document.includes("## Control plane") ? document : `${document.trimEnd()}\n\n## Control plane\n`;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const previous = begin !== -1 && end > begin ? text.slice(begin + BEGIN.length, end) : "";
  const lines = markdown.trim().split("\n");
  const freshRows = lines.filter((line) => rowKey(line) !== undefined);
  const kept = keptRows(previous, new Set(freshRows.map((line) => rowKey(line) ?? "")));
  let merged = lines;
  if (kept.length > 0) {
    const first = lines.findIndex((line) => rowKey(line) !== undefined);
    const command = lines.find((line) => line.startsWith(COMMAND_PREFIX)) ?? "";
    const rows = [
      ...kept.map((k) => ({ key: k.key, row: k.row })),
      ...freshRows.map((row) => ({ key: rowKey(row) ?? "", row })),
    ].sort((a, b) => jobsOf(a.key) - jobsOf(b.key));
    const sources = [...new Set(kept.map((k) => k.command))].map(
      (c) =>
        `${ROWS_PREFIX}${kept
          .filter((k) => k.command === c)
          .map((k) => k.key)
          .join(", ")}: ${c}`,
    );
    const headerLines = [`${ROWS_PREFIX}${freshRows.map((row) => rowKey(row)).join(", ")}: ${command}`, ...sources];
    const before = lines.slice(0, first).filter((line) => !line.includes(COMMAND_PREFIX) && line !== "");
    const after = lines.slice(first).filter((line) => rowKey(line) === undefined);
    merged = [...headerLines.flatMap((line) => [line, ""]), ...before, ...rows.map((r) => r.row), ...after];
  }
  const block = `${BEGIN}\n${merged.join("\n").trim()}\n${END}`;
  if (begin !== -1 && end > begin) return `${text.slice(0, begin)}${block}${text.slice(end + END.length)}`;
  const at = text.indexOf("## Control plane") + "## Control plane".length;
  text = `${text.slice(0, at)}\n\n${block}\n${text.slice(at)}`;
  return text;
}
