/**
 * The stack's table and queues created straight from the contract in moto, for suites
 * that exercise one function without the deployed stack (the API's input checks).
 */
import { randomUUID } from "node:crypto";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { emulatorClientConfig } from "../../support/aws.ts";
import { createTestTable, type TestTable } from "../../support/dynamodb-table.ts";

export interface LocalResources {
  readonly table: TestTable;
  readonly sqs: SQSClient;
  readonly planQueueUrl: string;
  readonly reconcileQueueUrl: string;
}

export async function createLocalResources(): Promise<LocalResources> {
  const table = await createTestTable("saturn-api");
  const sqs = new SQSClient(emulatorClientConfig());
  const suffix = randomUUID().slice(0, 8);
  const plan = await sqs.send(new CreateQueueCommand({ QueueName: `saturn-plan-${suffix}` }));
  const reconcile = await sqs.send(
    new CreateQueueCommand({
      QueueName: `saturn-reconcile-${suffix}.fifo`,
      Attributes: { FifoQueue: "true" },
    }),
  );
  return {
    table,
    sqs,
    planQueueUrl: plan.QueueUrl ?? "",
    reconcileQueueUrl: reconcile.QueueUrl ?? "",
  };
}
