import { describe, expect, it } from "vitest";
import { readStackConfig, StackConfigError } from "../../cdk/stack-config.ts";
import { DEFAULT_AMI_SSM_PARAMETER } from "../../lambdas/config/stack-contract.ts";

const read = (context: Record<string, unknown>) => readStackConfig((key) => context[key], { agentVersion: "0.1.0" });

describe("readStackConfig", () => {
  it("defaults to the DLAMI parameter, every catalog family, the default VPC and retained data", () => {
    const config = read({});
    expect(config.amiSsmParameter).toBe(DEFAULT_AMI_SSM_PARAMETER);
    expect(config.allowedInstanceTypes).toContain("p5.*");
    expect(config.vpc).toBeUndefined();
    expect(config.retainData).toBe(true);
    expect(config.region).toBe("us-east-1");
  });

  it("reads lists from comma-separated strings and JSON arrays alike", () => {
    expect(read({ allowedInstanceTypes: "g6e, p5.48xlarge" }).allowedInstanceTypes).toEqual(["g6e.*", "p5.48xlarge"]);
    expect(read({ allowedInstanceTypes: ["g6e"] }).allowedInstanceTypes).toEqual(["g6e.*"]);
    expect(read({ vpcId: "vpc-0123abcd", subnetIds: ["subnet-0123abcd"] }).vpc).toEqual({
      vpcId: "vpc-0123abcd",
      subnetIds: ["subnet-0123abcd"],
    });
  });

  it.each([
    [{ vpcId: "vpc-0123abcd" }, /"vpcId" and "subnetIds" go together/],
    [{ subnetIds: "subnet-nothex" }, /"vpcId" and "subnetIds" go together/],
    [{ vpcId: "vpc-0123abcd", subnetIds: "sub-1" }, /"subnetIds": expected subnet ids .* got "sub-1"/],
    [{ defaultBudgetCapUsd: "-5" }, /"defaultBudgetCapUsd": expected a number >= 0, got "-5"/],
    [{ adminPrincipals: "alice" }, /"adminPrincipals": expected IAM principal ARNs .* got "alice"/],
    [{ amiId: "ami-xyz" }, /"amiId": expected an AMI id/],
    [{ retainData: "yes" }, /"retainData": expected true or false, got "yes"/],
    [{ vpcParameters: "true", vpcId: "vpc-0123abcd", subnetIds: "subnet-0123abcd" }, /"vpcParameters"/],
    [{ allowedInstanceTypes: "G6E" }, /"allowedInstanceTypes": expected instance families/],
  ])("rejects %j naming the key, what was expected and what came", (context, message) => {
    expect(() => read(context)).toThrow(StackConfigError);
    expect(() => read(context)).toThrow(message);
  });
});
