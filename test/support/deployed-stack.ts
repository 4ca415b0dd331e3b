/**
 * The Saturn stack as deployed into the emulator by the global setup (a moto server of its
 * own that no test resets). A test file that imports this module makes the setup deploy.
 * Tests that write to the deployed table or queues use their own workload ids, since every
 * file of the run shares the one deployment.
 */
import { inject } from "vitest";
import type { DeployedStack } from "../../cdk/emulator-deployment.ts";
import type { EnvName } from "../../lambdas/config/stack-contract.ts";

export type { DeployedStack };

export function deployedStack(): DeployedStack {
  const stack = inject("deployedStack");
  if (stack === null) {
    throw new Error("the global setup deployed no stack: the test file must import test/support/deployed-stack.ts");
  }
  return stack;
}

/** SDK client options for the emulator that holds the deployed stack. */
export function deployedClientConfig() {
  const stack = deployedStack();
  return {
    region: stack.region,
    endpoint: stack.endpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
}

/** The environment each control-plane Lambda gets, as deployed (for in-process handlers). */
export function deployedEnvironment(): Readonly<Record<EnvName, string>> {
  return deployedStack().environment;
}
