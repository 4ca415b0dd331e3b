/**
 * A headless Chromium for tests that render pages, with nothing installed beyond `npm ci`.
 *
 * The browser comes from the `@sparticuz/chromium` npm package (a Brotli-packed Linux x64
 * Chromium 143 that unpacks itself into the temp directory on first use) driven by the
 * matching `puppeteer-core` (24.32.1 speaks to Chrome 143.0.7499). Where that build cannot
 * run (not Linux x64), a system Chromium on the PATH is used when one is present. The
 * variable SATURN_CHROMIUM names a browser binary to use instead of both.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { arch, platform } from "node:os";
import type { Browser } from "puppeteer-core";

/** Where the browser came from, for messages. */
export interface BrowserBinary {
  readonly executablePath: string;
  readonly source: "npm" | "system" | "SATURN_CHROMIUM";
  readonly args: readonly string[];
}

export class NoHeadlessBrowserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NoHeadlessBrowserError";
  }
}

const commonArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
];

export async function findBrowserBinary(): Promise<BrowserBinary> {
  const named = process.env.SATURN_CHROMIUM;
  if (named !== undefined && named !== "") {
    if (!existsSync(named)) throw new NoHeadlessBrowserError(`SATURN_CHROMIUM names ${named}, which does not exist`);
    return { executablePath: named, source: "SATURN_CHROMIUM", args: commonArgs };
  }
  let npmFailure: unknown;
  if (platform() === "linux" && arch() === "x64") {
    try {
      const { default: chromium } = await import("@sparticuz/chromium");
      chromium.setGraphicsMode = false;
      const executablePath = await chromium.executablePath();
      return { executablePath, source: "npm", args: [...chromium.args, ...commonArgs] };
    } catch (error) {
      npmFailure = error;
    }
  }
  const system = systemChromium();
  if (system !== undefined) return { executablePath: system, source: "system", args: commonArgs };
  throw new NoHeadlessBrowserError(
    `expected the @sparticuz/chromium package to provide a headless Chromium (Linux x64, after \`npm ci\`) ` +
      `or a chromium, chromium-browser or google-chrome on the PATH; got neither on ${platform()}/${arch()}`,
    { cause: npmFailure },
  );
}

function systemChromium(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const found = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (found !== "") return found;
    } catch {
      // not this name; try the next
    }
  }
  return undefined;
}

export async function launchHeadlessBrowser(): Promise<Browser> {
  const binary = await findBrowserBinary();
  const { default: puppeteer } = await import("puppeteer-core");
  try {
    return await puppeteer.launch({
      executablePath: binary.executablePath,
      args: [...binary.args],
      // The npm build is chrome-headless-shell; a system Chromium runs the new headless mode.
      headless: binary.source === "npm" ? "shell" : true,
      timeout: 45_000,
    });
  } catch (error) {
    throw new NoHeadlessBrowserError(`the ${binary.source} Chromium at ${binary.executablePath} did not start`, {
      cause: error,
    });
  }
}
