/**
 * Starts and signals child processes. The harness runs in its own process group
 * (`detached`), so a stop reaches torchrun and every rank it started, and an abandoned
 * attempt leaves no orphan rank holding a GPU.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** stdout and stderr, together, are appended to this file when given. */
  readonly logFile?: string;
  readonly onOutput?: (chunk: Buffer) => void;
}

export interface ProcessExit {
  /** The exit status; 128 + signal number when a signal ended it (the shell's convention). */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<ProcessExit>;
  /** Signals the whole process group. */
  signal(signal: NodeJS.Signals): void;
}

export interface ProcessRunner {
  start(spec: ProcessSpec): RunningProcess;
}

const SIGNAL_NUMBERS: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGABRT: 6,
  SIGSEGV: 11,
};

export const nodeProcessRunner: ProcessRunner = {
  start(spec) {
    const log = spec.logFile ? createWriteStream(spec.logFile, { flags: "a" }) : undefined;
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const forward = (chunk: Buffer) => {
      log?.write(chunk);
      spec.onOutput?.(chunk);
    };
    child.stdout?.on("data", forward);
    child.stderr?.on("data", forward);
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once("error", (error) => {
        const line = `saturn-agent: could not start ${spec.command}: ${error.message}\n`;
        forward(Buffer.from(line));
        if (log) log.end(() => resolve({ exitCode: 127, signal: null }));
        else resolve({ exitCode: 127, signal: null });
      });
      child.once("close", (code, signal) => {
        const exitCode = code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0);
        if (log) log.end(() => resolve({ exitCode, signal }));
        else resolve({ exitCode, signal });
      });
    });
    return {
      pid: child.pid,
      exited,
      signal(signal) {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is already gone: nothing left to signal.
        }
      },
    };
  },
};
