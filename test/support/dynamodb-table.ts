/** A fresh table per test with the key schema the stack creates (TABLE in stack-contract.ts). */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { TABLE } from "../../lambdas/config/stack-contract.ts";
import { emulatorClientConfig } from "./aws.ts";

export interface TestTable {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  readonly raw: DynamoDBClient;
}

export async function createTestTable(prefix = "saturn-test"): Promise<TestTable> {
  const raw = new DynamoDBClient(emulatorClientConfig());
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  await raw.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: TABLE.partitionKey, AttributeType: "S" },
        { AttributeName: TABLE.sortKey, AttributeType: "S" },
        { AttributeName: TABLE.ownerIndexPartitionKey, AttributeType: "S" },
        { AttributeName: TABLE.ownerIndexSortKey, AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: TABLE.ownerIndex,
          KeySchema: [
            { AttributeName: TABLE.ownerIndexPartitionKey, KeyType: "HASH" },
            { AttributeName: TABLE.ownerIndexSortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { tableName, client, raw };
}
