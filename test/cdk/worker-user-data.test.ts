import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderWorkerUserData, WorkerUserDataError } from "../../cdk/worker-user-data.ts";

const values = {
  bucketName: "saturn-bucket",
  workerEventsQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/saturn-worker-events",
  region: "us-east-1",
  agentVersion: "0.1.0",
};

describe("renderWorkerUserData", () => {
  it("fills every placeholder and stays valid bash", () => {
    const script = renderWorkerUserData(values);
    expect(script).not.toMatch(/__SATURN_/);
    expect(script).toContain('BUCKET="saturn-bucket"');
    expect(script).toMatch(/agent\/\$\{AGENT_VERSION\}\/saturn-agent\.tgz/);
    expect(script).toContain('saturn-agent.mjs" --self-check');
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
  });

  it("halts the instance when the bootstrap fails", () => {
    expect(renderWorkerUserData(values)).toMatch(/trap '.*shutdown -h now' ERR/);
  });

  it("names a placeholder the template has but no value fills", () => {
    expect(() => renderWorkerUserData(values, "X=__SATURN_NEW_THING__")).toThrow(WorkerUserDataError);
    expect(() => renderWorkerUserData(values, "X=__SATURN_NEW_THING__")).toThrow("__SATURN_NEW_THING__");
  });
});
