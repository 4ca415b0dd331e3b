/**
 * The fold scripts' DynamoDB: a moto server they start, one table with the stack's key
 * schema, and a document client over it (scripts/worker-fold-reads.ts, worker-fold-writes.ts).
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { MotoServer } from "../cli/local/moto-server.ts";
import type { DocumentClientPort } from "../lambdas/adapters/dynamodb-store.ts";
import { TABLE } from "../lambdas/config/stack-contract.ts";

export interface MotoStoreTable {
  readonly moto: MotoServer;
  readonly tableName: string;
  readonly documents: DocumentClientPort;
}

export async function startMotoStoreTable(tableName: string): Promise<MotoStoreTable> {
  const moto = await MotoServer.start();
  try {
    const raw = new DynamoDBClient({
      region: "us-east-1",
      endpoint: moto.endpoint,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await raw.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: TABLE.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE.sortKey, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
        ],
      }),
    );
    const documents = DynamoDBDocumentClient.from(raw, {
      marshallOptions: { removeUndefinedValues: true },
    }) as DocumentClientPort;
    return { moto, tableName, documents };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}
