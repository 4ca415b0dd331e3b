/**
 * IAM statements for the control plane's EC2 calls, scoped to Saturn's own resources:
 *
 * - launch (RunInstances / CreateFleet): instances, volumes and fleets only when the
 *   request tags them `saturn:workload`; instances only of the allowed types and only with
 *   the worker instance profile; only from Saturn's launch templates, into subnets of the
 *   configured VPC, with the worker security group and placement group;
 * - tags only on create (`ec2:CreateAction`), so the control plane cannot put a
 *   `saturn:` tag on someone else's instance and then terminate it;
 * - terminate only instances that carry `saturn:workload` and the worker profile;
 * - describe calls, which have no resource-level permissions in EC2, on `*`.
 *
 * ARNs here use the stack's partition, region and account.
 */
import { Stack } from "aws-cdk-lib";
import { type IRole, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";
import { WORKLOAD_TAG } from "./worker-fleet.ts";

export const LAUNCH_ACTIONS = ["ec2:RunInstances", "ec2:CreateFleet"] as const;

export const DESCRIBE_ACTIONS = [
  "ec2:DescribeInstances",
  "ec2:DescribeInstanceStatus",
  "ec2:DescribeFleets",
  "ec2:DescribeFleetInstances",
  "ec2:DescribeSpotPriceHistory",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeInstanceTypeOfferings",
  "ec2:DescribeLaunchTemplateVersions",
  "ec2:DescribeSubnets",
  "ec2:DescribeImages",
  "ec2:DescribeAvailabilityZones",
] as const;

export interface Ec2ScopeProps {
  readonly launchTemplateIds: readonly string[];
  readonly securityGroupId: string;
  readonly placementGroupName: string;
  readonly instanceProfileArn: string;
  readonly workerRole: IRole;
  readonly vpcId: string;
  /** Patterns for `ec2:InstanceType`, e.g. `g6e.*`. */
  readonly allowedInstanceTypes: readonly string[];
}

function ec2Arn(scope: Construct, resource: string, name: string, account?: string): string {
  return Stack.of(scope).formatArn({
    service: "ec2",
    resource,
    resourceName: name,
    ...(account === undefined ? {} : { account }),
  });
}

const tagged = { Null: { [`aws:RequestTag/${WORKLOAD_TAG}`]: "false" } };

export function launchStatements(scope: Construct, props: Ec2ScopeProps): PolicyStatement[] {
  const vpcArn = ec2Arn(scope, "vpc", props.vpcId);
  return [
    new PolicyStatement({
      sid: "LaunchTaggedInstancesOfAllowedTypes",
      actions: [...LAUNCH_ACTIONS],
      resources: [ec2Arn(scope, "instance", "*")],
      conditions: {
        ...tagged,
        StringLike: { "ec2:InstanceType": [...props.allowedInstanceTypes] },
        ArnEquals: { "ec2:InstanceProfile": props.instanceProfileArn },
      },
    }),
    new PolicyStatement({
      sid: "CreateTaggedVolumesAndFleets",
      actions: [...LAUNCH_ACTIONS],
      resources: [ec2Arn(scope, "volume", "*"), ec2Arn(scope, "fleet", "*")],
      conditions: tagged,
    }),
    new PolicyStatement({
      sid: "LaunchFromSaturnTemplatesAndNetwork",
      actions: [...LAUNCH_ACTIONS],
      resources: [
        ...props.launchTemplateIds.map((id) => ec2Arn(scope, "launch-template", id)),
        ec2Arn(scope, "security-group", props.securityGroupId),
        ec2Arn(scope, "placement-group", props.placementGroupName),
      ],
    }),
    new PolicyStatement({
      sid: "LaunchIntoSaturnVpc",
      actions: [...LAUNCH_ACTIONS],
      resources: [ec2Arn(scope, "subnet", "*"), ec2Arn(scope, "network-interface", "*")],
      conditions: { ArnEquals: { "ec2:Vpc": vpcArn } },
    }),
    new PolicyStatement({
      sid: "LaunchImagesAndSpotRequests",
      actions: [...LAUNCH_ACTIONS],
      // Public AMIs have no account in their ARN; the template fixes which one is used.
      resources: [ec2Arn(scope, "image", "*", ""), ec2Arn(scope, "spot-instances-request", "*")],
    }),
    new PolicyStatement({
      sid: "TagOnlyOnCreate",
      actions: ["ec2:CreateTags"],
      resources: [
        ec2Arn(scope, "instance", "*"),
        ec2Arn(scope, "volume", "*"),
        ec2Arn(scope, "fleet", "*"),
        ec2Arn(scope, "network-interface", "*"),
        ec2Arn(scope, "spot-instances-request", "*"),
      ],
      conditions: { StringEquals: { "ec2:CreateAction": ["RunInstances", "CreateFleet"] } },
    }),
    new PolicyStatement({
      sid: "PassOnlyTheWorkerRole",
      actions: ["iam:PassRole"],
      resources: [props.workerRole.roleArn],
      conditions: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    }),
    new PolicyStatement({
      sid: "SpotAndFleetServiceLinkedRoles",
      actions: ["iam:CreateServiceLinkedRole"],
      resources: [
        Stack.of(scope).formatArn({ service: "iam", region: "", resource: "role", resourceName: "aws-service-role/*" }),
      ],
      conditions: { StringEquals: { "iam:AWSServiceName": ["spot.amazonaws.com", "ec2fleet.amazonaws.com"] } },
    }),
  ];
}

export function terminateStatement(
  scope: Construct,
  props: Pick<Ec2ScopeProps, "instanceProfileArn">,
): PolicyStatement {
  return new PolicyStatement({
    sid: "TerminateSaturnInstancesOnly",
    actions: ["ec2:TerminateInstances"],
    resources: [ec2Arn(scope, "instance", "*")],
    conditions: {
      Null: { [`ec2:ResourceTag/${WORKLOAD_TAG}`]: "false" },
      ArnEquals: { "ec2:InstanceProfile": props.instanceProfileArn },
    },
  });
}

export function describeStatement(actions: readonly string[] = DESCRIBE_ACTIONS): PolicyStatement {
  return new PolicyStatement({ sid: "DescribeEc2", actions: [...actions], resources: ["*"] });
}

export function serviceQuotasStatement(scope: Construct): PolicyStatement {
  return new PolicyStatement({
    sid: "ReadEc2Quotas",
    actions: ["servicequotas:GetServiceQuota"],
    resources: [Stack.of(scope).formatArn({ service: "servicequotas", resource: "ec2", resourceName: "*" })],
  });
}
