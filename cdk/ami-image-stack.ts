/**
 * Opt-in stack that bakes the Saturn worker image with EC2 Image Builder: the PyTorch
 * Deep Learning AMI (parent image resolved from its public SSM parameter at build time)
 * plus the component in `ami/saturn-worker-component.yaml` (Node.js 22, the agent bundle,
 * the harness venv; validated with `nvidia-smi`, `torch.cuda.is_available()` and the
 * agent's `--self-check` on a GPU build instance).
 *
 * What the control plane reads: every build writes the new AMI id into the SSM parameter
 * `outputParameterName` (data type `aws:ec2:image`); the main stack's launch template
 * resolves its image from an SSM parameter name, so pointing it at this one switches
 * workers to the baked image. `buildOnDeploy` also builds one image during the deploy
 * (tens of minutes) and outputs its id.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as imagebuilder from "aws-cdk-lib/aws-imagebuilder";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Asset } from "aws-cdk-lib/aws-s3-assets";
import type { Construct } from "constructs";
import { DEFAULT_AMI_SSM_PARAMETER } from "../lambdas/config/stack-contract.ts";
import { SATURN_TAGS } from "../lambdas/core/cloud/cloud-port.ts";

export const COMPONENT_FILE = new URL("../ami/saturn-worker-component.yaml", import.meta.url).pathname;
export const DEFAULT_WORKER_AMI_PARAMETER = "/saturn/worker/ami-id";

/** Where the build instance gets `saturn-agent.tgz` (npm run build:agent). */
export type AgentBundleSource =
  | { readonly kind: "asset"; readonly path: string }
  | { readonly kind: "s3"; readonly bucketName: string; readonly key: string };

export interface AmiImageStackProps extends StackProps {
  readonly bundle: AgentBundleSource;
  /** SSM parameter holding the parent AMI id; default: the PyTorch DLAMI's public parameter. */
  readonly parentImageSsmParameter?: string;
  /** A GPU type, so the validate phase can run `nvidia-smi` and CUDA; default the cheapest NVIDIA L4 host. */
  readonly buildInstanceTypes?: readonly string[];
  readonly outputParameterName?: string;
  /** Image Builder cron expression (e.g. weekly, to pick up DLAMI patches); default: run by hand. */
  readonly schedule?: string;
  readonly buildOnDeploy?: boolean;
  /** Subnet for the build instance (default VPC when absent). */
  readonly subnetId?: string;
  readonly securityGroupIds?: readonly string[];
}

/**
 * Image Builder component versions are immutable: a changed document under the same
 * version fails the update. The patch number is taken from the document's hash, so every
 * change gets a new version and an unchanged one keeps its own.
 */
function componentVersion(document: string): string {
  const hash = createHash("sha256").update(document).digest("hex");
  return `1.0.${Number.parseInt(hash.slice(0, 7), 16)}`;
}

export class AmiImageStack extends Stack {
  readonly pipeline: imagebuilder.CfnImagePipeline;
  readonly outputParameterName: string;

