/** Reads a workload spec file for the CLI; a missing or unreadable file is bad input too. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidWorkloadError } from "../lambdas/core/errors.ts";
import { parseWorkloadText, type SpecFileReader, type Workload } from "../lambdas/core/spec/workload.ts";

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
  return parseWorkloadText(text, { files: jsonFilesNextTo(path) });
}

/** Reads JSON files a spec names (Hugging Face configs), relative to the spec's directory. */
export function jsonFilesNextTo(specPath: string): SpecFileReader {
  return {
    readJson(path: string): unknown {
      const full = resolve(dirname(specPath), path);
      let text: string;
      try {
        text = readFileSync(full, "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
        throw new InvalidWorkloadError([{ path, message: `expected a readable JSON file at ${full}, got ${code}` }], {
          cause: error,
        });
      }
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new InvalidWorkloadError(
          [{ path, message: `expected valid JSON, got ${(error as Error).message.split("\n")[0]}` }],
          { cause: error },
        );
      }
    },
  };
}
