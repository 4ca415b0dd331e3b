/** Tick positions for a time axis in seconds: round steps (minutes or hours) that give 4-12 ticks. */
const STEPS_SECONDS = [
  60,
  300,
  600,
  900,
  1800,
  3600,
  2 * 3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  24 * 3600,
  48 * 3600,
  7 * 24 * 3600,
];

export function timeTicks(horizonSeconds: number): { readonly step: number; readonly ticks: readonly number[] } {
  const horizon = Math.max(horizonSeconds, 1);
  const step =
    STEPS_SECONDS.find((candidate) => horizon / candidate <= 12) ?? Math.ceil(horizon / 12 / 86_400) * 86_400;
  const ticks: number[] = [];
  for (let tick = 0; tick <= horizon + 1e-9; tick += step) ticks.push(tick);
  return { step, ticks };
}

export function formatTick(seconds: number, step: number): string {
  if (step < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
