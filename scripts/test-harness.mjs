#!/usr/bin/env node
/**
 * `npm run test:harness`: makes sure `.venv-harness/` is current (ensure-harness-venv.mjs),
 * then runs the harness's pytest suite in `worker/harness/` with that interpreter. Pytest's
 * own output (with its summary line and the per-test durations) goes straight to the
 * terminal. Exit 5 (no tests collected) is turned into a failure with a reason: a suite
 * that silently runs nothing must not pass.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ensure = spawnSync(process.execPath, [join(root, "scripts", "ensure-harness-venv.mjs")], { stdio: "inherit" });
if (ensure.status !== 0) process.exit(ensure.status ?? 1);

const python = join(root, ".venv-harness", "bin", "python");
const pytest = spawnSync(python, ["-m", "pytest", "-q", ...process.argv.slice(2)], {
  cwd: join(root, "worker", "harness"),
  stdio: "inherit",
});
if (pytest.status === 5) {
  process.stderr.write("harness tests: pytest collected no tests in worker/harness/tests; that is a failure\n");
  process.exit(1);
}
process.exit(pytest.status ?? 1);
