/**
 * AWS list prices (us-east-1, USD) for what the control plane itself uses, as published on
 * the services' pricing pages; read 2026-12-01 from the pages as last published (the
 * DynamoDB figures are after the 2024-11-01 on-demand price cut). Free tiers are ignored,
 * so these are the prices of an account past them.
 */
export const CONTROL_PLANE_PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ (x86): $0.20 per 1M requests, $0.0000166667 per GB-second. */
  lambdaPerRequestUsd: 0.2 / 1e6,
  lambdaPerGbSecondUsd: 0.0000166667,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/: $0.625 per 1M write request units, $0.125 per 1M read request units. */
  dynamoPerWriteUnitUsd: 0.625 / 1e6,
  dynamoPerReadUnitUsd: 0.125 / 1e6,
  /** https://aws.amazon.com/sqs/pricing/: $0.40 per 1M standard requests, $0.50 per 1M FIFO requests (64 KB chunks). */
  sqsStandardPerRequestUsd: 0.4 / 1e6,
  sqsFifoPerRequestUsd: 0.5 / 1e6,
  /** https://aws.amazon.com/eventbridge/pricing/: $1.00 per 1M events (custom; AWS service events on the default bus are free, scheduled rules taken at this price as an upper bound). */
  eventBridgePerEventUsd: 1 / 1e6,
  /** https://aws.amazon.com/api-gateway/pricing/: REST APIs $3.50 per 1M requests (first 333M). */
  apiGatewayPerRequestUsd: 3.5 / 1e6,
  /** https://aws.amazon.com/s3/pricing/ (S3 Standard): PUT/LIST $0.005 per 1,000, GET $0.0004 per 1,000. */
  s3PerPutUsd: 0.005 / 1000,
  s3PerGetUsd: 0.0004 / 1000,
} as const;
