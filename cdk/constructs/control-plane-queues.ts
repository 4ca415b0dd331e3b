/**
 * The three queues of the control plane, each with a dead-letter queue and an alarm on the
 * DLQ's depth:
 *
 * - worker events (standard): agents send protocol events; a message that fails three
 *   receives (malformed, or a bug) moves to the DLQ and never blocks the ingest;
 * - plan (standard): submit asks the planner to plan a workload;
 * - reconcile (FIFO, content-based deduplication): message group = workload id, so passes
 *   of one workload never run at the same time, while different workloads run in parallel.
 *
 * Visibility timeouts are six times the consuming function's timeout (AWS's guidance for
 * Lambda event sources), so a slow pass is not redelivered while it still runs.
 */
import { Duration, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Receives before a message moves to its DLQ (the contract's "DLQ after 3 receives"). */
export const MAX_RECEIVE_COUNT = 3;

export interface ControlPlaneQueuesProps {
  /** Prefix of the FIFO queues' names (a FIFO name must end in `.fifo`; CloudFormation's
   * generated names do, but emulators do not add the suffix, so FIFO queues are named). */
  readonly namePrefix: string;
  readonly alarmTopic: ITopic;
  readonly plannerTimeout: Duration;
  readonly reconcilerTimeout: Duration;
  readonly workerEventsTimeout: Duration;
  /** A fixed name for the worker-event queue (multi-region: regional stacks' user data names it). */
  readonly workerEventsQueueName?: string;
}

export class ControlPlaneQueues extends Construct {
  readonly workerEvents: Queue;
  readonly plan: Queue;
  readonly reconcile: Queue;
  readonly deadLetterQueues: readonly Queue[];

  constructor(scope: Construct, id: string, props: ControlPlaneQueuesProps) {
    super(scope, id);
    const dlqs: Queue[] = [];
    const withDlq = (name: string, timeout: Duration, fifo: boolean, fixedName?: string): Queue => {
      const dlq = new Queue(this, `${name}Dlq`, {
        fifo: fifo || undefined,
        queueName: fifo ? `${props.namePrefix}-${name}-dlq.fifo` : undefined,
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      Validations.of(dlq).acknowledge({
        id: "AwsSolutions-SQS3",
        reason: "This queue is itself a dead-letter queue; its depth is alarmed.",
      });
      new Alarm(this, `${name}DlqDepth`, {
        alarmDescription: `Messages in the ${name} dead-letter queue: a malformed message or a failing handler. Inspect, fix, then redrive.`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(props.alarmTopic));
      dlqs.push(dlq);
      return new Queue(this, name, {
        fifo: fifo || undefined,
        queueName: fixedName ?? (fifo ? `${props.namePrefix}-${name}.fifo` : undefined),
        contentBasedDeduplication: fifo || undefined,
        visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
        retentionPeriod: Duration.days(4),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
      });
    };
    this.workerEvents = withDlq("WorkerEvents", props.workerEventsTimeout, false, props.workerEventsQueueName);
    this.plan = withDlq("Plan", props.plannerTimeout, false);
    this.reconcile = withDlq("Reconcile", props.reconcilerTimeout, true);
    this.deadLetterQueues = dlqs;
  }
}
