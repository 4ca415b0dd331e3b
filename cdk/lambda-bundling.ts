/**
 * How every control-plane Lambda is bundled: esbuild on this machine (never Docker), ESM
 * for nodejs22.x, minified with source maps. The AWS SDK v3 stays external (the runtime
 * provides it). Functions that solve MILPs also get `highs.wasm` next to `index.mjs`:
 * the `highs` package loads it with `new URL("highs.wasm", import.meta.url)`, which
 * esbuild leaves as is, so the file must sit beside the bundle.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BundlingOptions, LogLevel, OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const HIGHS_WASM = "node_modules/highs/build/highs.wasm";

/** CommonJS dependencies bundled into ESM still call `require`; give them one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __saturnCreateRequire } from 'node:module'; const require = __saturnCreateRequire(import.meta.url);";

export const ESBUILD_TARGET = "node22";

export function bundlingFor(options: { readonly withHighs: boolean }): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: ESBUILD_TARGET,
    mainFields: ["module", "main"],
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourceMap: true,
    sourceMapMode: SourceMapMode.DEFAULT,
    externalModules: ["@aws-sdk/*"],
    forceDockerBundling: false,
    logLevel: LogLevel.ERROR,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) =>
        options.withHighs ? [`cp "${path.join(inputDir, HIGHS_WASM)}" "${path.join(outputDir, "highs.wasm")}"`] : [],
    },
  };
}
