/**
 * One color per job, stable for a given job order. Hues step by the golden angle so that
 * neighbouring jobs (often sweep siblings) get clearly different colors.
 */
const GOLDEN_ANGLE_DEGREES = 137.508;

export function jobColors(jobIds: readonly string[]): ReadonlyMap<string, string> {
  const colors = new Map<string, string>();
  for (const jobId of jobIds) {
    if (colors.has(jobId)) continue;
    const index = colors.size;
    const hue = (index * GOLDEN_ANGLE_DEGREES) % 360;
    // Alternate lightness so that hues that come round again stay distinguishable.
    const lightness = index % 2 === 0 ? 52 : 40;
    colors.set(jobId, `hsl(${hue.toFixed(1)}, 62%, ${lightness}%)`);
  }
  return colors;
}
