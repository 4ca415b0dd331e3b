/**
 * The training harness's search (`python -m saturn_harness.search`, worker/harness), run
 * locally: it imports the plug-in, calls `search(task, gpus)` for each GPU count and prints
 * one JSON line per count. It needs no GPU and no process group, so it runs on any machine
 * with the harness's requirements (`.venv-harness/`, scripts/ensure-harness-venv.mjs).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { InvalidWorkloadError } from "../core/errors.ts";
import { type PluginSearchAnswer, pluginSearchAnswerSchema } from "../core/estimator/plugin-search.ts";
import type { TrainingTask } from "../core/protocol/worker-protocol.ts";

export interface HarnessSearchOptions {
  /** The Python with the harness's requirements. */
  readonly python: string;
  /** The folder holding the `saturn_harness` package (worker/harness). */
  readonly harnessPath: string;
  readonly technique: string;
  readonly task: TrainingTask;
  /** Plug-in modules to import: `.py` paths or module names. */
  readonly plugins: readonly string[];
  readonly gpus: readonly number[];
  /** Default 300 s: importing torch on a loaded machine takes a while. */
  readonly timeoutSeconds?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class HarnessSearchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HarnessSearchError";
  }
}

/**
 * Runs the search and returns its validated answers. The harness's bad-input exit (2: a
 * plug-in that fails to import, a field it refuses) is bad input here too; any other
 * failure is a HarnessSearchError with the end of its stderr.
 */
export function runHarnessSearch(options: HarnessSearchOptions): PluginSearchAnswer[] {
  const folder = mkdtempSync(join(tmpdir(), "saturn-search-"));
  try {
    const taskPath = join(folder, "task.json");
    const taskFile = {
      technique: options.technique,
      task: options.task,
      checkpointIntervalSeconds: 3600,
      resumeFrom: null,
      profile: null,
      options: {
        mixedPrecision: null,
        activationCheckpointing: false,
        seed: 0,
        processGroupTimeoutSeconds: 60,
        plugins: [...options.plugins],
      },
    };
    writeFileSync(taskPath, `${JSON.stringify(taskFile, null, 2)}\n`);
    const env = options.env ?? process.env;
    const pythonPath = [options.harnessPath, env.PYTHONPATH].filter((part) => part !== undefined && part !== "");
    const result = spawnSync(
      options.python,
      ["-m", "saturn_harness.search", "--task", taskPath, "--gpus", options.gpus.join(",")],
      {
        encoding: "utf8",
        env: { ...env, PYTHONPATH: pythonPath.join(delimiter), PYTHONDONTWRITEBYTECODE: "1" },
        timeout: (options.timeoutSeconds ?? 300) * 1000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    if (result.error !== undefined) {
      throw new HarnessSearchError(
        `could not run ${options.python} -m saturn_harness.search: ${result.error.message}`,
        {
          cause: result.error,
        },
      );
    }
    const stderr = (result.stderr ?? "").trim();
    if (result.status === 2) {
      const message =
        stderr
          .split("\n")
          .at(-1)
          ?.replace(/^saturn_harness\.search: bad input: /, "") ?? "bad input";
      throw new InvalidWorkloadError([{ path: `technique ${options.technique}`, message }], {
        subject: "plug-in search",
      });
    }
    if (result.status !== 0) {
      throw new HarnessSearchError(
        `saturn_harness.search exited ${result.status ?? result.signal}: ${stderr.split("\n").slice(-15).join("\n")}`,
      );
    }
    return parseAnswers(result.stdout ?? "");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function parseAnswers(stdout: string): PluginSearchAnswer[] {
  const answers: PluginSearchAnswer[] = [];
  stdout.split("\n").forEach((line, index) => {
    if (!line.trim().startsWith("{")) return; // a plug-in may print; answers are JSON objects
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new HarnessSearchError(`search output line ${index + 1} is not JSON: ${line.slice(0, 200)}`, {
        cause: error,
      });
    }
    const parsed = pluginSearchAnswerSchema.safeParse(value);
    if (!parsed.success) {
      throw new HarnessSearchError(
        `search output line ${index + 1}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    }
    answers.push(parsed.data);
  });
  return answers;
}
