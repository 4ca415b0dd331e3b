/**
 * The single DynamoDB table (key schema from the stack contract): workloads, plan versions,
 * execution records, progress, the audit trail, leases and idempotency keys. On-demand
 * billing, point-in-time recovery, AWS-managed KMS encryption, TTL on `expiresAt`.
 */
import { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { TABLE } from "../../lambdas/config/stack-contract.ts";

export interface WorkloadTableProps {
  readonly retainData: boolean;
}

export class WorkloadTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: WorkloadTableProps) {
    super(scope, id);
    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE.ttlAttribute,
      deletionProtection: props.retainData,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.ownerIndex,
      partitionKey: { name: TABLE.ownerIndexPartitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.ownerIndexSortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }
}
