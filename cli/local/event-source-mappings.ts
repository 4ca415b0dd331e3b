/**
 * Turns off the deployed stack's SQS event source mappings in moto. moto plays a mapping
 * itself: every message sent to a mapped queue is received at once for the function, which
 * moto cannot run without Docker, and the message is gone (moto 5.2.1,
 * `sqs/models.py`, `add_message`: most worker events of the local stack vanished that way
 * before anything read them). The local stack and the suite play the mappings in-process
 * (QueueTrigger, the test harness), so the emulator's own must be off. LocalStack runs the
 * functions and keeps its mappings: this is for moto only.
 */
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  type ListEventSourceMappingsCommandOutput,
  UpdateEventSourceMappingCommand,
} from "@aws-sdk/client-lambda";

export async function disableEventSourceMappings(target: {
  readonly endpoint: string;
  readonly region: string;
}): Promise<number> {
  const lambda = new LambdaClient({
    region: target.region,
    endpoint: target.endpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  try {
    let disabled = 0;
    let marker: string | undefined;
    do {
      const page: ListEventSourceMappingsCommandOutput = await lambda.send(
        new ListEventSourceMappingsCommand({ Marker: marker }),
      );
      for (const mapping of page.EventSourceMappings ?? []) {
        if (mapping.UUID === undefined || mapping.State === "Disabled") continue;
        await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: false }));
        disabled++;
      }
      marker = page.NextMarker;
    } while (marker !== undefined);
    return disabled;
  } finally {
    lambda.destroy();
  }
}
