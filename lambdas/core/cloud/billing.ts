/**
 * EC2 billing for Linux on-demand and spot: per second, with a 60-second minimum each time
 * an instance is launched (AWS announcement, 2017-10-02; ../shared/reference/aws-gpu.md).
 */
export const MINIMUM_BILLED_SECONDS = 60;

export function billedSeconds(launchedAt: number, endedAt: number): number {
  return Math.max(MINIMUM_BILLED_SECONDS, Math.max(0, endedAt - launchedAt));
}

export function billedCostUsd(launchedAt: number, endedAt: number, hourlyPriceUsd: number): number {
  return (billedSeconds(launchedAt, endedAt) * hourlyPriceUsd) / 3600;
}
