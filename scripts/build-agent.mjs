// Bundles the worker agent into one file, worker/dist/saturn-agent.mjs, and packs it with
// the harness into worker/dist/saturn-agent.tgz: the file user data fetches from
// `agent/<version>/saturn-agent.tgz` in the stack's bucket when the AMI is not baked.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("../", import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
mkdirSync(`${root}worker/dist`, { recursive: true });
await build({
  entryPoints: [`${root}worker/agent/main.ts`],
  outfile: `${root}worker/dist/saturn-agent.mjs`,
  bundle: true,
  platform: "node",
  // The AMI installs Node 22; 20 is the oldest the agent supports (the development machines).
  target: "node20",
  format: "esm",
  minify: false,
  sourcemap: false,
  legalComments: "none",
  // Some SDK dependencies are CommonJS and call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __saturnCreateRequire } from 'node:module'; const require = __saturnCreateRequire(import.meta.url);",
  },
  define: { "process.env.SATURN_AGENT_VERSION": JSON.stringify(version) },
  logLevel: "warning",
});
const members = [
  "worker/dist/saturn-agent.mjs",
  "worker/install-worker.sh",
  "worker/saturn-agent.service",
  "worker/user-data.sh",
];
if (existsSync(`${root}worker/harness`)) members.push("worker/harness");
execFileSync(
  "tar",
  [
    "-czf",
    "worker/dist/saturn-agent.tgz",
    "--exclude=__pycache__",
    "--exclude=.pytest_cache",
    "--exclude=*.pyc",
    ...members,
  ],
  { cwd: root },
);
process.stdout.write(
  `built worker/dist/saturn-agent.mjs and worker/dist/saturn-agent.tgz (${members.join(", ")}), version ${version}\n`,
);
