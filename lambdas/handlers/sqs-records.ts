/**
 * SQS batches with partial failures: each record is handled on its own, and only the
 * records that threw are reported back (`batchItemFailures`), so SQS retries them and,
 * after the queue's receive limit, moves them to the dead-letter queue. Records run one
 * after another: a batch is small and the work (planning, a reconcile pass) is CPU-bound.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export async function eachRecord(
  event: SQSEvent,
  logger: Logger,
  handle: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      await handle(record);
    } catch (error) {
      logger.error("record failed; SQS will retry it", { messageId: record.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
