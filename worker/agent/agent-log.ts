/** The agent's log: one JSON object per line on stdout (journald keeps it on the instance). */
export interface AgentLog {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export function jsonLineLog(write: (line: string) => void, now: () => Date): AgentLog {
  const emit = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>) =>
    write(`${JSON.stringify({ time: now().toISOString(), level, message, ...fields })}\n`);
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLog: AgentLog = { info() {}, warn() {}, error() {} };
