/**
 * The planner and reconciler Lambdas solve MILPs with the `highs` WebAssembly build. This
 * bundles a probe that imports the HiGHS adapter with the stack's esbuild settings (ESM,
 * node22, module main fields, the require banner, the SDK external), runs the stack's
 * after-bundling hook, and solves a small MILP with the bundle in a fresh Node process,
 * as the Lambda runtime would load it.
 */
import { execFileSync, execSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { bundlingFor, REPO_ROOT } from "../../cdk/lambda-bundling.ts";

const workdir = mkdtempSync(path.join(tmpdir(), "saturn-highs-bundle-"));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

describe("the Lambda bundling of HiGHS", () => {
  it("loads highs.wasm from beside the ESM bundle and solves", async () => {
    const entry = path.join(workdir, "probe.ts");
    writeFileSync(
      entry,
      [
        `import { HighsSolver } from ${JSON.stringify(path.join(REPO_ROOT, "lambdas/adapters/highs-solver.ts"))};`,
        "const lp = 'Maximize\\n obj: x + 2 y\\nSubject To\\n c1: x + y <= 3\\nBounds\\n 0 <= x <= 2\\n 0 <= y <= 2\\nGeneral\\n x\\n y\\nEnd\\n';",
        "const solution = await new HighsSolver().solve({ lp, columns: ['x', 'y'] }, { timeLimitSeconds: 10, mipGap: 0 });",
        "console.log(JSON.stringify({ status: solution.status, objective: solution.objective }));",
      ].join("\n"),
    );
    const options = bundlingFor({ withHighs: true });
    const outdir = path.join(workdir, "asset");
    await build({
      entryPoints: [entry],
      outfile: path.join(outdir, "index.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: options.target,
      mainFields: options.mainFields ? [...options.mainFields] : undefined,
      banner: { js: options.banner ?? "" },
      external: options.externalModules ? [...options.externalModules] : [],
      minify: true,
      logLevel: "error",
    });
    for (const command of options.commandHooks?.afterBundling(REPO_ROOT, outdir) ?? []) execSync(command);
    const output = execFileSync(process.execPath, [path.join(outdir, "index.mjs")], { cwd: outdir, encoding: "utf8" });
    expect(JSON.parse(output.trim())).toEqual({ status: "optimal", objective: 5 });
  });

  it("copies nothing for functions that do not solve", () => {
    expect(bundlingFor({ withHighs: false }).commandHooks?.afterBundling(REPO_ROOT, "/out")).toEqual([]);
  });
});
