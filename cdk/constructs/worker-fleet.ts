/**
 * What worker instances launch with: a security group open only to itself (NCCL and EFA
 * traffic between the nodes of a job; EFA also needs the outbound rule to itself, which
 * "all outbound" covers), a cluster placement group for multi-node jobs, the instance role
 * and profile, and two launch templates:
 *
 * - `standard`: the security group at the top level; CreateFleet overrides set the type
 *   and subnet;
 * - `efa`: the same instance settings with one EFA network interface (device 0, network
 *   card 0) carrying the security group. The EC2 adapter uses it for multi-node jobs on
 *   EFA-capable types (catalog `efa: true`), always with the placement group and one
 *   subnet, because EFA traffic does not leave an AZ and a cluster group lives in one AZ.
 *
 * Both: AMI from the SSM parameter (or a baked AMI id), IMDSv2 required with hop limit 2
 * (containers on the instance reach IMDS through one more hop), instance metadata tags on
 * (the agent reads its `saturn:` tags without an API call), an encrypted gp3 root volume
 * deleted on termination, detailed monitoring off (cost), and an OS shutdown terminates the
 * instance, so the agent's idle timer and the user data's failure trap end the bill.
 */
import { Stack, Tags } from "aws-cdk-lib";
import {
  BlockDeviceVolume,
  type CfnLaunchTemplate,
  CfnPlacementGroup,
  EbsDeviceVolumeType,
  type IMachineImage,
  InstanceInitiatedShutdownBehavior,
  type IVpc,
  LaunchTemplate,
  MachineImage,
  Port,
  SecurityGroup,
} from "aws-cdk-lib/aws-ec2";
import { type IInstanceProfile, InstanceProfile, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { acknowledgeWildcards } from "../wildcard-acknowledgments.ts";
import { AGENT_PREFIX, WORKLOADS_PREFIX } from "./artifact-bucket.ts";
import { workerUserData } from "./worker-user-data.ts";

/** Tag every Saturn-launched resource carries (set by the EC2 adapter); IAM conditions key on it. */
export const WORKLOAD_TAG = "saturn:workload";

export interface WorkerFleetProps {
  readonly vpc: IVpc;
  readonly bucket: IBucket;
  readonly workerEventsQueue: IQueue;
  readonly amiSsmParameter: string;
  readonly amiId: string | undefined;
  readonly agentVersion: string;
  readonly stackName: string;
  readonly rootVolumeGiB: number;
  /**
   * A regional stack's fleet: the home stack's instance profile (IAM is global), and the
   * home region, where the bucket and the worker-event queue are. No role is created.
   */
  readonly regional?: { readonly instanceProfile: IInstanceProfile; readonly homeRegion: string };
  /** Home stack of a multi-region deployment: the profile's fixed name (regional stacks name it). */
  readonly instanceProfileName?: string;
  /** Regions whose Saturn workers the worker role may terminate (self-termination fallback). Default: the stack's. */
  readonly regions?: readonly string[];
}

export class WorkerFleet extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly placementGroup: CfnPlacementGroup;
  /** The worker role; undefined in a regional stack (the home stack's profile is used). */
  readonly role: Role | undefined;
  readonly instanceProfile: IInstanceProfile;
  readonly launchTemplate: LaunchTemplate;
  readonly efaLaunchTemplate: LaunchTemplate;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: "Saturn workers: all traffic between workers only (NCCL, EFA); outbound to AWS APIs",
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(this.securityGroup, Port.allTraffic(), "NCCL and EFA between Saturn workers");

    this.placementGroup = new CfnPlacementGroup(this, "PlacementGroup", { strategy: "cluster" });

    if (props.regional === undefined) {
      const identity = this.#workerIdentity(props);
      this.role = identity.role;
      this.instanceProfile = identity.instanceProfile;
    } else {
      this.role = undefined;
      this.instanceProfile = props.regional.instanceProfile;
    }

    const machineImage: IMachineImage =
      props.amiId !== undefined
        ? MachineImage.genericLinux({ [stack.region]: props.amiId })
        : MachineImage.fromSsmParameter(props.amiSsmParameter);
    const userData = workerUserData({
      bucketName: props.bucket.bucketName,
      workerEventsQueueUrl: props.workerEventsQueue.queueUrl,
      // The agent talks to the bucket and the queue, which live in the home region.
      region: props.regional?.homeRegion ?? stack.region,
      agentVersion: props.agentVersion,
      stackName: props.stackName,
    });
    const template = (templateId: string) =>
      new LaunchTemplate(this, templateId, {
        machineImage,
        userData,
        instanceProfile: this.instanceProfile,
        securityGroup: this.securityGroup,
        requireImdsv2: true,
        httpPutResponseHopLimit: 2,
        instanceMetadataTags: true,
        instanceInitiatedShutdownBehavior: InstanceInitiatedShutdownBehavior.TERMINATE,
        detailedMonitoring: false,
        blockDevices: [
          {
            deviceName: "/dev/sda1",
            volume: BlockDeviceVolume.ebs(props.rootVolumeGiB, {
              volumeType: EbsDeviceVolumeType.GP3,
              encrypted: true,
              deleteOnTermination: true,
            }),
          },
        ],
      });
    this.launchTemplate = template("LaunchTemplate");
    this.efaLaunchTemplate = template("EfaLaunchTemplate");
    const efa = this.efaLaunchTemplate.node.defaultChild as CfnLaunchTemplate;
    // With explicit network interfaces the security groups move onto the interface.
    efa.addPropertyDeletionOverride("LaunchTemplateData.SecurityGroupIds");
    efa.addPropertyOverride("LaunchTemplateData.NetworkInterfaces", [
      {
        DeviceIndex: 0,
        NetworkCardIndex: 0,
        InterfaceType: "efa",
        Groups: [this.securityGroup.securityGroupId],
        DeleteOnTermination: true,
      },
    ]);
    Tags.of(this).add("saturn:component", "worker-fleet");
  }

  /** The worker role and instance profile: what a worker may reach (home stack only; IAM is global). */
  #workerIdentity(props: WorkerFleetProps): { readonly role: Role; readonly instanceProfile: InstanceProfile } {
    const stack = Stack.of(this);
    const role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("ec2.amazonaws.com"),
      description: "Saturn worker instances: read orders and the agent bundle, write checkpoints and logs, send events",
    });
    const objects = (suffix: string) => props.bucket.arnForObjects(suffix);
    role.addToPolicy(
      new PolicyStatement({
        sid: "ReadOrdersCheckpointsAndAgent",
        actions: ["s3:GetObject"],
        resources: [objects(`${WORKLOADS_PREFIX}*`), objects(`${AGENT_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: "WriteCheckpointsAndLogs",
        actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
        resources: [objects(`${WORKLOADS_PREFIX}*/checkpoints/*`), objects(`${WORKLOADS_PREFIX}*/logs/*`)],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: "ListWorkloadPrefixes",
        actions: ["s3:ListBucket"],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${WORKLOADS_PREFIX}*`] } },
      }),
    );
    props.workerEventsQueue.grantSendMessages(role);
    role.addToPolicy(
      new PolicyStatement({
        sid: "DescribeTags",
        actions: ["ec2:DescribeTags"],
        resources: ["*"],
      }),
    );
    const instanceProfile = new InstanceProfile(this, "InstanceProfile", {
      role,
      ...(props.instanceProfileName === undefined ? {} : { instanceProfileName: props.instanceProfileName }),
    });
    // Self-termination goes through `shutdown` (the templates terminate on shutdown); the API
    // call is the fallback, and it can end only Saturn workers, never another instance.
    role.addToPolicy(
      new PolicyStatement({
        sid: "TerminateSaturnWorkersOnly",
        actions: ["ec2:TerminateInstances"],
        resources: (props.regions ?? [stack.region]).map((region) =>
          stack.formatArn({ service: "ec2", region, resource: "instance", resourceName: "*" }),
        ),
        conditions: {
          Null: { [`ec2:ResourceTag/${WORKLOAD_TAG}`]: "false" },
          ArnEquals: { "ec2:InstanceProfile": instanceProfile.instanceProfileArn },
        },
      }),
    );

    acknowledgeWildcards(role, [
      {
        pattern: /^Resource::<[^>]+\.Arn>\/(workloads|agent)\/\*/,
        reason:
          "Workers read orders and checkpoints and write checkpoints and logs under per-workload prefixes whose ids are chosen at run time (workloads/<id>/...); agent/* holds the bundle they boot from.",
      },
      {
        pattern: /^Resource::\*$/,
        reason:
          "ec2:DescribeTags has no resource-level permissions (the agent prefers IMDS tags, enabled on the template).",
      },
      {
        pattern: /:instance\/\*$/,
        reason:
          "TerminateInstances is limited by condition to instances tagged saturn:workload that run the worker instance profile.",
      },
    ]);
    return { role, instanceProfile };
  }
}
