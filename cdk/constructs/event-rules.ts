/**
 * EventBridge rules of the control plane:
 *
 * - every minute, a scheduled event onto the reconcile FIFO queue (message group
 *   `saturn-schedule`); the reconciler answers it by enqueueing one pass per active
 *   workload, so the schedule never runs a pass beside an event-triggered one. Each
 *   scheduled event has its own id and time, so content-based deduplication keeps them all;
 * - EC2 spot interruption warnings, rebalance recommendations and instance state changes
 *   onto the ec2-events Lambda, which looks up the instance's `saturn:` tags and enqueues
 *   a pass for its workload (the events themselves carry no tags);
 * - every hour, the sweeper.
 *
 * Each Lambda target retries twice over at most an hour; the reconcile schedule and the
 * level-triggered reconciler make a lost event cost only a minute's delay.
 */
import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction, SqsQueue } from "aws-cdk-lib/aws-events-targets";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export const SCHEDULE_MESSAGE_GROUP = "saturn-schedule";

export const EC2_EVENT_DETAIL_TYPES = [
  "EC2 Spot Instance Interruption Warning",
  "EC2 Instance Rebalance Recommendation",
  "EC2 Instance State-change Notification",
] as const;

export interface EventRulesProps {
  readonly reconcileQueue: IQueue;
  readonly ec2EventsFunction: IFunction;
  readonly sweeperFunction: IFunction;
}

export class EventRules extends Construct {
  readonly reconcileSchedule: Rule;
  readonly ec2Events: Rule;
  readonly sweeperSchedule: Rule;

  constructor(scope: Construct, id: string, props: EventRulesProps) {
    super(scope, id);
    const lambdaTarget = (fn: IFunction) =>
      new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) });

    this.reconcileSchedule = new Rule(this, "ReconcileSchedule", {
      description: "Saturn: reconcile every active workload (backstop for event-driven passes)",
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new SqsQueue(props.reconcileQueue, { messageGroupId: SCHEDULE_MESSAGE_GROUP })],
    });
    this.ec2Events = new Rule(this, "Ec2Events", {
      description: "Saturn: spot interruption, rebalance and state-change events for the ec2-events Lambda",
      eventPattern: {
        source: ["aws.ec2"],
        detailType: [...EC2_EVENT_DETAIL_TYPES],
      },
      targets: [lambdaTarget(props.ec2EventsFunction)],
    });
    this.sweeperSchedule = new Rule(this, "SweeperSchedule", {
      description: "Saturn: terminate tagged instances whose workload ended, is unknown, or went silent",
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [lambdaTarget(props.sweeperFunction)],
    });
  }
}
