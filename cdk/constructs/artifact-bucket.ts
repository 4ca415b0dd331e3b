/**
 * The bucket for orders, checkpoints, logs and the agent bundle (layout: `bucketLayout` in
 * the worker protocol). SSE-S3, every public access blocked, TLS only, ACLs disabled.
 * Lifecycle: everything under `workloads/` expires after the retention period (a workload
 * rewrites its orders and writes new checkpoints while it runs, so only finished
 * workloads' objects age out), and unfinished multipart uploads (interrupted checkpoint
 * writes) are aborted after a day. `agent/` is kept: instances launch from it.
 */
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

export const WORKLOADS_PREFIX = "workloads/";
export const AGENT_PREFIX = "agent/";

export interface ArtifactBucketProps {
  readonly retainData: boolean;
  readonly dataRetentionDays: number;
  /** A fixed name (multi-region deployments: regional stacks' workers name it); default: generated. */
  readonly bucketName?: string;
}

export class ArtifactBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, "Bucket", {
      ...(props.bucketName === undefined ? {} : { bucketName: props.bucketName }),
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      lifecycleRules: [
        { id: "abort-incomplete-multipart-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: "expire-workload-data",
          prefix: WORKLOADS_PREFIX,
          expiration: Duration.days(props.dataRetentionDays),
        },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "Only Saturn's own roles (control-plane Lambdas, worker instance profile) can read or write this bucket; server access logs would need a second bucket and cost more than the data they describe. Enable CloudTrail S3 data events for an audit trail.",
    });
  }
}
