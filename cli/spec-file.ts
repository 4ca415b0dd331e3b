/** Reads a workload spec file for the CLI; a missing or unreadable file is bad input too. */
import { readFileSync } from "node:fs";
import { InvalidWorkloadError } from "../lambdas/core/errors.ts";
import { parseWorkloadText, type Workload } from "../lambdas/core/spec/workload.ts";

export function readWorkloadFile(path: string): Workload {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new InvalidWorkloadError([{ path, message: `expected a readable YAML or JSON file, got ${code}` }], {
      cause: error,
    });
  }
  return parseWorkloadText(text);
}
