/** Placeholder replaced below by the local stack command. */
import type { Command } from "commander";

export function registerLocalCommand(_program: Command): void {}
