/**
 * The simulated cloud: an EC2 stand-in and its worker agents behind the same ports the
 * reconciler uses on AWS (CloudPort, WorkerPort). Time is virtual: nothing moves until the
 * driver calls `advanceTo`. Every random draw comes from a stream keyed by the seed and the
 * subject (instance serial, job and configuration), so a run is reproducible.
 *
 * Model (docs/execution.md, "Simulated cloud"):
 *   - launch: pending for a drawn boot time, then running; capacity outages and a launch
 *     failure probability throw CapacityError; the account quota throws QuotaError;
 *   - spot: time to interruption ~ Exponential(rate of the type); a warning event and
 *     `interruptionNoticeAt` come two minutes before the instance is reclaimed;
 *   - billing: per second from launch to terminated, 60 s minimum (core/cloud/billing.ts);
 *     spot at the availability zone's price (catalog byAz, else drawn in the AZ min-max range);
 *   - workers: an attempt trains at the true throughput after a restart delay (when resuming),
 *     checkpoints every interval, checkpoints on request before stopping, and loses work
 *     since the last checkpoint when its instance goes away or the worker crashes.
 */

import type { Catalog, InstanceType } from "../../core/catalog/types.ts";
import { billedCostUsd } from "../../core/cloud/billing.ts";
import type {
  CloudEvent,
  CloudInstance,
  CloudPort,
  InstanceState,
  LaunchRequest,
} from "../../core/cloud/cloud-port.ts";
import { CapacityError, QuotaError } from "../../core/cloud/launch-errors.ts";
import type { JobReport, LostAttempt, StartJobRequest, WorkerPort } from "../../core/cloud/worker-port.ts";
import { exponential, type RandomStream, seededStream, standardNormal } from "../../core/random/seeded-random.ts";
import type { SimCloudOptions } from "./sim-options.ts";

interface SimInstance {
  readonly id: string;
  readonly serial: number;
  readonly type: InstanceType;
  readonly market: CloudInstance["market"];
  readonly region: string;
  readonly availabilityZone: string;
  tags: Record<string, string>;
  readonly launchedAt: number;
  readonly runningAt: number;
  readonly hourlyPriceUsd: number;
  /** Spot: when the two-minute notice comes (Infinity: never). */
  readonly noticeAt: number;
  state: InstanceState;
  noticed: boolean;
  terminatingAt: number | undefined;
  terminatedAt: number | undefined;
}

interface SimAttempt {
  readonly attemptId: string;
  readonly instanceIds: readonly string[];
  readonly gpusPerInstance: number;
  readonly startedAt: number;
  readonly trainingFrom: number;
  readonly fromSamples: number;
  readonly totalSamples: number;
  readonly samplesPerSecond: number;
  readonly checkpointIntervalSeconds: number;
  readonly checkpointable: boolean;
  readonly crashAt: number;
}

interface SimJob {
  checkpointSamples: number;
  completedAt: number | undefined;
  attemptsStarted: number;
  attempt: SimAttempt | undefined;
  lostAttempts: LostAttempt[];
}

/** One interval of a job on instances, for the "what actually ran" chart. */
export interface SimAttemptRecord {
  readonly jobId: string;
  readonly attemptId: string;
  readonly instanceIds: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly outcome: "completed" | "interrupted" | "failed" | "stopped";
}

export class SimulatedCloud implements CloudPort, WorkerPort {
  readonly #catalog: Catalog;
  readonly #options: SimCloudOptions;
  readonly #instances = new Map<string, SimInstance>();
  readonly #byToken = new Map<string, string>();
  readonly #jobs = new Map<string, SimJob>();
  readonly #finishedAttempts = new Set<string>();
  readonly #history: SimAttemptRecord[] = [];
  #events: CloudEvent[] = [];
  readonly #eventChaos: RandomStream;
  #now: number;
  #serial = 0;
  #launchCalls = 0;

  constructor(catalog: Catalog, options: SimCloudOptions, startAt = 0) {
    this.#catalog = catalog;
    this.#options = options;
    this.#now = startAt;
    this.#eventChaos = seededStream(options.seed, "event-chaos");
  }

  now(): number {
    return this.#now;
  }

  /** Launch calls received, failed ones included (tests count them). */
  get launchCalls(): number {
    return this.#launchCalls;
  }

  // ---- CloudPort ----

