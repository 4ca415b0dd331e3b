/** Runs `planner-case.ts` in a child process (pinned to one core where `taskset` exists) and reads its result. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PlannerCaseRequest, PlannerCaseResult } from "./planner-case.ts";

const CASE_SCRIPT = fileURLToPath(new URL("./planner-case.ts", import.meta.url));
const TASKSET = ["/usr/bin/taskset", "/bin/taskset"].find((path) => existsSync(path));

export function runPlannerCase(request: PlannerCaseRequest, timeoutSeconds: number): Promise<PlannerCaseResult> {
  const node = [process.execPath, "--import", "tsx", CASE_SCRIPT, JSON.stringify(request)];
  const [command, ...args] = TASKSET === undefined ? node : [TASKSET, "--cpu-list", "0", ...node];
  return new Promise((resolve) => {
    execFile(
      command as string,
      args,
      { timeout: timeoutSeconds * 1000, maxBuffer: 512 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(line) as PlannerCaseResult);
        } catch {
          resolve({
            ok: false,
            error: `the planner process failed: ${stderr.trim().split("\n").slice(-3).join(" / ") || (error?.message ?? "no result")}`,
            wallSeconds: Number.NaN,
            peakRssMiB: Number.NaN,
          });
        }
      },
    );
  });
}
