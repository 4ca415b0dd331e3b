/**
 * The REST API: every method uses IAM (SigV4) auth and proxies to the api Lambda, which
 * routes by resource and method. Stage `v1` with throttling, JSON access logs to their own
 * log group, error-level execution logs and metrics.
 *
 * Body size: API Gateway's own hard cap is 10 MB and it cannot be lowered, so the api
 * handler enforces its own, smaller limit (413 with the limit in the message). The request
 * validator checks parameters; no body model is attached, on purpose: API Gateway's schema
 * errors are generic, and the handler's validation names every bad field (400).
 */
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

export const API_STAGE = "v1";

/** Every route, as [method, path]. The api handler implements exactly these. */
export const API_ROUTES = [
  ["POST", "/workloads"],
  ["GET", "/workloads"],
  ["GET", "/workloads/{id}"],
  ["GET", "/workloads/{id}/plan"],
  ["POST", "/workloads/{id}/approve"],
  ["POST", "/workloads/{id}/cancel"],
  ["GET", "/catalog"],
] as const;

export interface SaturnApiProps {
  readonly handler: IFunction;
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
}

export class SaturnApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: SaturnApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, "Api", {
      description: "Saturn control plane (IAM auth on every method)",
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: API_STAGE,
        throttlingRateLimit: props.throttleRatePerSecond,
        throttlingBurstLimit: props.throttleBurst,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    });
    const validator = this.api.addRequestValidator("Validator", {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    for (const [method, routePath] of API_ROUTES) {
      const resource = this.api.root.resourceForPath(routePath);
      resource.addMethod(method, integration, {
        authorizationType: AuthorizationType.IAM,
        requestValidator: validator,
        requestParameters: routePath.includes("{id}") ? { "method.request.path.id": true } : {},
      });
    }

    Validations.of(this.api).acknowledge(
      {
        id: "AwsSolutions-COG4",
        reason: "Callers are IAM principals (SigV4, AWS_IAM auth on every method); Saturn has no end-user pool.",
      },
      {
        id: "AwsSolutions-APIG3",
        reason:
          "IAM auth rejects unsigned requests before they reach the function, and stage throttling bounds signed ones; WAF would cost more than the control plane. Attach a web ACL if the API is shared widely.",
      },
      {
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        reason:
          "API Gateway's account-level CloudWatch role uses AWS's managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs.",
      },
    );
  }
}