  async launch(request: LaunchRequest): Promise<CloudInstance> {
    this.#launchCalls++;
    const existing = this.#byToken.get(request.clientToken);
    if (existing !== undefined) return this.#view(this.#require(existing));
    const type = this.#catalog.instanceTypes.find((t) => t.name === request.instanceType);
    // One simulated cloud spans every region: each launch runs where the plan put it.
    const region = request.region ?? this.#options.region;
    const az = request.availabilityZone ?? `${region}a`;
    const details = { instanceType: request.instanceType, market: request.market, availabilityZone: az };
    const price = type === undefined ? undefined : this.#price(type, region, request.market, az, this.#serial + 1);
    if (type === undefined || price === undefined) {
      throw new CapacityError(
        { ...details, code: "Unsupported" },
        `Unsupported: ${request.instanceType} is not offered as ${request.market} in ${region}; expected a type and market with a catalog price`,
      );
    }
    const outage = this.#options.capacityOutages.some(
      (o) =>
        o.instanceType === request.instanceType &&
        (o.market === undefined || o.market === request.market) &&
        (o.from ?? Number.NEGATIVE_INFINITY) <= this.#now &&
        this.#now < (o.until ?? Number.POSITIVE_INFINITY),
    );
    const unlucky =
      seededStream(this.#options.seed, "capacity", this.#launchCalls)() < this.#options.capacityFailureProbability;
    if (outage || unlucky) {
      throw new CapacityError(
        { ...details, code: "InsufficientInstanceCapacity" },
        `InsufficientInstanceCapacity: no ${request.market} capacity for ${request.instanceType} in ${az} now; try another availability zone, type or market`,
      );
    }
    // Quotas are per region: each region's usage against its own table.
    const quotas = this.#options.quotasByRegion?.[region] ?? this.#options.quotas;
    const quota = quotas?.[type.quotaGroups[request.market]]?.[request.market];
    if (quota !== undefined) {
      const group = type.quotaGroups[request.market];
      const used = [...this.#instances.values()]
        .filter((i) => (i.state === "pending" || i.state === "running") && i.market === request.market)
        .filter((i) => i.region === region)
        .filter((i) => i.type.quotaGroups[request.market] === group)
        .reduce((sum, i) => sum + i.type.vcpus, 0);
      if (used + type.vcpus > quota) {
        throw new QuotaError(
          { ...details, code: "VcpuLimitExceeded" },
          `VcpuLimitExceeded: ${group} ${request.market} quota in ${region} is ${quota} vCPUs, ${used} in use, ${request.instanceType} needs ${type.vcpus}; request a quota increase or use fewer vCPUs`,
        );
      }
    }
    const serial = ++this.#serial;
    const id = `i-sim${String(serial).padStart(5, "0")}`;
    const boot = seededStream(this.#options.seed, "boot", serial)();
    const [low, high] = this.#options.bootFraction;
    const bootSeconds = this.#options.bootSeconds * (low + (high - low) * boot);
    const rate = request.market === "spot" ? this.#options.interruptionRatePerHour(type.name) : 0;
    const untilNotice = exponential(seededStream(this.#options.seed, "interruption", serial), rate / 3600);
    const instance: SimInstance = {
      id,
      serial,
      type,
      market: request.market,
      region,
      availabilityZone: az,
      tags: { ...request.tags },
      launchedAt: this.#now,
      runningAt: this.#now + bootSeconds,
      hourlyPriceUsd: price,
      noticeAt: this.#now + untilNotice,
      state: "pending",
      noticed: false,
      terminatingAt: undefined,
      terminatedAt: undefined,
    };
    this.#instances.set(id, instance);
    this.#byToken.set(request.clientToken, id);
    this.#emit({ kind: "instance-state", instanceId: id, state: "pending", at: this.#now });
    return this.#view(instance);
  }

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (const id of instanceIds) {
      const instance = this.#instances.get(id);
      if (instance === undefined || instance.state === "shutting-down" || instance.state === "terminated") continue;
      this.#loseAttemptsOn(instance, "instance-lost", `instance ${id} terminated`);
      instance.state = "shutting-down";
      instance.terminatingAt = this.#now + this.#options.shutdownSeconds;
      this.#emit({ kind: "instance-state", instanceId: id, state: "shutting-down", at: this.#now });
    }
  }

  async describe(tags: Readonly<Record<string, string>>): Promise<readonly CloudInstance[]> {
    return [...this.#instances.values()]
      .filter((instance) => Object.entries(tags).every(([k, v]) => instance.tags[k] === v))
      .map((instance) => this.#view(instance));
  }

  async tag(instanceId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const instance = this.#instances.get(instanceId);
    if (instance !== undefined) instance.tags = { ...instance.tags, ...tags };
  }

  async drainEvents(): Promise<readonly CloudEvent[]> {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  async spendUsd(tags: Readonly<Record<string, string>>): Promise<number> {
    return this.spendAt(tags, this.#now);
  }

  spendAt(tags: Readonly<Record<string, string>>, at: number): number {
    let total = 0;
    for (const instance of this.#instances.values()) {
      if (!Object.entries(tags).every(([k, v]) => instance.tags[k] === v)) continue;
      total += billedCostUsd(instance.launchedAt, Math.min(at, instance.terminatedAt ?? at), instance.hourlyPriceUsd);
    }
    return total;
  }

  // ---- WorkerPort ----

  async startJob(request: StartJobRequest): Promise<void> {
    const job = this.#job(request.jobId);
    if (job.completedAt !== undefined || job.attempt !== undefined) return;
    if (this.#finishedAttempts.has(request.attemptId)) return;
    const instances = request.instanceIds.map((id) => this.#instances.get(id));
    if (instances.some((i) => i === undefined || i.state !== "running")) return;
    job.attemptsStarted++;
    const first = instances[0];
    const configKey = `${first?.type.name}|${instances.length}|${request.gpusPerInstance}`;
    const spread = standardNormal(seededStream(this.#options.seed, "throughput", request.jobId, configKey));
    const sigma = this.#options.throughputSigma;
    const factor = this.#options.throughputBias * Math.exp(sigma * spread - (sigma * sigma) / 2);
    const scripted = this.#options.scriptedCrashes.find(
      (crash) => crash.jobId === request.jobId && crash.attempt === job.attemptsStarted,
    );
    const randomCrash = exponential(
      seededStream(this.#options.seed, "crash", request.attemptId),
      this.#options.workerCrashRatePerHour / 3600,
    );
    // The checkpoint store is the truth: a worker resumes from the latest checkpoint it finds.
    const fromSamples = job.checkpointSamples;
    job.attempt = {
      attemptId: request.attemptId,
      instanceIds: [...request.instanceIds],
      gpusPerInstance: request.gpusPerInstance,
      startedAt: this.#now,
      trainingFrom: this.#now + (fromSamples > 0 ? this.#options.restartSeconds : 0),
      fromSamples,
      totalSamples: request.totalSamples,
      samplesPerSecond:
        this.#options.revealedThroughput?.(request.jobId, configKey, request.plannedSamplesPerSecond) ??
        request.plannedSamplesPerSecond * factor,
      checkpointIntervalSeconds: request.checkpointIntervalSeconds,
      checkpointable: request.checkpointable,
      crashAt: this.#now + Math.min(scripted?.afterSeconds ?? Number.POSITIVE_INFINITY, randomCrash),
    };
  }

  async checkpointAndStop(jobId: string, attemptId: string): Promise<void> {
    const job = this.#jobs.get(jobId);
    const attempt = job?.attempt;
    if (job === undefined || attempt === undefined || attempt.attemptId !== attemptId) return;
    if (attempt.checkpointable)
      job.checkpointSamples = Math.max(job.checkpointSamples, this.#progress(attempt, this.#now));
    this.#endAttempt(jobId, job, "stopped");
  }

  async reports(jobIds: readonly string[]): Promise<readonly JobReport[]> {
    return jobIds.map((jobId) => this.#report(jobId, this.#job(jobId)));
  }

  // ---- virtual time ----

  /** The next moment the simulated world changes by itself (Infinity: never). */
  nextEventTime(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const instance of this.#instances.values()) {
      if (instance.state === "pending") next = Math.min(next, instance.runningAt);
      if (instance.state === "shutting-down") next = Math.min(next, instance.terminatingAt ?? next);
      if (instance.state === "pending" || instance.state === "running") {
        next = Math.min(
          next,
          instance.noticed ? instance.noticeAt + this.#options.interruptionNoticeSeconds : instance.noticeAt,
        );
      }
    }
    for (const job of this.#jobs.values()) {
      const attempt = job.attempt;
      if (attempt === undefined) continue;
      next = Math.min(next, this.#completionTime(attempt), attempt.crashAt);
    }
    return next;
  }

  /** Moves the clock to `time`, applying every change due on the way in time order. */
  advanceTo(time: number): void {
    while (true) {
      const next = this.nextEventTime();
      if (next > time) break;
      this.#now = Math.max(this.#now, next);
      this.#applyDueChanges();
    }
    this.#now = Math.max(this.#now, time);
  }

  /** Intervals of every attempt so far (open ones end now), for reports. */
  attemptHistory(): readonly SimAttemptRecord[] {
    const open: SimAttemptRecord[] = [];
    for (const [jobId, job] of this.#jobs) {
      if (job.attempt === undefined) continue;
      open.push({
        jobId,
        attemptId: job.attempt.attemptId,
        instanceIds: job.attempt.instanceIds,
        start: job.attempt.startedAt,
        end: this.#now,
        outcome: "stopped",
      });
    }
    return [...this.#history, ...open];
  }

  /** Every instance ever launched, as the cloud sees it. */
  allInstances(): readonly (CloudInstance & { readonly terminatedAt: number | undefined })[] {
    return [...this.#instances.values()].map((instance) => ({
      ...this.#view(instance),
      terminatedAt: instance.terminatedAt,
    }));
  }

  /** Progress of a job right now (samples), including the running attempt. */
  samplesDone(jobId: string): number {
    const job = this.#jobs.get(jobId);
    if (job === undefined) return 0;
    if (job.completedAt !== undefined) return job.attempt?.totalSamples ?? job.checkpointSamples;
    return job.attempt !== undefined ? this.#progress(job.attempt, this.#now) : job.checkpointSamples;
  }

  #applyDueChanges(): void {
    const now = this.#now;
    for (const instance of this.#instances.values()) {
      if (instance.state === "pending" && instance.runningAt <= now) {
        instance.state = "running";
        this.#emit({ kind: "instance-state", instanceId: instance.id, state: "running", at: now });
      }
      if (instance.state === "shutting-down" && (instance.terminatingAt ?? now) <= now) {
        instance.state = "terminated";
        instance.terminatedAt = instance.terminatingAt ?? now;
        this.#emit({ kind: "instance-state", instanceId: instance.id, state: "terminated", at: now });
      }
      const live = instance.state === "pending" || instance.state === "running";
      if (live && !instance.noticed && instance.noticeAt <= now) {
        instance.noticed = true;
        this.#emit({
          kind: "spot-interruption-warning",
          instanceId: instance.id,
          at: now,
          reclaimAt: instance.noticeAt + this.#options.interruptionNoticeSeconds,
        });
      }
      if (live && instance.noticed && instance.noticeAt + this.#options.interruptionNoticeSeconds <= now) {
        this.#loseAttemptsOn(instance, "instance-lost", `spot instance ${instance.id} reclaimed`);
        instance.state = "terminated";
        instance.terminatedAt = now;
        this.#emit({ kind: "instance-state", instanceId: instance.id, state: "terminated", at: now });
      }
    }
    for (const [jobId, job] of this.#jobs) {
      const attempt = job.attempt;
      if (attempt === undefined) continue;
      if (this.#completionTime(attempt) <= now) {
        job.checkpointSamples = attempt.totalSamples;
        job.completedAt = this.#completionTime(attempt);
        this.#endAttempt(jobId, job, "completed");
      } else if (attempt.crashAt <= now) {
        this.#loseAttempt(jobId, job, "worker-crash", `worker process of ${attempt.attemptId} exited with code 1`);
      }
    }
  }

  #completionTime(attempt: SimAttempt): number {
    return attempt.trainingFrom + (attempt.totalSamples - attempt.fromSamples) / attempt.samplesPerSecond;
  }

  #progress(attempt: SimAttempt, at: number): number {
    const trained = Math.max(0, at - attempt.trainingFrom) * attempt.samplesPerSecond;
    return Math.min(attempt.totalSamples, attempt.fromSamples + trained);
  }

  /** Progress saved by the periodic checkpoints up to `at`. */
  #periodicCheckpoint(attempt: SimAttempt, at: number): number {
    if (!attempt.checkpointable) return 0;
    const trainedSeconds = Math.max(0, at - attempt.trainingFrom);
    const saved = Math.floor(trainedSeconds / attempt.checkpointIntervalSeconds) * attempt.checkpointIntervalSeconds;
    return this.#progress(attempt, attempt.trainingFrom + saved);
  }

  #loseAttemptsOn(instance: SimInstance, cause: LostAttempt["cause"], message: string): void {
    for (const [jobId, job] of this.#jobs) {
      if (job.attempt?.instanceIds.includes(instance.id)) this.#loseAttempt(jobId, job, cause, message);
    }
  }

  #loseAttempt(jobId: string, job: SimJob, cause: LostAttempt["cause"], message: string): void {
    const attempt = job.attempt;
    if (attempt === undefined) return;
    job.checkpointSamples = Math.max(job.checkpointSamples, this.#periodicCheckpoint(attempt, this.#now));
    job.lostAttempts.push({ attemptId: attempt.attemptId, at: this.#now, cause, message });
    this.#endAttempt(jobId, job, cause === "worker-crash" ? "failed" : "interrupted");
  }

  #endAttempt(jobId: string, job: SimJob, outcome: SimAttemptRecord["outcome"]): void {
    const attempt = job.attempt;
    if (attempt === undefined) return;
    this.#history.push({
      jobId,
      attemptId: attempt.attemptId,
      instanceIds: attempt.instanceIds,
      start: attempt.startedAt,
      end: outcome === "completed" ? (job.completedAt ?? this.#now) : this.#now,
      outcome,
    });
    this.#finishedAttempts.add(attempt.attemptId);
    job.attempt = undefined;
  }

  #report(jobId: string, job: SimJob): JobReport {
    const attempt = job.attempt;
    const now = this.#now;
    const trainedSeconds = attempt === undefined ? 0 : now - attempt.trainingFrom;
    return {
      jobId,
      checkpointSamples:
        attempt === undefined
          ? job.checkpointSamples
          : Math.max(job.checkpointSamples, this.#periodicCheckpoint(attempt, now)),
      completed: job.completedAt !== undefined,
      completedAt: job.completedAt,
      attemptsStarted: job.attemptsStarted,
      lostAttempts: [...job.lostAttempts],
      attempt:
        attempt === undefined
          ? undefined
          : {
              attemptId: attempt.attemptId,
              instanceIds: attempt.instanceIds,
              gpusPerInstance: attempt.gpusPerInstance,
              startedAt: attempt.startedAt,
              samplesDone: this.#progress(attempt, now),
              // Measured over training time only: restarts do not count as slow training.
              samplesPerSecond: trainedSeconds > 0 ? attempt.samplesPerSecond : undefined,
              lastHeartbeatAt: now,
            },
    };
  }

  #job(jobId: string): SimJob {
    let job = this.#jobs.get(jobId);
    if (job === undefined) {
      job = { checkpointSamples: 0, completedAt: undefined, attemptsStarted: 0, attempt: undefined, lostAttempts: [] };
      this.#jobs.set(jobId, job);
    }
    return job;
  }

  #require(id: string): SimInstance {
    const instance = this.#instances.get(id);
    if (instance === undefined) throw new Error(`Expected simulated instance ${id} to exist, got nothing`);
    return instance;
  }

  #price(
    type: InstanceType,
    region: string,
    market: CloudInstance["market"],
    az: string,
    serial: number,
  ): number | undefined {
    const price = type.prices[region];
    if (price === undefined) return undefined;
    if (market === "on-demand") return price.onDemandUsdPerHour ?? undefined;
    const spot = price.spot;
    if (spot === null) return undefined;
    const inAz = spot.byAz[az];
    if (inAz !== undefined) return inAz;
    const draw = seededStream(this.#options.seed, "spot-price", serial)();
    // Zones keyed otherwise (the bundled catalog keys AZ IDs such as use1-az1): one of them,
    // equally likely, so the executed mean is the planner's expected price (the zones' mean).
    const zones = Object.values(spot.byAz);
    if (zones.length > 0) return zones[Math.min(zones.length - 1, Math.floor(draw * zones.length))] as number;
    return spot.minUsdPerHour + (spot.maxUsdPerHour - spot.minUsdPerHour) * draw;
  }

  #view(instance: SimInstance): CloudInstance {
    return {
      id: instance.id,
      instanceType: instance.type.name,
      market: instance.market,
      region: instance.region,
      availabilityZone: instance.availabilityZone,
      state: instance.state,
      tags: { ...instance.tags },
      launchedAt: instance.launchedAt,
      runningSince: instance.state === "running" ? instance.runningAt : undefined,
      hourlyPriceUsd: instance.hourlyPriceUsd,
      interruptionNoticeAt: instance.noticed ? instance.noticeAt : undefined,
    };
  }

  #emit(event: CloudEvent): void {
    const events = [event];
    if (this.#eventChaos() < this.#options.duplicateEventProbability) events.push(event);
    if (this.#options.shuffleEvents) {
      for (const e of events) this.#events.splice(Math.floor(this.#eventChaos() * (this.#events.length + 1)), 0, e);
    } else this.#events.push(...events);
  }
}
