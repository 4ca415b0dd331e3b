import { App, Stack, Validations } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { acknowledgeWildcards, wildcardFindings } from "../../cdk/wildcard-acknowledgments.ts";

function appWithWildcardRole(reasons: Parameters<typeof acknowledgeWildcards>[1]): App {
  const app = new App();
  const stack = new Stack(app, "Probe", { env: { region: "us-east-1" } });
  const role = new Role(stack, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
  role.addToPolicy(new PolicyStatement({ actions: ["ec2:DescribeInstances"], resources: ["*"] }));
  acknowledgeWildcards(role, reasons);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

describe("wildcardFindings", () => {
  it("finds wildcard actions and resources as cdk-nag's IAM5 names them", () => {
    const findings = wildcardFindings({
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:Get*", "s3:PutObject"],
          Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": ["B", "Arn"] }, "/x/*"]] },
        },
        { Effect: "Deny", Action: "*", Resource: "*" },
      ],
    });
    expect(findings).toEqual(["Action::s3:Get*", "Resource::<B.Arn>/x/*"]);
  });
});

describe("acknowledgeWildcards", () => {
  it("leaves a wildcard that no reason covers to fail the cdk-nag check", () => {
    const app = appWithWildcardRole([{ pattern: /^Resource::arn:/, reason: "covers something else" }]);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
  });

  it("acknowledges a wildcard that a reason covers", () => {
    const app = appWithWildcardRole([
      { pattern: /^Resource::\*$/, reason: "Describe calls have no resource-level permissions." },
    ]);
    expect(() => app.synth()).not.toThrow();
  });
});
