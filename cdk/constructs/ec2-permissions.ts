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
 * ARNs here use the stack's partition and account, and every region the deployment
 * covers. In another region the launch templates, security group and placement group are
 * the regional stack's, whose ids the home stack does not know (no cross-region
 * references): they are allowed by their `saturn:deployment` tag instead. Subnets there
 * carry no VPC condition; EC2 requires the security group and the subnet to share a VPC,
 * and the security group is the tagged one, so the VPC is still the regional stack's.
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
  // Another region's launch templates and placement group are found by their tags.
  "ec2:DescribeLaunchTemplates",
  "ec2:DescribePlacementGroups",
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
  /** Regions with a regional stack (the home region excluded). Default: none. */
  readonly otherRegions?: readonly string[];
  /** The `saturn:deployment` tag value of the regional stacks' resources (the stack name). */
  readonly deployment?: string;
}

/** Tag the regional stacks put on everything (cdk/regional-stack.ts); IAM conditions key on it. */
export const DEPLOYMENT_TAG = "saturn:deployment";

function ec2Arn(scope: Construct, resource: string, name: string, account?: string, region?: string): string {
  return Stack.of(scope).formatArn({
    service: "ec2",
    resource,
    resourceName: name,
    ...(account === undefined ? {} : { account }),
    ...(region === undefined ? {} : { region }),
  });
}

/** The home region's ARN (the stack's region token) and each other region's. */
function everyRegion(scope: Construct, props: Pick<Ec2ScopeProps, "otherRegions">, resource: string, account?: string) {
  return [
    ec2Arn(scope, resource, "*", account),
    ...(props.otherRegions ?? []).map((region) => ec2Arn(scope, resource, "*", account, region)),
  ];
}

const tagged = { Null: { [`aws:RequestTag/${WORKLOAD_TAG}`]: "false" } };

export function launchStatements(scope: Construct, props: Ec2ScopeProps): PolicyStatement[] {
  const vpcArn = ec2Arn(scope, "vpc", props.vpcId);
  return [
    new PolicyStatement({
      sid: "LaunchTaggedInstancesOfAllowedTypes",
      actions: [...LAUNCH_ACTIONS],
      resources: everyRegion(scope, props, "instance"),
      conditions: {
        ...tagged,
        StringLike: { "ec2:InstanceType": [...props.allowedInstanceTypes] },
        ArnEquals: { "ec2:InstanceProfile": props.instanceProfileArn },
      },
    }),
    new PolicyStatement({
      sid: "CreateTaggedVolumesAndFleets",
      actions: [...LAUNCH_ACTIONS],
      resources: [...everyRegion(scope, props, "volume"), ...everyRegion(scope, props, "fleet")],
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
      resources: [...everyRegion(scope, props, "image", ""), ...everyRegion(scope, props, "spot-instances-request")],
    }),
    ...regionalLaunchStatements(scope, props),
    new PolicyStatement({
      sid: "TagOnlyOnCreate",
      actions: ["ec2:CreateTags"],
      resources: ["instance", "volume", "fleet", "network-interface", "spot-instances-request"].flatMap((resource) =>
        everyRegion(scope, props, resource),
      ),
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

/** Launching in other regions: their regional stacks' templates, groups and subnets. */
function regionalLaunchStatements(scope: Construct, props: Ec2ScopeProps): PolicyStatement[] {
  const regions = props.otherRegions ?? [];
  if (regions.length === 0) return [];
  if (props.deployment === undefined) throw new Error("Ec2ScopeProps: otherRegions need the deployment tag value");
  const inRegions = (resource: string) => regions.map((region) => ec2Arn(scope, resource, "*", undefined, region));
  return [
    new PolicyStatement({
      sid: "LaunchFromRegionalStacks",
      actions: [...LAUNCH_ACTIONS],
      resources: [...inRegions("launch-template"), ...inRegions("security-group"), ...inRegions("placement-group")],
      conditions: { StringEquals: { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: props.deployment } },
    }),
    new PolicyStatement({
      sid: "LaunchIntoRegionalSubnets",
      actions: [...LAUNCH_ACTIONS],
      resources: [...inRegions("subnet"), ...inRegions("network-interface")],
    }),
  ];
}

export function terminateStatement(
  scope: Construct,
  props: Pick<Ec2ScopeProps, "instanceProfileArn" | "otherRegions">,
): PolicyStatement {
  return new PolicyStatement({
    sid: "TerminateSaturnInstancesOnly",
    actions: ["ec2:TerminateInstances"],
    resources: everyRegion(scope, props, "instance"),
    conditions: {
      Null: { [`ec2:ResourceTag/${WORKLOAD_TAG}`]: "false" },
      ArnEquals: { "ec2:InstanceProfile": props.instanceProfileArn },
    },
  });
}

export function describeStatement(actions: readonly string[] = DESCRIBE_ACTIONS): PolicyStatement {
  return new PolicyStatement({ sid: "DescribeEc2", actions: [...actions], resources: ["*"] });
}

/** Quotas of every region the deployment plans in (home first; `regions[0]` is the stack's own). */
export function serviceQuotasStatement(scope: Construct, regions: readonly string[] = []): PolicyStatement {
  const stack = Stack.of(scope);
  return new PolicyStatement({
    sid: "ReadEc2Quotas",
    actions: ["servicequotas:GetServiceQuota"],
    resources: [
      stack.formatArn({ service: "servicequotas", resource: "ec2", resourceName: "*" }),
      ...regions
        .slice(1)
        .map((region) => stack.formatArn({ service: "servicequotas", region, resource: "ec2", resourceName: "*" })),
    ],
  });
}
