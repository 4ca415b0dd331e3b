/**
 * The composition root: the one place that reads the environment and builds SDK clients
 * and adapters. Each function asks for its own runtime (`apiRuntime()`, ...), which is
 * built once per container, at the first invocation, from the variables that function
 * needs; a missing one fails at once with its name. Tests and `saturn local` call
 * `controlPlane(env, seams)` with the emulator's coordinates, a clock of their own
 * (accelerated time) and, where moto cannot produce a failure, a wrapped EC2 client.
 */
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import catalogDocument from "../../data/catalog.json" with { type: "json" };
import { AwsWorkers } from "../adapters/aws-workers.ts";
import { DynamoDbStore } from "../adapters/dynamodb-store.ts";
import { type Ec2ClientPort, Ec2FleetCloud } from "../adapters/ec2-fleet.ts";
import { HighsSolver } from "../adapters/highs-solver.ts";
import { S3ConsideredReports } from "../adapters/s3-considered-reports.ts";
import { S3Orders } from "../adapters/s3-orders.ts";
import { readQuotasFromAws } from "../adapters/service-quotas.ts";
import { SqsControlQueues } from "../adapters/sqs-control-queues.ts";
import { ENV, type EnvName, OPTIONAL_ENV } from "../config/stack-contract.ts";
import { parseCatalog } from "../core/catalog/catalog-schema.ts";
import { type QuotasFromAws, resolveWorkloadQuotas } from "../core/catalog/quotas.ts";
import type { Catalog } from "../core/catalog/types.ts";
import { SATURN_TAGS } from "../core/cloud/cloud-port.ts";
import type { CloudEventDeps } from "../core/control-plane/cloud-event-intake.ts";
import type { WorkloadQuotas } from "../core/control-plane/reconcile-pass.ts";
import type { StackLimits } from "../core/control-plane/stored-workload.ts";
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from "../core/control-plane/sweep.ts";
import type { ReconcilerRules } from "../core/reconciler/reconciler-rules.ts";
import type { Workload } from "../core/spec/workload.ts";
import type { ApiRuntime } from "./api-routes.ts";
import { controlPlanePlanners } from "./milp-planning.ts";
import type { PlannerRuntime } from "./planner.ts";
import type { ReconcilerRuntime } from "./reconciler.ts";
import type { SweeperRuntime } from "./sweeper.ts";
import type { WorkerEventsRuntime } from "./worker-events.ts";

