/**
 * cdk-nag v3 wants one acknowledgment per IAM5 finding (`AwsSolutions-IAM5[Resource::...]`),
 * and a finding's text embeds the resolved ARN, which changes with the stack's account and
 * region. So instead of hard-coding finding ids, this walks a role's policies once they are
 * complete, computes the findings exactly as cdk-nag's IAM5 rule does, and acknowledges
 * each one whose text matches a reviewed pattern, with that pattern's reason. A wildcard
 * that matches no pattern stays unacknowledged and fails the nag check: new wildcards need
 * a new, reasoned entry.
 */
import { Stack, Validations } from "aws-cdk-lib";
import { CfnPolicy } from "aws-cdk-lib/aws-iam";
import { flattenCfnReference } from "cdk-nag/lib/utils/flatten-cfn-reference.js";
import type { IConstruct } from "constructs";

export interface WildcardReason {
  /** Matched against the finding, e.g. `Resource::arn:<AWS::Partition>:ec2:...:instance/*`. */
  readonly pattern: RegExp;
  readonly reason: string;
}

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly Resource?: unknown;
}

const asArray = (value: unknown): readonly unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** The IAM5 finding texts of one policy document (cdk-nag's `analyzePolicy`). */
export function wildcardFindings(document: { readonly Statement?: readonly PolicyStatementJson[] }): string[] {
  const findings = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== "Allow") continue;
    for (const action of asArray(statement.Action)) {
      if (typeof action === "string" && action.includes("*")) findings.add(`Action::${action}`);
    }
    for (const resource of asArray(statement.Resource)) {
      const flat = flattenCfnReference(resource);
      if (flat.includes("*")) findings.add(`Resource::${flat}`);
    }
  }
  return [...findings];
}

/** Acknowledges the IAM5 findings of every policy under `scope` that a reason covers. */
export function acknowledgeWildcards(scope: IConstruct, reasons: readonly WildcardReason[]): void {
  const stack = Stack.of(scope);
  for (const child of scope.node.findAll()) {
    if (!(child instanceof CfnPolicy)) continue;
    const document = stack.resolve(child.policyDocument);
    for (const finding of wildcardFindings(document)) {
      const match = reasons.find((entry) => entry.pattern.test(finding));
      if (match) Validations.of(child).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: match.reason });
    }
  }
}
