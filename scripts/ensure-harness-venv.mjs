#!/usr/bin/env node
/**
 * Creates `.venv-harness/` with the harness's pinned requirements
 * (`worker/harness/requirements.txt`) when it is missing or stale, so `npm test` works on a
 * fresh clone without a manual step. Stale = the SHA-256 of the requirements file differs
 * from the one recorded after the last successful install.
 *
 * Speed: pip on these machines lists the local package mirror as an *extra* index, so a
 * plain install first asks the public index for every package (6 min measured); naming the
 * mirror as the index itself takes about 40 s. When PIP_INDEX_URL is unset, the first
 * extra index of `pip config list` becomes the index and the rest stay extra indexes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const venv = join(root, ".venv-harness");
const requirements = join(root, "worker", "harness", "requirements.txt");
const stamp = join(venv, ".requirements-sha256");
const python = join(venv, "bin", "python");

const wanted = createHash("sha256").update(readFileSync(requirements)).digest("hex");
if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) {
  process.stdout.write(`harness venv up to date (${venv})\n`);
  process.exit(0);
}

function pipIndexes() {
  if (process.env.PIP_INDEX_URL) return {};
  let listing = "";
  try {
    listing = execFileSync("python3", ["-m", "pip", "config", "list"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return {};
  }
  const line = listing.split("\n").find((entry) => /^(global|user|site)\.extra-index-url=/.test(entry));
  if (line === undefined) return {};
  const urls = line
    .replace(/^[^=]+=/, "")
    .replace(/^'|'$/g, "")
    .split(/\s+/)
    .filter(Boolean);
  if (urls.length === 0) return {};
  return { PIP_INDEX_URL: urls[0], PIP_EXTRA_INDEX_URL: urls.slice(1).join(" ") };
}

function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });
  if (result.status !== 0) {
    process.stderr.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
    throw new Error(`${command} ${args.join(" ")} exited ${result.status ?? result.signal}`);
  }
}

process.stdout.write(`creating the harness venv ${venv} from ${requirements} ...\n`);
const started = Date.now();
rmSync(venv, { recursive: true, force: true });
run("python3", ["-m", "venv", venv], {});
const indexes = pipIndexes();
run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements], indexes);
writeFileSync(stamp, `${wanted}\n`);
process.stdout.write(
  `harness venv ready in ${((Date.now() - started) / 1000).toFixed(0)} s` +
    `${indexes.PIP_INDEX_URL ? ` (index ${indexes.PIP_INDEX_URL})` : ""}\n`,
);