/** A variable the function needs is not set: the stack and the code disagree. */
export class MissingConfigurationError extends Error {
  override readonly name = "MissingConfigurationError";
  constructor(name: string, detail = "") {
    super(
      `Expected the environment variable ${name} to be set${detail}; the stack sets it (lambdas/config/stack-contract.ts)`,
    );
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/** What tests and `saturn local` may replace. */
export interface ControlPlaneSeams {
  /** Milliseconds since the epoch (default: the system clock). */
  readonly clock?: () => number;
  /** SDK client settings (endpoint, credentials) for every client; default: the SDK's chain. */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
  /** Wraps each region's EC2 client: where tests inject capacity and quota errors moto cannot produce. */
  readonly wrapEc2?: (client: Ec2ClientPort, region: string) => Ec2ClientPort;
  /** Quotas as Service Quotas would report them; default: read them (moto does not serve it). */
  readonly awsQuotas?: QuotasFromAws;
  /** Cap on the first plan's solver seconds (the spec's limit applies below it). */
  readonly planSeconds?: number;
  readonly replanSeconds?: number;
  readonly rules?: Partial<ReconcilerRules>;
  readonly newId?: () => string;
}

export interface ControlPlane {
  readonly api: () => ApiRuntime;
  readonly planner: () => PlannerRuntime;
  readonly reconciler: () => ReconcilerRuntime;
  readonly workerEvents: () => WorkerEventsRuntime;
  readonly ec2Events: () => CloudEventDeps;
  readonly sweeper: () => SweeperRuntime;
}

function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** Default solver seconds of a re-plan inside a reconcile pass. */
const REPLAN_SECONDS = 20;

export function controlPlane(env: Environment, seams: ControlPlaneSeams = {}): ControlPlane {
  const required = (name: EnvName | "AWS_REGION"): string => {
    const value = env[name];
    if (value === undefined || value.trim() === "") throw new MissingConfigurationError(name);
    return value.trim();
  };
  const list = (name: EnvName): readonly string[] | undefined => {
    const items = (env[name] ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    return items.length === 0 ? undefined : items;
  };
  const clock = seams.clock ?? (() => Date.now());
  const config = () => ({ region: required("AWS_REGION"), ...seams.clientConfig });

  const documents = once(() =>
    DynamoDBDocumentClient.from(new DynamoDBClient(config()), { marshallOptions: { removeUndefinedValues: true } }),
  );
  const sqs = once(() => new SQSClient(config()));
  /** Home first, then the regions the regional stacks cover (SATURN_REGIONS), each once. */
  const regions = once((): readonly string[] => {
    const listed = (env[OPTIONAL_ENV.regions] ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    for (const region of listed) {
      if (!AWS_REGION.test(region)) {
        throw new MissingConfigurationError(
          OPTIONAL_ENV.regions,
          ` to comma-separated AWS regions such as us-east-1,us-west-2, got '${region}'`,
        );
      }
    }
    return [...new Set([required("AWS_REGION"), ...listed])];
  });
  // EC2 is regional: one client per covered region, each built on its first use.
  const ec2Clients = new Map<string, Ec2ClientPort>();
  const ec2For = (region: string): Ec2ClientPort => {
    let client = ec2Clients.get(region);
    if (client === undefined) {
      const raw = new EC2Client({ ...config(), region, retryMode: "adaptive", maxAttempts: 8 });
      client = seams.wrapEc2 === undefined ? raw : seams.wrapEc2(raw, region);
      ec2Clients.set(region, client);
    }
    return client;
  };
  // Emulators answer on one host: buckets go in the path there, not in the host name.
  const s3 = once(
    () =>
      new S3Client({
        ...config(),
        forcePathStyle: seams.clientConfig?.endpoint !== undefined || env.AWS_ENDPOINT_URL !== undefined,
      }),
  );
  const store = once(
    () => new DynamoDbStore({ tableName: required(ENV.tableName), client: documents(), now: () => new Date(clock()) }),
  );
  const queues = once(
    () =>
      new SqsControlQueues({
        client: sqs(),
        planQueueUrl: required(ENV.planQueueUrl),
        reconcileQueueUrl: required(ENV.reconcileQueueUrl),
      }),
  );
  const catalog = once((): Catalog => parseCatalog(catalogDocument));
  const limits = once((): StackLimits => {
    const cap = env[ENV.defaultBudgetCapUsd]?.trim();
    const budgetCapUsd = cap === undefined || cap === "" ? undefined : Number(cap);
    if (budgetCapUsd !== undefined && !(Number.isFinite(budgetCapUsd) && budgetCapUsd > 0)) {
      throw new MissingConfigurationError(ENV.defaultBudgetCapUsd, ` to a number > 0 or empty, got '${cap}'`);
    }
    return { allowedInstanceTypes: list(ENV.allowedInstanceTypes), budgetCapUsd };
  });
  // Service Quotas are per region: each region's are read once, on first need.
  const awsQuotaReads = new Map<string, Promise<QuotasFromAws>>();
  const awsQuotas = (region: string): Promise<QuotasFromAws> => {
    if (seams.awsQuotas !== undefined) return Promise.resolve(seams.awsQuotas);
    let read = awsQuotaReads.get(region);
    if (read === undefined) {
      read = readQuotasFromAws(region).then((reading) => reading.quotas);
      awsQuotaReads.set(region, read);
    }
    return read;
  };
  // Every region the workload plans in has its own quotas (EC2 quotas are per region); the
  // API admits only regions the deployment covers.
  const quotasFor = async (workload: Workload): Promise<WorkloadQuotas> => {
    const named = [...new Set([workload.region, ...workload.regions])];
    const read = new Map(await Promise.all(named.map(async (region) => [region, await awsQuotas(region)] as const)));
    const { quotas, quotasByRegion } = resolveWorkloadQuotas(workload, (region) => read.get(region));
    return { quotas, quotasByRegion };
  };
  const solver = once(() => new HighsSolver());
  const planners = once(() =>
    controlPlanePlanners({
      store: store(),
      catalog: catalog(),
      solver: solver(),
      quotasFor,
      ...(seams.planSeconds === undefined ? {} : { planSeconds: seams.planSeconds }),
      replanSeconds: seams.replanSeconds ?? REPLAN_SECONDS,
      clock: () => performance.now() / 1000,
    }),
  );
  const fleetOptions = once(() => ({
    region: required("AWS_REGION"),
    regions: regions(),
    ec2ForRegion: ec2For,
    deployment: required(ENV.stackName),
    launchTemplateId: required(ENV.launchTemplateId),
    subnetIds: required(ENV.subnetIds)
      .split(",")
      .map((id) => id.trim()),
    placementGroupName: required(ENV.placementGroupName),
    catalog: catalog(),
    ec2: ec2For(required("AWS_REGION")),
    now: () => clock() / 1000,
  }));
  /** The cloud without a workload: the sweeper's and the EC2-event intake's view (tags only). */
  const anyWorkloadCloud = once(() => new Ec2FleetCloud(fleetOptions()));
  const admins = once(() => list(ENV.adminPrincipals) ?? []);
  /** The plans' considered reports in the bucket: the planner and re-plans write them, the API links to them. */
  const reports = once(
    () => new S3ConsideredReports({ bucketName: required(ENV.bucketName), s3: s3(), now: () => new Date(clock()) }),
  );

  return {
    api: once(() => ({
      store: store(),
      queues: queues(),
      catalog: catalog(),
      limits: limits(),
      admins: admins(),
      clock,
      newId: seams.newId ?? (() => `w-${randomUUID()}`),
      regions: regions(),
      consideredReports: reports(),
    })),
    planner: once(() => ({
      store: store(),
      catalog: catalog(),
      limits: limits(),
      reports: reports(),
      plan: (workload: Workload) => planners().initial(workload),
      clock,
    })),
    reconciler: once((): ReconcilerRuntime => {
      const orders = new S3Orders({ bucketName: required(ENV.bucketName), s3: s3(), now: () => new Date(clock()) });
      const cloudFor = (workloadId: string) =>
        new Ec2FleetCloud({
          ...fleetOptions(),
          efaLaunchTemplateId: required(ENV.efaLaunchTemplateId),
          // Events older than a day cannot matter to a pass: warned instances are gone by then.
          events: { source: store(), workloadId, sinceSeconds: clock() / 1000 - 86_400 },
          ledger: { store: store(), workloadId },
        });
      return {
        store: store(),
        cloudFor,
        workersFor: ({ workloadId, workload, record }) => {
          const cloud = cloudFor(workloadId);
          return new AwsWorkers({
            workloadId,
            workload,
            plan: record.plan,
            planVersion: record.planVersion,
            bucketName: required(ENV.bucketName),
            orders,
            store: store(),
            ...(record.workerFold === undefined ? {} : { fold: record.workerFold }),
            instances: () => cloud.describe({ [SATURN_TAGS.workload]: workloadId }),
            now: () => clock() / 1000,
          });
        },
        // Profile runs use the same orders documents; the plan is not read for them.
        profileWorkersFor: ({ workloadId, workload, planVersion }) => {
          const cloud = cloudFor(workloadId);
          return new AwsWorkers({
            workloadId,
            workload,
            plan: undefined,
            planVersion,
            bucketName: required(ENV.bucketName),
            orders,
            store: store(),
            instances: () => cloud.describe({ [SATURN_TAGS.workload]: workloadId }),
            now: () => clock() / 1000,
          });
        },
        planner: (input) => planners().remaining(input),
        reports: reports(),
        catalog: catalog(),
        limits: limits(),
        quotasFor,
        queues: queues(),
        retrySoon: (handles, seconds) => queues().retryReconcileSoon(handles, seconds),
        ...(seams.rules === undefined ? {} : { rules: seams.rules }),
        clock,
      };
    }),
    workerEvents: once(
      (): WorkerEventsRuntime => ({
        ingest: { store: store(), cloudEvents: store(), now: () => new Date(clock()) },
        queues: queues(),
      }),
    ),
    ec2Events: once(() => ({ cloud: anyWorkloadCloud(), events: store(), queues: queues() })),
    sweeper: once(() => {
      const raw = env[OPTIONAL_ENV.heartbeatTimeoutSeconds]?.trim();
      const heartbeatTimeoutSeconds = raw === undefined || raw === "" ? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS : Number(raw);
      if (!(Number.isFinite(heartbeatTimeoutSeconds) && heartbeatTimeoutSeconds > 0)) {
        throw new MissingConfigurationError(
          OPTIONAL_ENV.heartbeatTimeoutSeconds,
          ` to seconds > 0 or empty, got '${raw}'`,
        );
      }
      return { store: store(), cloud: anyWorkloadCloud(), clock, heartbeatTimeoutSeconds };
    }),
  };
}

const root = once(() => controlPlane(process.env));
export const apiRuntime = () => root().api();
export const plannerRuntime = () => root().planner();
export const reconcilerRuntime = () => root().reconciler();
export const workerEventsRuntime = () => root().workerEvents();
export const ec2EventsRuntime = () => root().ec2Events();
export const sweeperRuntime = () => root().sweeper();
