// Enforces the first layering rule: lambdas/core is pure domain logic.
// It may not import anything that performs I/O or reads ambient state.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../lambdas/core/", import.meta.url).pathname;
const forbidden = [
  /^node:(fs|fs\/promises|child_process|net|http|https|dgram|dns|tls|worker_threads|os|process)$/,
  /^(fs|child_process|net|http|https|os)$/,
  /^@aws-sdk\//,
  /^@smithy\//,
  /^@middy\//,
  /^@aws-lambda-powertools\//,
  /^highs$/,
  /^aws-cdk-lib/,
];
const ambient = [/\bprocess\.env\b/, /\bDate\.now\(/, /\bnew Date\(\)/, /\bMath\.random\(/];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const problems = [];
for (const file of files(root)) {
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(
    /(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g,
  )) {
    const spec = match[1] ?? match[2];
    if (forbidden.some((re) => re.test(spec))) problems.push(`${relative(process.cwd(), file)}: imports ${spec}`);
  }
  for (const re of ambient) {
    if (re.test(text))
      problems.push(
        `${relative(process.cwd(), file)}: uses ${re.source.replaceAll("\\", "")} (pass it in through a port)`,
      );
  }
}
if (problems.length > 0) {
  console.error("lambdas/core must stay free of I/O and ambient state:\n  " + problems.join("\n  "));
  process.exit(1);
}
