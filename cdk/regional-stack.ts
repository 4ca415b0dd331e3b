/**
 * What one more region needs for Saturn to launch workers there: the worker fleet
 * (launch templates with the home stack's IMDSv2, encrypted-EBS and user-data settings, a
 * security group open only to itself, a cluster placement group) in that region's default
 * VPC or the given one, and a rule that forwards the region's EC2 events to the home bus.
 *
 * No IAM here (IAM is global; the home stack owns the worker profile and the forwarding
 * role) and no CloudFormation reference to the home stack: what the workers need from home
 * has fixed names (deployment-names.ts). The control plane finds this stack's resources at
 * run time by their tags (`REGIONAL_TAGS` in lambdas/adapters/ec2-fleet.ts): everything
 * carries `saturn:deployment` (the placement group is found by it), and the launch
 * templates say which they are and name their subnets.
 *
 * Synthesized without bootstrap resources (`BootstraplessSynthesizer`): the stack has no
 * assets, so a region needs no `cdk bootstrap` to host it.
 */
import { BootstraplessSynthesizer, CfnOutput, Stack, type StackProps, Tags } from "aws-cdk-lib";
import { InstanceProfile } from "aws-cdk-lib/aws-iam";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { REGIONAL_TAGS } from "../lambdas/adapters/ec2-fleet.ts";
import { EventForwardingRule } from "./constructs/event-forwarding.ts";
import { WorkerFleet } from "./constructs/worker-fleet.ts";
import {
  artifactBucketName,
  workerEventsQueueArn,
  workerEventsQueueUrl,
  workerInstanceProfileName,
} from "./deployment-names.ts";
import { resolveVpc, type VpcSource } from "./saturn-stack.ts";
import type { SaturnStackConfig } from "./stack-config.ts";

export interface RegionalStackProps extends Omit<StackProps, "synthesizer"> {
  readonly config: SaturnStackConfig;
  /** The region this stack serves (not the home region). */
  readonly region: string;
}

/** Output keys of a regional stack (tests and `saturn local` read them; the Lambdas use tags). */
export const REGIONAL_OUTPUTS = {
  launchTemplateId: "LaunchTemplateId",
  efaLaunchTemplateId: "EfaLaunchTemplateId",
  securityGroupId: "SecurityGroupId",
  subnetIds: "SubnetIds",
} as const;

export class RegionalStack extends Stack {
  readonly vpcSource: VpcSource;
  readonly fleet: WorkerFleet;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, { ...props, synthesizer: new BootstraplessSynthesizer() });
    const { config, region } = props;
    const home = config.region;
    if (region === home) throw new Error(`RegionalStack: ${region} is the home region; the Saturn stack serves it`);
    Tags.of(this).add("saturn:stack", config.stackName);
    Tags.of(this).add(REGIONAL_TAGS.deployment, config.stackName);

    const { vpc, subnetIds, source } = resolveVpc(this, {
      vpc: config.regionVpcs[region],
      vpcParameters: config.vpcParameters,
    });
    this.vpcSource = source;

    this.fleet = new WorkerFleet(this, "Workers", {
      vpc,
      bucket: Bucket.fromBucketName(this, "HomeBucket", artifactBucketName(config.stackName, home)),
      workerEventsQueue: Queue.fromQueueAttributes(this, "HomeWorkerEvents", {
        queueArn: workerEventsQueueArn(config.stackName, home),
        queueUrl: workerEventsQueueUrl(config.stackName, home),
      }),
      amiSsmParameter: config.amiSsmParameter,
      // A baked AMI id holds in its own region only: here the SSM parameter's image (the stock
      // DLAMI by default) boots, and the user data installs the agent from the bucket.
      amiId: undefined,
      agentVersion: config.agentVersion,
      stackName: config.stackName,
      rootVolumeGiB: config.rootVolumeGiB,
      regional: {
        instanceProfile: InstanceProfile.fromInstanceProfileName(
          this,
          "HomeInstanceProfile",
          workerInstanceProfileName(config.stackName, home),
        ),
        homeRegion: home,
      },
    });
    const { launchTemplate, efaLaunchTemplate, securityGroup } = this.fleet;
    for (const [template, kind] of [
      [launchTemplate, "standard"],
      [efaLaunchTemplate, "efa"],
    ] as const) {
      Tags.of(template).add(REGIONAL_TAGS.template, kind);
      Tags.of(template).add(REGIONAL_TAGS.subnets, subnetIds);
    }

    new EventForwardingRule(this, "EventForwarding", { stackName: config.stackName, homeRegion: home });

    const output = (key: string, value: string | undefined, description: string) => {
      if (value !== undefined) new CfnOutput(this, key, { value, description });
    };
    output(
      REGIONAL_OUTPUTS.launchTemplateId,
      launchTemplate.launchTemplateId,
      `Launch template for workers in ${region}`,
    );
    output(
      REGIONAL_OUTPUTS.efaLaunchTemplateId,
      efaLaunchTemplate.launchTemplateId,
      `Launch template for multi-node workers on EFA types in ${region}`,
    );
    output(REGIONAL_OUTPUTS.securityGroupId, securityGroup.securityGroupId, `Worker security group in ${region}`);
    output(REGIONAL_OUTPUTS.subnetIds, subnetIds, `Subnets workers launch into in ${region} (comma-separated)`);
  }
}
