/**
 * Seeded pseudo-random numbers: the core never calls Math.random, so every random choice
 * (simulated faults, generated workloads, property-test cases) is reproducible from a seed.
 * Every draw of the simulated cloud comes from a stream keyed by (seed, purpose, subject),
 * so one instance's interruption never shifts another's under any action order.
 */
export type RandomStream = () => number;

/** mulberry32: a small, well-mixed 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): RandomStream {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function seededStream(seed: number, ...key: readonly (string | number)[]): RandomStream {
  return mulberry32(hashString(`${seed}|${key.join("|")}`) || 0x9e3779b9);
}

/** Exponential draw with the given rate per unit (Infinity when the rate is 0). */
export function exponential(random: RandomStream, rate: number): number {
  if (rate <= 0) return Number.POSITIVE_INFINITY;
  return -Math.log(1 - random()) / rate;
}

/** Standard normal draw (Box-Muller). */
export function standardNormal(random: RandomStream): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
