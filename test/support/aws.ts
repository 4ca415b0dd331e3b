/** Emulator access for integration tests: endpoint, credentials, and a state reset. */
import { inject } from "vitest";

export const TEST_REGION = "us-east-1";

export function awsEndpoint(): string {
  return inject("awsEndpoint");
}

/** Client options that point any AWS SDK v3 client at the emulator with dummy credentials. */
export function emulatorClientConfig(region = TEST_REGION) {
  return {
    region,
    endpoint: awsEndpoint(),
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
}

/** Wipes all emulator state (moto only; LocalStack state is left to the caller). */
export async function resetEmulator(): Promise<void> {
  if (inject("awsEmulator") !== "moto") return;
  const response = await fetch(`${awsEndpoint()}/moto-api/reset`, { method: "POST" });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}
