/**
 * For CLI tests that call `main()` directly: a fresh temp directory per test, and everything
 * the command writes to stdout and stderr captured instead of printed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, vi } from "vitest";

export interface CliSession {
  /** A directory of this test's own, removed after it. */
  directory: string;
  readonly stdout: string[];
  readonly stderr: string[];
}

export function useCliSession(prefix: string): CliSession {
  const session: CliSession = { directory: "", stdout: [], stderr: [] };
  beforeEach(() => {
    session.directory = mkdtempSync(join(tmpdir(), prefix));
    session.stdout.length = 0;
    session.stderr.length = 0;
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      session.stdout.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      session.stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(session.directory, { recursive: true, force: true });
  });
  return session;
}