  constructor(scope: Construct, id: string, props: AmiImageStackProps) {
    super(scope, id, props);
    const parentParameter = props.parentImageSsmParameter ?? DEFAULT_AMI_SSM_PARAMETER;
    this.outputParameterName = props.outputParameterName ?? DEFAULT_WORKER_AMI_PARAMETER;
    const tags = { [SATURN_TAGS.role]: "image-build" };

    const logs = new s3.Bucket(this, "BuildLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });

    const role = new iam.Role(this, "BuildInstanceRole", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: "Saturn image build instance: Image Builder agent, SSM, read the agent bundle, write build logs",
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName("EC2InstanceProfileForImageBuilder"),
        iam.ManagedPolicy.fromAwsManagedPolicyName("AmazonSSMManagedInstanceCore"),
      ],
    });
    // Image Builder writes the build's logs under keys it chooses, below this prefix.
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ["s3:PutObject"], resources: [logs.arnForObjects("image-builder/*")] }),
    );

    let bundleUri: string;
    if (props.bundle.kind === "asset") {
      const asset = new Asset(this, "AgentBundle", { path: props.bundle.path });
      // The one object, not Asset.grantRead's bucket-wide wildcards.
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ["s3:GetObject"],
          resources: [`arn:${this.partition}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`],
        }),
      );
      bundleUri = asset.s3ObjectUrl;
    } else {
      const { bucketName, key } = props.bundle;
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ["s3:GetObject"],
          resources: [`arn:${this.partition}:s3:::${bucketName}/${key}`],
        }),
      );
      bundleUri = `s3://${bucketName}/${key}`;
    }
    const profile = new iam.CfnInstanceProfile(this, "BuildInstanceProfile", { roles: [role.roleName] });

    const infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, "Infrastructure", {
      name: `${this.stackName}-worker-build`,
      instanceProfileName: profile.ref,
      instanceTypes: [...(props.buildInstanceTypes ?? ["g6.xlarge"])],
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      logging: { s3Logs: { s3BucketName: logs.bucketName, s3KeyPrefix: "image-builder" } },
      subnetId: props.subnetId,
      securityGroupIds: props.securityGroupIds ? [...props.securityGroupIds] : undefined,
      resourceTags: tags,
      tags,
    });

    const document = readFileSync(COMPONENT_FILE, "utf8");
    const component = new imagebuilder.CfnComponent(this, "WorkerComponent", {
      name: `${this.stackName}-saturn-worker`,
      platform: "Linux",
      version: componentVersion(document),
      data: document,
      description: "Saturn worker: Node.js 22, agent bundle, harness venv",
      tags,
    });

    const recipe = new imagebuilder.CfnImageRecipe(this, "Recipe", {
      name: `${this.stackName}-saturn-worker`,
      version: componentVersion(`${document}\n${parentParameter}\n${bundleUri}`),
      // Resolved by Image Builder at each build, so a scheduled build picks up DLAMI patches.
      parentImage: `ssm:${parentParameter}`,
      components: [{ componentArn: component.attrArn, parameters: [{ name: "BundleUri", value: [bundleUri] }] }],
      blockDeviceMappings: [
        {
          deviceName: "/dev/sda1",
          ebs: { volumeSize: 150, volumeType: "gp3", encrypted: true, deleteOnTermination: true },
        },
      ],
      tags,
    });

    const distribution = new imagebuilder.CfnDistributionConfiguration(this, "Distribution", {
      name: `${this.stackName}-saturn-worker`,
      distributions: [
        {
          region: this.region,
          // Typed as plain JSON by CloudFormation's schema, so its keys are written as CloudFormation spells them.
          amiDistributionConfiguration: {
            Name: "saturn-worker-{{ imagebuilder:buildDate }}",
            AmiTags: { ...tags, "saturn:component-version": component.version },
          },
          ssmParameterConfigurations: [{ parameterName: this.outputParameterName, dataType: "aws:ec2:image" }],
        },
      ],
      tags,
    });

    this.pipeline = new imagebuilder.CfnImagePipeline(this, "Pipeline", {
      name: `${this.stackName}-saturn-worker`,
      imageRecipeArn: recipe.attrArn,
      infrastructureConfigurationArn: infrastructure.attrArn,
      distributionConfigurationArn: distribution.attrArn,
      imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
      enhancedImageMetadataEnabled: true,
      status: "ENABLED",
      schedule: props.schedule
        ? { scheduleExpression: props.schedule, pipelineExecutionStartCondition: "EXPRESSION_MATCH_ONLY" }
        : undefined,
      tags,
    });

    new CfnOutput(this, "WorkerAmiSsmParameter", {
      value: this.outputParameterName,
      description: "SSM parameter with the latest baked worker AMI id (point the main stack's amiSsmParam at it)",
    });
    new CfnOutput(this, "WorkerImagePipelineArn", { value: this.pipeline.attrArn });
    if (props.buildOnDeploy) {
      const image = new imagebuilder.CfnImage(this, "Image", {
        imageRecipeArn: recipe.attrArn,
        infrastructureConfigurationArn: infrastructure.attrArn,
        distributionConfigurationArn: distribution.attrArn,
        imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
        enhancedImageMetadataEnabled: true,
        tags,
      });
      new CfnOutput(this, "WorkerAmiId", { value: image.attrImageId, description: "The AMI built during this deploy" });
    }

    acknowledgeFindings(logs, role);
  }
}

/** cdk-nag findings this stack accepts, each with its reason (cdk-nag v3: one acknowledgement per finding). */
function acknowledgeFindings(logs: s3.Bucket, role: iam.Role): void {
  Validations.of(logs).acknowledge({
    id: "AwsSolutions-S1",
    reason: "This bucket holds Image Builder's own build logs; access-logging a log bucket would recurse.",
  });
  for (const policy of ["EC2InstanceProfileForImageBuilder", "AmazonSSMManagedInstanceCore"])
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
      reason: `${policy} is what Image Builder requires on its build instance (it drives the build over SSM).`,
    });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${Stack.of(logs).getLogicalId(logs.node.defaultChild as s3.CfnBucket)}.Arn>/image-builder/*]`,
    reason: "Image Builder names its log objects itself; the grant is PutObject under this one prefix of this bucket.",
  });
}
