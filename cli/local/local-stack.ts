/**
 * `saturn local`: the whole control plane on the moto emulator. Starts moto, deploys the
 * synthesized stack into it, builds the real handlers in-process from the deployed
 * functions' environment (`controlPlane(env, seams)` with the emulator as endpoint and a
 * virtual clock), and then plays, in-process, what AWS would do around them:
 *
 * - API Gateway: the router on 127.0.0.1 (SigV4 checked, caller's ARN from STS);
 * - the SQS event source mappings of the plan, reconcile and worker-event queues;
 * - the EventBridge rules: the 1-minute reconcile schedule (onto the reconcile queue, as
 *   the rule's SQS target does), the hourly sweeper, and EC2 events to the EC2-event handler;
 * - the worker agents on the instances launched in moto (SimulatedAgents), in virtual time.
 *
 * Virtual time moves only in `step`, so every component sees one instant per step.
 */
import { randomUUID } from "node:crypto";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { Context, EventBridgeEvent, ScheduledEvent } from "aws-lambda";
import { type DeployedStack, deployToEmulator } from "../../cdk/emulator-deployment.ts";
import { BUNDLED_CATALOG_PATH, loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { ENV } from "../../lambdas/config/stack-contract.ts";
import {
  DEFAULT_INTERRUPTION_RATE_PER_HOUR,
  FALLBACK_INTERRUPTION_RATE_PER_HOUR,
} from "../../lambdas/core/planner/spot-overhead.ts";
import { createApiHandler } from "../../lambdas/handlers/api.ts";
import { type ControlPlaneSeams, controlPlane } from "../../lambdas/handlers/composition-root.ts";
import { createEc2EventsHandler } from "../../lambdas/handlers/ec2-events.ts";
import type { Observability } from "../../lambdas/handlers/observability.ts";
import { createPlannerHandler } from "../../lambdas/handlers/planner.ts";
import type { ReconcilerRuntime } from "../../lambdas/handlers/reconciler.ts";
import { createReconcilerHandler } from "../../lambdas/handlers/reconciler.ts";
import { createSweeperHandler } from "../../lambdas/handlers/sweeper.ts";
import { createWorkerEventsHandler } from "../../lambdas/handlers/worker-events.ts";
import { ApiRouter } from "./api-router.ts";
import { EmulatorIdentities } from "./emulator-identities.ts";
import { disableEventSourceMappings } from "./event-source-mappings.ts";
import { lambdaContext } from "./lambda-context.ts";
import { MotoServer } from "./moto-server.ts";
import { type InvocationWrapper, QueueTrigger, type SqsHandler } from "./queue-trigger.ts";
import { type AgentModel, DEFAULT_AGENT_MODEL, type Ec2EventKind, SimulatedAgents } from "./simulated-agents.ts";
import { VirtualClock } from "./virtual-clock.ts";
import { VirtualTimeEc2 } from "./virtual-time-ec2.ts";

export const LOCAL_REGION = "us-east-1";
/** moto's default account. */
export const LOCAL_ACCOUNT = "123456789012";
const EMULATOR_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
/** The schedule rule's message group on the reconcile queue (cdk/constructs/event-rules.ts). */
const SCHEDULE_MESSAGE_GROUP = "saturn-schedule";
const RECONCILE_EVERY_SECONDS = 60;
/** Agent turns per step at most (orders, then the events answering them, then their orders...). */
const SETTLE_ROUNDS = 6;
const SWEEP_EVERY_SECONDS = 3600;
/** Agent instants (completions, boots) handled inside one step; the rest wait for its end. */
const MAX_AGENT_INSTANTS_PER_STEP = 12;
/** The resolution of agent instants inside a step (seconds of virtual time). */
const AGENT_INSTANT_SECONDS = 10;

export interface LocalStackOptions {
  /** Port of the API router (0: a free one). */
  readonly port?: number;
  readonly seed?: number;
  /** Draw spot interruptions at the planner's rates (default true). */
  readonly spotInterruptions?: boolean;
  readonly observability: (functionName: string) => Observability;
  readonly log?: (line: string) => void;
  /** Solver seconds of the first plan (the spec's limit applies below it). */
  readonly planSeconds?: number;
  readonly seams?: Partial<ControlPlaneSeams>;
  /** A stack already deployed into a running emulator; default: start moto and deploy into it. */
  readonly deployed?: DeployedStack;
  /** Wraps every handler invocation (the benchmark times and meters each one). */
  readonly around?: InvocationWrapper;
  /** SDK request handler of the control plane's clients (the benchmark's meter). */
  readonly requestHandler?: unknown;
  /** Overrides of the simulated agents' model (tests: a profile run that does not fit). */
  readonly agentModel?: Partial<AgentModel>;
  /**
   * Regions the deployment covers beyond us-east-1: a regional stack is deployed into moto
   * for each (moto serves every region on its one endpoint). Default: none.
   */
  readonly regions?: readonly string[];
  /** Where the started moto server's own output goes (request lines, tracebacks); discarded by default. */
  readonly motoLogFile?: string;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

export class LocalStack {
  readonly apiUrl: string;
  readonly emulatorEndpoint: string;
  readonly clock: VirtualClock;
  readonly agents: SimulatedAgents;
  readonly deployed: DeployedStack;
  /** An IAM user of the emulator whose key the router accepts. */
  readonly user: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly arn: string };
  readonly identities: EmulatorIdentities;
  /** The store the handlers use (the benchmark reads each workload's audit trail and record from it). */
  readonly store: ReconcilerRuntime["store"];
  readonly #moto: MotoServer | undefined;
  readonly #router: ApiRouter;
  readonly #triggers: readonly QueueTrigger[];
  readonly #sqs: SQSClient;
  readonly #clients: { destroy(): void }[];
  readonly #reconcileQueueUrl: string;
  readonly #sweeper: Handler<ScheduledEvent, unknown>;
  readonly #ec2Events: Handler<EventBridgeEvent<string, unknown>, unknown>;
  readonly #around: InvocationWrapper;
  #nextReconcileAt: number;
  #nextSweepAt: number;
  #running = false;
  /** EventBridge events the in-process rules delivered: schedules and EC2 events. */
  eventBridgeEvents = 0;
  #loop: Promise<void> | undefined;

  private constructor(parts: {
    apiUrl: string;
    emulatorEndpoint: string;
    clock: VirtualClock;
    agents: SimulatedAgents;
    deployed: DeployedStack;
    user: LocalStack["user"];
    identities: EmulatorIdentities;
    store: ReconcilerRuntime["store"];
    moto: MotoServer | undefined;
    router: ApiRouter;
    triggers: QueueTrigger[];
    sqs: SQSClient;
    clients: { destroy(): void }[];
    reconcileQueueUrl: string;
    sweeper: Handler<ScheduledEvent, unknown>;
    ec2Events: Handler<EventBridgeEvent<string, unknown>, unknown>;
    around: InvocationWrapper;
  }) {
    this.apiUrl = parts.apiUrl;
    this.emulatorEndpoint = parts.emulatorEndpoint;
    this.clock = parts.clock;
    this.agents = parts.agents;
    this.deployed = parts.deployed;
    this.user = parts.user;
    this.identities = parts.identities;
    this.store = parts.store;
    this.#moto = parts.moto;
    this.#router = parts.router;
    this.#triggers = parts.triggers;
    this.#sqs = parts.sqs;
    this.#clients = parts.clients;
    this.#reconcileQueueUrl = parts.reconcileQueueUrl;
    this.#sweeper = parts.sweeper;
    this.#ec2Events = parts.ec2Events;
    this.#around = parts.around;
    this.#nextReconcileAt = parts.clock.nowSeconds() + RECONCILE_EVERY_SECONDS;
    this.#nextSweepAt = parts.clock.nowSeconds() + SWEEP_EVERY_SECONDS;
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const log = options.log ?? (() => {});
    const moto =
      options.deployed === undefined
        ? await MotoServer.start(options.motoLogFile === undefined ? {} : { logFile: options.motoLogFile })
        : undefined;
    try {
      let deployed = options.deployed;
      if (deployed === undefined) {
        log(`moto server at ${moto?.endpoint}; deploying the Saturn stack into it (cdk synth, bootstrap, deploy)...`);
        deployed = await deployToEmulator({
          target: { endpoint: moto?.endpoint ?? "", region: LOCAL_REGION },
          ...(options.regions === undefined ? {} : { regions: options.regions }),
        });
        const { synth, bootstrap, deploy } = deployed.seconds;
        log(
          `deployed in ${(synth + bootstrap + deploy).toFixed(0)} s (synth ${synth.toFixed(0)} s${deployed.synthReused ? ", reused" : ""}, bootstrap ${bootstrap.toFixed(0)} s, deploy ${deploy.toFixed(0)} s)`,
        );
      }
      const emulatorEndpoint = deployed.endpoint;
      // The in-process triggers below are the mappings; moto's own would swallow the messages.
      await disableEventSourceMappings({ endpoint: emulatorEndpoint, region: deployed.region });
      const env: Record<string, string> = { ...deployed.environment, AWS_REGION: deployed.region };
      const clock = new VirtualClock(Date.now());
      const clientConfig = { endpoint: emulatorEndpoint, credentials: EMULATOR_CREDENTIALS, forcePathStyle: true };
      const plane = controlPlane(env, {
        clock: clock.nowMs,
        clientConfig: {
          ...clientConfig,
          ...(options.requestHandler === undefined ? {} : { requestHandler: options.requestHandler }),
        },
        // moto does not serve Service Quotas: the spec's quotas and the assumed defaults apply.
        awsQuotas: {},
        ...(options.planSeconds === undefined ? {} : { planSeconds: options.planSeconds }),
        ...options.seams,
        // moto's timestamps read in virtual time (virtual-time-ec2.ts); a test's own wrapper goes around it.
        wrapEc2: (client, region) => {
          const virtual = new VirtualTimeEc2(client, clock);
          return options.seams?.wrapEc2 === undefined ? virtual : options.seams.wrapEc2(virtual, region);
        },
      });
      const obs = options.observability;
      const api = createApiHandler(plane.api, obs("api"));
      const planner = createPlannerHandler(plane.planner, obs("planner")) as unknown as SqsHandler;
      const reconciler = createReconcilerHandler(plane.reconciler, obs("reconciler")) as unknown as SqsHandler;
      const workerEvents = createWorkerEventsHandler(plane.workerEvents, obs("worker-events")) as unknown as SqsHandler;
      const ec2Events = createEc2EventsHandler(plane.ec2Events, obs("ec2-events")) as unknown as Handler<
        EventBridgeEvent<string, unknown>,
        unknown
      >;
      const sweeper = createSweeperHandler(plane.sweeper, obs("sweeper")) as unknown as Handler<
        ScheduledEvent,
        unknown
      >;

      const identities = new EmulatorIdentities({ endpoint: emulatorEndpoint, region: LOCAL_REGION });
      const user = await identities.createUser(`saturn-local-${randomUUID().slice(0, 8)}`);
      // The caller's own credentials work too, as they would against a stack in their account.
      try {
        const own = await fromNodeProviderChain()();
        identities.register(own);
      } catch {
        // no credentials configured: the printed user's key is the way in
      }
      const around: InvocationWrapper = options.around ?? ((_name, invoke) => invoke());
      const router = new ApiRouter({
        region: LOCAL_REGION,
        secretOf: identities.secretOf,
        identityOf: identities.identityOf,
        handler: (event, context) => around("api", () => api(event, context)),
      });
      const apiUrl = await router.listen(options.port ?? 0);

      const sqs = new SQSClient({ region: LOCAL_REGION, ...clientConfig });
      const ec2 = new EC2Client({ region: LOCAL_REGION, ...clientConfig });
      const s3 = new S3Client({ region: LOCAL_REGION, ...clientConfig });
      const otherRegionsEc2 = (deployed.regions ?? [deployed.region])
        .filter((region) => region !== LOCAL_REGION)
        .map((region) => new EC2Client({ region, ...clientConfig }));
      const need = (name: string): string => {
        const value = env[name];
        if (value === undefined || value === "")
          throw new Error(`Expected the deployed functions to have ${name}, got nothing`);
        return value;
      };
      const trigger = (queueUrl: string, handler: SqsHandler, functionName: string) =>
        new QueueTrigger({
          sqs,
          queueUrl,
          handler,
          functionName,
          region: LOCAL_REGION,
          around,
        });
      const reconcileQueueUrl = need(ENV.reconcileQueueUrl);
      const triggers = [
        trigger(need(ENV.planQueueUrl), planner, "planner"),
        trigger(need(ENV.workerEventsQueueUrl), workerEvents, "worker-events"),
        trigger(reconcileQueueUrl, reconciler, "reconciler"),
      ];
      const catalog = loadCatalog(BUNDLED_CATALOG_PATH);
      const spot = options.spotInterruptions ?? true;
      let deliver: (kind: Ec2EventKind, instanceId: string) => Promise<void> = async () => {};
      const agents = new SimulatedAgents({
        ec2,
        otherRegionsEc2,
        s3,
        sqs,
        bucketName: need(ENV.bucketName),
        workerEventsQueueUrl: need(ENV.workerEventsQueueUrl),
        clock,
        model: {
          ...DEFAULT_AGENT_MODEL,
          seed: options.seed ?? 1,
          interruptionRatePerHour: (name) => {
            const type = catalog.instanceTypes.find((t) => t.name === name);
            if (!spot || type === undefined) return 0;
            return DEFAULT_INTERRUPTION_RATE_PER_HOUR[type.family] ?? FALLBACK_INTERRUPTION_RATE_PER_HOUR;
          },
          ...options.agentModel,
        },
        onEc2Event: (kind, instance) => deliver(kind, instance.id),
      });
      const stack = new LocalStack({
        apiUrl,
        emulatorEndpoint,
        clock,
        agents,
        deployed,
        user,
        identities,
        store: plane.reconciler().store,
        moto,
        router,
        triggers,
        sqs,
        clients: [sqs, ec2, s3, ...otherRegionsEc2],
        reconcileQueueUrl,
        sweeper,
        ec2Events,
        around,
      });
      deliver = (kind, instanceId) => stack.#deliverEc2Event(kind, instanceId);
      return stack;
    } catch (error) {
      await moto?.stop();
      throw error;
    }
  }

  /** Moves virtual time forward and lets everything catch up: rules, queues, agents. */
  async step(virtualSeconds: number): Promise<void> {
    const target = this.clock.nowMs() + virtualSeconds * 1000;
    // What the agents do on their own inside the step (a job finishing, an instance done
    // booting) happens at its own instant, with the passes it triggers: on AWS an agent
    // reports a completion within seconds and the event starts a pass at once. Stepping
    // only at the step's end made every job last a whole number of steps (a 40 s job took
    // 60 s, a 70 s one 120 s): the 1,000-job benchmark ran ~1.3x its plan's makespan.
    // Instants fall on a 10 s grid: the agent polls every 5 s and reports progress on its
    // heartbeat, and at 1,000 jobs one instant per completion made a step cost ~60 passes.
    for (let k = 0; k < MAX_AGENT_INSTANTS_PER_STEP; k++) {
      const grid = AGENT_INSTANT_SECONDS * 1000;
      const at = Math.ceil((this.agents.nextEventAt() * 1000) / grid) * grid;
      if (!(at < target)) break;
      this.clock.advanceBy(Math.max(0, at - this.clock.nowMs()));
      await this.#settle();
    }
    this.clock.advanceBy(Math.max(0, target - this.clock.nowMs()));
    const now = this.clock.nowSeconds();
    if (now >= this.#nextReconcileAt) {
      this.#nextReconcileAt = now + RECONCILE_EVERY_SECONDS;
      await this.#scheduleReconcile();
    }
    if (now >= this.#nextSweepAt) {
      this.#nextSweepAt = now + SWEEP_EVERY_SECONDS;
      this.eventBridgeEvents++;
      await this.#invoke("sweeper", () =>
        this.#sweeper(this.#scheduledEvent(), lambdaContext("sweeper", randomUUID())),
      );
    }
    await this.drainQueues();
    await this.#settle();
  }

  /**
   * Settles at this instant: the orders the passes just wrote are picked up now, and the
   * events that answer them trigger their passes now (an agent on AWS polls its orders
   * within seconds of the write). Before, orders written after the agents' turn waited a
   * whole step: every freed GPU sat idle 60-120 s between a completion and the next start.
   */
  async #settle(): Promise<void> {
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      const activity = await this.agents.step();
      await this.drainQueues();
      if (activity === 0) break;
    }
  }

  /** Runs every queue trigger until no queue has anything left (bounded: failures wait out their visibility timeout). */
  async drainQueues(maxRounds = 12): Promise<void> {
    for (let round = 0; round < maxRounds; round++) {
      let handled = 0;
      for (const trigger of this.#triggers) handled += await trigger.poll();
      if (handled === 0) return;
    }
  }

  /**
   * Real-time mode for `saturn local`: every `tickMs` of wall time, `timeScale` times as
   * much virtual time passes, at most `maxStepSeconds` per step (so a two-minute spot
   * notice always gets a reconcile pass before the reclaim).
   */
  runInRealTime(timeScale: number, tickMs = 250, maxStepSeconds = 30): void {
    this.#running = true;
    this.#loop = (async () => {
      let last = performance.now();
      while (this.#running) {
        await new Promise((resolve) => setTimeout(resolve, tickMs));
        const now = performance.now();
        const virtual = Math.min(maxStepSeconds, ((now - last) / 1000) * timeScale);
        last = now;
        await this.step(virtual);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop?.catch(() => {});
    await this.#router.close();
    for (const client of this.#clients) client.destroy();
    await this.#moto?.stop();
  }

  /** SQS requests of the in-process event source mappings (non-empty receives and deletes). */
  get triggerSqsRequests(): number {
    return this.#triggers.reduce((sum, trigger) => sum + trigger.requests, 0);
  }

  async #scheduleReconcile(): Promise<void> {
    this.eventBridgeEvents++;
    // The schedule rule's target: the event onto the FIFO reconcile queue, in its own group.
    const event = this.#scheduledEvent();
    await this.#sqs.send(
      new SendMessageCommand({
        QueueUrl: this.#reconcileQueueUrl,
        MessageBody: JSON.stringify(event),
        MessageGroupId: SCHEDULE_MESSAGE_GROUP,
        MessageDeduplicationId: event.id,
      }),
    );
  }

  #scheduledEvent(): ScheduledEvent {
    return {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: LOCAL_ACCOUNT,
      time: this.clock.date().toISOString(),
      region: LOCAL_REGION,
      resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/saturn-local`],
      detail: {},
    };
  }

  async #deliverEc2Event(kind: Ec2EventKind, instanceId: string): Promise<void> {
    this.eventBridgeEvents++;
    const event: EventBridgeEvent<string, unknown> = {
      version: "0",
      id: randomUUID(),
      "detail-type":
        kind === "spot-interruption-warning"
          ? "EC2 Spot Instance Interruption Warning"
          : "EC2 Instance State-change Notification",
      source: "aws.ec2",
      account: LOCAL_ACCOUNT,
      time: this.clock.date().toISOString(),
      region: LOCAL_REGION,
      resources: [`arn:aws:ec2:${LOCAL_REGION}:${LOCAL_ACCOUNT}:instance/${instanceId}`],
      detail:
        kind === "spot-interruption-warning"
          ? { "instance-id": instanceId, "instance-action": "terminate" }
          : { "instance-id": instanceId, state: "terminated" },
    };
    await this.#invoke("ec2-events", () => this.#ec2Events(event, lambdaContext("ec2-events", randomUUID())));
  }

  async #invoke(name: string, call: () => Promise<unknown>): Promise<void> {
    await this.#around(name, call);
  }
}
