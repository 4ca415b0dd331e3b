/**
 * Physical names a multi-region deployment fixes, so that a regional stack can name the
 * home stack's global and home-region resources without a cross-region CloudFormation
 * reference (those need a custom resource per reference, which moto cannot run and which
 * ties the stacks' updates together). Only a deployment with `regions` uses them; a
 * single-region stack keeps CloudFormation's generated names.
 *
 * Account ids stay tokens (`AWS::AccountId` resolves to the same account in every region).
 */
import { Aws, Fn } from "aws-cdk-lib";

/** The bucket workers in every region read the agent and orders from (home region). */
export function artifactBucketName(stackName: string, homeRegion: string): string {
  return Fn.join("-", [stackName.toLowerCase(), Aws.ACCOUNT_ID, homeRegion]);
}

/** The worker-event queue (standard queue, home region). */
export function workerEventsQueueName(stackName: string): string {
  return `${stackName}-WorkerEvents`;
}

export function workerEventsQueueUrl(stackName: string, homeRegion: string): string {
  return Fn.join("", [
    `https://sqs.${homeRegion}.`,
    Aws.URL_SUFFIX,
    "/",
    Aws.ACCOUNT_ID,
    `/${workerEventsQueueName(stackName)}`,
  ]);
}

export function workerEventsQueueArn(stackName: string, homeRegion: string): string {
  return Fn.join("", [
    "arn:",
    Aws.PARTITION,
    `:sqs:${homeRegion}:`,
    Aws.ACCOUNT_ID,
    `:${workerEventsQueueName(stackName)}`,
  ]);
}

/** The worker instance profile (IAM is global; the home stack owns it). */
export function workerInstanceProfileName(stackName: string, homeRegion: string): string {
  return `${stackName}-${homeRegion}-worker`;
}

/** The role EventBridge in another region assumes to forward EC2 events to the home bus. */
export function eventForwardingRoleName(stackName: string, homeRegion: string): string {
  return `${stackName}-${homeRegion}-ec2-event-forwarding`;
}

export function homeEventBusArn(homeRegion: string): string {
  return Fn.join("", ["arn:", Aws.PARTITION, `:events:${homeRegion}:`, Aws.ACCOUNT_ID, ":event-bus/default"]);
}

/** The stack of one other region: `<stackName>-<region>`. */
export function regionalStackName(stackName: string, region: string): string {
  return `${stackName}-${region}`;
}
