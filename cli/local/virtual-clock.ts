/**
 * The local stack's clock: virtual time that the handlers, the simulated workers and the
 * schedule all read, so a workload planned for hours runs in seconds. It moves only when
 * the stack's loop advances it (by `scale` x the real time that passed, or by an explicit
 * step in tests), never on its own, so every component sees the same instant during a step.
 */
export class VirtualClock {
  #nowMs: number;

  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  /** Milliseconds since the epoch, virtual. */
  readonly nowMs = (): number => this.#nowMs;
  readonly nowSeconds = (): number => this.#nowMs / 1000;
  readonly date = (): Date => new Date(this.#nowMs);

  advanceBy(milliseconds: number): void {
    if (milliseconds > 0) this.#nowMs += milliseconds;
  }

  advanceTo(ms: number): void {
    this.#nowMs = Math.max(this.#nowMs, ms);
  }
}
