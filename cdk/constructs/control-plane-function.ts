/**
 * One control-plane Lambda: a NodejsFunction from `lambdas/handlers/<entry>.ts` (export
 * `handler`), with its own role (nothing but its log group until the stack grants more,
 * so each function's permissions are exactly what the stack gives it), its own log group
 * with a retention, arm64 (cheaper per GB-second; HiGHS is WebAssembly, so the
 * architecture does not matter to it) and the Powertools settings.
 */
import path from "node:path";
import { type Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { bundlingFor, REPO_ROOT } from "../lambda-bundling.ts";

export interface ControlPlaneFunctionProps {
  /** File name under lambdas/handlers/, without `.ts`. */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Bundle highs.wasm with the function (planner, reconciler). */
  readonly withHighs: boolean;
  readonly environment: Readonly<Record<string, string>>;
  readonly description: string;
}

export class ControlPlaneFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneFunctionProps) {
    super(scope, id);
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Saturn ${props.entry} Lambda`,
    });
    this.logGroup = new LogGroup(this, "Logs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, "Function", {
      entry: path.join(REPO_ROOT, "lambdas", "handlers", `${props.entry}.ts`),
      handler: "handler",
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      description: props.description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
      bundling: bundlingFor({ withHighs: props.withHighs }),
      environment: {
        ...props.environment,
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: `saturn-${props.entry}`,
        POWERTOOLS_METRICS_NAMESPACE: "Saturn",
        POWERTOOLS_LOG_LEVEL: "INFO",
        POWERTOOLS_LOGGER_LOG_EVENT: "false",
      },
    });
    this.logGroup.grantWrite(this.role);
    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "nodejs22.x is the runtime this project targets and tests against; cdk-nag flags every runtime older than the newest one it knows.",
    });
  }
}
