/**
 * The local stack's clock: virtual time that the handlers, the simulated workers and the
 * schedule all read, so a workload planned for hours runs in seconds. It moves only when
 * the stack's loop advances it (by `scale` x the real time that passed, or by an explicit
 * step in tests), never on its own, so every component sees the same instant during a step.
 *
 * It also remembers when (in real time) it stood where, so a timestamp the emulator wrote
 * with its own wall clock (moto's `LaunchTime`, its "User initiated (...)" reasons) can be
 * read as the virtual instant in force at that real moment (`virtualAt`).
 */
export class VirtualClock {
  #nowMs: number;
  readonly #realNow: () => number;
  /** (real ms, virtual ms) at construction and after every move, real times ascending. */
  readonly #history: { readonly realMs: number; readonly virtualMs: number }[] = [];

  constructor(startMs: number, realNow: () => number = Date.now) {
    this.#nowMs = startMs;
    this.#realNow = realNow;
    this.#remember();
  }

  /** Milliseconds since the epoch, virtual. */
  readonly nowMs = (): number => this.#nowMs;
  readonly nowSeconds = (): number => this.#nowMs / 1000;
  readonly date = (): Date => new Date(this.#nowMs);

  advanceBy(milliseconds: number): void {
    if (milliseconds > 0) {
      this.#nowMs += milliseconds;
      this.#remember();
    }
  }

  advanceTo(ms: number): void {
    if (ms > this.#nowMs) {
      this.#nowMs = ms;
      this.#remember();
    }
  }

  /**
   * The virtual time (ms) the clock showed at real time `realMs`: what every component
   * read as "now" at that moment. Before the clock existed: its start.
   */
  readonly virtualAt = (realMs: number): number => {
    let low = 0;
    let high = this.#history.length - 1;
    const first = this.#history[0];
    if (first === undefined || realMs < first.realMs) return first?.virtualMs ?? this.#nowMs;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if ((this.#history[mid]?.realMs ?? Number.POSITIVE_INFINITY) <= realMs) low = mid;
      else high = mid - 1;
    }
    return this.#history[low]?.virtualMs ?? this.#nowMs;
  };

  #remember(): void {
    const realMs = this.#realNow();
    const last = this.#history.at(-1);
    // Several moves within one real millisecond: the latest one is what was in force.
    if (last !== undefined && last.realMs === realMs) this.#history.pop();
    this.#history.push({ realMs: Math.max(realMs, last?.realMs ?? realMs), virtualMs: this.#nowMs });
  }
}
