/**
 * A step function of resource use over time (vCPUs of a quota, GPUs of an instance), with
 * "earliest time from which `amount` more fits for `duration`" queries. Baselines place
 * jobs one by one through it, which is what makes their schedules respect capacity and
 * quotas at every moment.
 *
 * Invariant: `times` is strictly increasing and starts at 0; `usage[k]` holds on
 * [times[k], times[k+1]) and the last value holds for ever after.
 */
export class UsageProfile {
  readonly #times: number[] = [0];
  readonly #usage: number[] = [0];
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /**
   * Earliest t >= from such that use + amount <= capacity on [t, t + duration); undefined
   * when amount alone exceeds the capacity. Linear in the number of breakpoints: a window
   * that meets an overfull step restarts after that step.
   */
  earliestFit(from: number, duration: number, amount: number): number | undefined {
    if (amount > this.capacity + 1e-9) return undefined;
    const limit = this.capacity - amount + 1e-9;
    let start = from;
    let index = this.#indexAt(start);
    for (;;) {
      let scan = index;
      let blockedUntil: number | undefined;
      while (scan < this.#times.length && (scan === index || (this.#times[scan] as number) < start + duration)) {
        if ((this.#usage[scan] as number) > limit) {
          blockedUntil = this.#times[scan + 1];
          if (blockedUntil === undefined) return undefined; // full for ever: cannot happen once every add() ends
          break;
        }
        scan++;
      }
      if (blockedUntil === undefined) return start;
      start = Math.max(start, blockedUntil);
      index = this.#indexAt(start);
    }
  }

  /** Peak use on [start, end). */
  peak(start: number, end: number): number {
    let peak = 0;
    for (let index = this.#indexAt(start); index < this.#times.length; index++) {
      if (index > this.#indexAt(start) && (this.#times[index] as number) >= end) break;
      peak = Math.max(peak, this.#usage[index] as number);
    }
    return peak;
  }

  add(start: number, end: number, amount: number): void {
    if (end <= start) return;
    const first = this.#split(start);
    const last = this.#split(end);
    for (let index = first; index < last; index++) this.#usage[index] = (this.#usage[index] as number) + amount;
  }

  /** Index of the step that holds at `time`. */
  #indexAt(time: number): number {
    let low = 0;
    let high = this.#times.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.#times[middle] as number) <= time) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Ensures a breakpoint at `time` and returns its index. */
  #split(time: number): number {
    const index = this.#indexAt(time);
    if (this.#times[index] === time) return index;
    this.#times.splice(index + 1, 0, time);
    this.#usage.splice(index + 1, 0, this.#usage[index] as number);
    return index + 1;
  }
}
