/**
 * One attempt on this instance, from download to its last event:
 *
 *   prepare (resume checkpoint, data set, user module -> WORK) -> task.json -> torchrun
 *   -> tail progress.jsonl (heartbeats, checkpoint uploads, profile records)
 *   -> exactly one of completed | stopped | failed.
 *
 * Invariants:
 * - `checkpoint-saved` is sent only after every file of the checkpoint is in S3, and in
 *   the order the harness wrote them; the previous local checkpoint is deleted only after
 *   a newer one is durable, so disk holds at most two.
 * - A stop is judged by the checkpoint, not torchrun's exit code (torchrun can exit 1
 *   after every rank saved): `stopped` carries the samples of the last durable checkpoint.
 * - Any failure before the harness starts (a download, a bad path) ends the attempt as
 *   `failed` with the reason; nothing here throws out of `done`.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, isAbsolute, join } from "node:path";
import type { AssignmentMessage } from "../../lambdas/core/protocol/worker-protocol.ts";
import type { AgentLog } from "./agent-log.ts";
import type { Clock } from "./clock.ts";
import type { ControlPlanePort } from "./control-plane-client.ts";
import type { EventOutbox } from "./event-outbox.ts";
import { buildInvocation, buildTaskFile, type InvocationContext } from "./harness-invocation.ts";
import { LogTail } from "./log-tail.ts";
import type { ProcessExit, ProcessRunner, RunningProcess } from "./process-runner.ts";
import { type ProgressLine, ProgressLog } from "./progress-log.ts";

export type StopReason = "stop-order" | "spot-interruption" | "rebalance" | "shutdown";
export type StopMode = "checkpoint" | "abandon";

export interface AttemptRunOptions {
  readonly assignment: AssignmentMessage;
  readonly workDir: string;
  readonly controlPlane: ControlPlanePort;
  readonly outbox: EventOutbox;
  readonly clock: Clock;
  readonly log: AgentLog;
  readonly runner: ProcessRunner;
  readonly invocation: Omit<InvocationContext, "workDir">;
  readonly logsUri: string;
  readonly timings: {
    readonly heartbeatSeconds: number;
    readonly progressPollSeconds: number;
    readonly stopTimeoutSeconds: number;
    readonly killGraceSeconds: number;
  };
}

interface Durable {
  readonly samples: number;
  readonly localPath: string;
  readonly uri: string;
}

const REASON_LIMIT = 500;

function clip(text: string, limit = REASON_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

export class AttemptRun {
  readonly #o: AttemptRunOptions;
  readonly #tail = new LogTail(8192);
  readonly #progress: ProgressLog;
  #stop: { readonly mode: StopMode; readonly reason: StopReason; readonly atMs: number } | undefined;
  #escalated: "none" | "term" | "kill" = "none";
  #process: RunningProcess | undefined;
  #uploads: Promise<void> = Promise.resolve();
  #durable: Durable | undefined;
  #samples = 0;
  #samplesPerSecond: number | null = null;
  #peakGpuMemoryBytes: number | null = null;
  #profileRecords = 0;
  #terminal: Extract<ProgressLine, { event: "completed" | "stopped" }> | undefined;
  #errorLine: Extract<ProgressLine, { event: "error" }> | undefined;
  #done: Promise<void> | undefined;

  constructor(options: AttemptRunOptions) {
    this.#o = options;
    this.#progress = new ProgressLog(join(options.workDir, "progress.jsonl"));
    // Samples count the job's progress, not this attempt's: a resumed attempt starts where its checkpoint ends.
    this.#samples = options.assignment.checkpoint.resumeFrom?.samples ?? 0;
  }

  get attemptId(): string {
    return this.#o.assignment.attemptId;
  }

  get stopping(): boolean {
    return this.#stop !== undefined;
  }

  /** Starts the attempt once; resolves after its final event was handed to the outbox. */
  start(): Promise<void> {
    this.#done ??= this.#run().catch((error) => {
      this.#o.log.error("attempt run crashed", { attemptId: this.attemptId, error: String(error) });
    });
    return this.#done;
  }

  /** Idempotent; a later `abandon` overrides an earlier `checkpoint`, never the reverse. */
  requestStop(mode: StopMode, reason: StopReason): void {
    if (this.#stop && (this.#stop.mode === "abandon" || mode === "checkpoint")) return;
    this.#stop = { mode, reason, atMs: this.#o.clock.now().getTime() };
    this.#o.log.info("stopping attempt", { attemptId: this.attemptId, mode, reason });
    if (mode === "abandon") this.#process?.signal("SIGKILL");
    else void this.#writeStopFile();
  }

  async #writeStopFile(): Promise<void> {
    try {
      await writeFile(join(this.#o.workDir, "STOP"), `${this.#stop?.reason ?? "stop"}\n`);
    } catch (error) {
      this.#o.log.warn("could not write the STOP file; signalling instead", { error: String(error) });
      this.#process?.signal("SIGTERM");
    }
  }

  #currentStop() {
    return this.#stop;
  }

  #ids() {
    return { jobId: this.#o.assignment.jobId, attemptId: this.#o.assignment.attemptId };
  }

  async #run(): Promise<void> {
    const { assignment, workDir } = this.#o;
    let exit: ProcessExit;
    try {
      await mkdir(workDir, { recursive: true });
      const { task, resumeFrom } = await this.#prepare();
      const plugins = await this.#pluginModules();
      if (this.#stop) {
        await this.#sendStopped();
        return;
      }
      const context: InvocationContext = { ...this.#o.invocation, workDir };
      const taskPath = join(workDir, "task.json");
      await writeFile(
        taskPath,
        `${JSON.stringify(buildTaskFile(assignment, context, task, resumeFrom, plugins), null, 2)}\n`,
      );
      const invocation = buildInvocation(assignment, context, taskPath);
      this.#o.log.info("starting the harness", { attemptId: this.attemptId, args: invocation.args });
      this.#process = this.#o.runner.start({
        ...invocation,
        cwd: workDir,
        logFile: join(workDir, "harness.log"),
        onOutput: (chunk) => this.#tail.append(chunk),
      });
      // A stop may have arrived while the downloads ran (requestStop runs between awaits).
      const stopDuringPrepare = this.#currentStop();
      if (stopDuringPrepare?.mode === "abandon") this.#process.signal("SIGKILL");
      else if (stopDuringPrepare) await this.#writeStopFile();
      exit = await this.#watch(this.#process);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#tail.append(Buffer.from(`saturn-agent: ${message}\n`));
      await this.#o.outbox.send({
        kind: "failed",
        ...this.#ids(),
        exitCode: -1,
        logTail: this.#tail.text(),
        reason: clip(`could not start the attempt: ${message}`),
      });
      return;
    }
    await this.#consumeProgress();
    await this.#uploads;
    await this.#finish(exit);
    await this.#uploadLog();
  }

  /** Downloads what the harness needs and returns the task with local paths. */
  async #prepare(): Promise<{ task: AssignmentMessage["task"]; resumeFrom: string | null }> {
    const { assignment, workDir, controlPlane } = this.#o;
    let resumeFrom: string | null = null;
    if (assignment.checkpoint.resumeFrom) {
      resumeFrom = join(workDir, "resume");
      const count = await controlPlane.downloadPrefix(assignment.checkpoint.resumeFrom.uri, resumeFrom);
      if (count === 0)
        throw new Error(
          `checkpoint.resumeFrom.uri: expected a checkpoint under ${assignment.checkpoint.resumeFrom.uri}, found no objects`,
        );
    }
    const entrypoint = assignment.task.entrypoint;
    if ("recipe" in entrypoint && entrypoint.dataset?.startsWith("s3://")) {
      const local = join(workDir, "data", basename(entrypoint.dataset) || "dataset.jsonl");
      await controlPlane.downloadObject(entrypoint.dataset, local);
      return { task: { ...assignment.task, entrypoint: { ...entrypoint, dataset: local } }, resumeFrom };
    }
    if ("script" in entrypoint) {
      const local = join(workDir, "user_module.py");
      if (entrypoint.script.startsWith("s3://")) await controlPlane.downloadObject(entrypoint.script, local);
      else {
        const response = await fetch(entrypoint.script, { signal: AbortSignal.timeout(60_000) });
        if (!response.ok)
          throw new Error(`entrypoint.script: GET ${entrypoint.script} answered HTTP ${response.status}`);
        await writeFile(local, Buffer.from(await response.arrayBuffer()));
      }
      return { task: { ...assignment.task, entrypoint: { ...entrypoint, script: local } }, resumeFrom };
    }
    return { task: assignment.task, resumeFrom };
  }

  /**
   * The plug-in technique's module for the harness's `options.plugins`: a downloaded `.py`
   * file (s3:// through the control plane's client, https:// by GET), or a module name the
   * harness imports as it is. None for a built-in technique.
   */
  async #pluginModules(): Promise<readonly string[]> {
    const plugin = this.#o.assignment.plugin;
    if (plugin == null) return [];
    const { module } = plugin;
    if (!module.startsWith("s3://") && !module.startsWith("https://")) return [module];
    const local = join(this.#o.workDir, "plugins", `${plugin.name.replace(/-/g, "_")}.py`);
    await mkdir(join(this.#o.workDir, "plugins"), { recursive: true });
    if (module.startsWith("s3://")) await this.#o.controlPlane.downloadObject(module, local);
    else {
      const response = await fetch(module, { signal: AbortSignal.timeout(60_000) });
      if (!response.ok) throw new Error(`plugin.module: GET ${module} answered HTTP ${response.status}`);
      await writeFile(local, Buffer.from(await response.arrayBuffer()));
    }
    return [local];
  }

  async #watch(child: RunningProcess): Promise<ProcessExit> {
    const { clock, timings } = this.#o;
    let nextHeartbeat = clock.now().getTime() + timings.heartbeatSeconds * 1000;
    for (;;) {
      const exit = await Promise.race([child.exited, clock.sleep(timings.progressPollSeconds * 1000)]);
      await this.#consumeProgress();
      const now = clock.now().getTime();
      if (now >= nextHeartbeat && !exit) {
        nextHeartbeat = now + timings.heartbeatSeconds * 1000;
        void this.#o.outbox.send({
          kind: "heartbeat",
          ...this.#ids(),
          samplesDone: this.#samples,
          samplesPerSecond: this.#samplesPerSecond,
          peakGpuMemoryBytes: this.#peakGpuMemoryBytes,
        });
      }
      if (exit) return exit;
      this.#escalateStop(child, now);
    }
  }

  /** A checkpoint stop that overruns its time gets SIGTERM (the harness saves on it too), then SIGKILL. */
  #escalateStop(child: RunningProcess, nowMs: number): void {
    if (this.#stop?.mode !== "checkpoint") return;
    const overdue = nowMs - this.#stop.atMs - this.#o.timings.stopTimeoutSeconds * 1000;
    if (overdue >= 0 && this.#escalated === "none") {
      this.#escalated = "term";
      this.#o.log.warn("the harness did not stop in time; sending SIGTERM", { attemptId: this.attemptId });
      child.signal("SIGTERM");
    } else if (overdue >= this.#o.timings.killGraceSeconds * 1000 && this.#escalated === "term") {
      this.#escalated = "kill";
      child.signal("SIGKILL");
    }
  }

  async #consumeProgress(): Promise<void> {
    let reads: Awaited<ReturnType<ProgressLog["readNew"]>>;
    try {
      reads = await this.#progress.readNew();
    } catch (error) {
      this.#o.log.warn("could not read progress.jsonl", { attemptId: this.attemptId, error: String(error) });
      return;
    }
    for (const read of reads) {
      if (read.kind === "invalid") {
        this.#o.log.warn("ignoring a progress line that breaks the harness contract", {
          attemptId: this.attemptId,
          line: clip(read.text, 300),
          reason: read.reason,
        });
        continue;
      }
      await this.#apply(read.line);
    }
  }

  async #apply(line: ProgressLine): Promise<void> {
    switch (line.event) {
      case "step":
        this.#samples = Math.max(this.#samples, line.samples);
        if (line.samplesPerSecond !== undefined && line.samplesPerSecond !== null)
          this.#samplesPerSecond = line.samplesPerSecond;
        if (line.peakGpuMemoryBytes !== undefined && line.peakGpuMemoryBytes !== null)
          this.#peakGpuMemoryBytes = Math.max(this.#peakGpuMemoryBytes ?? 0, line.peakGpuMemoryBytes);
        return;
      case "checkpoint":
        this.#samples = Math.max(this.#samples, line.samples);
        this.#queueUpload(line.samples, line.path);
        return;
      case "stopped":
      case "completed":
        this.#samples = Math.max(this.#samples, line.samples);
        this.#terminal = line;
        if (line.event === "stopped" && line.path) this.#queueUpload(line.samples, line.path);
        return;
      case "profile": {
        this.#profileRecords += 1;
        if (!line.fits) {
          this.#o.log.info("profiled configuration does not fit", {
            attemptId: this.attemptId,
            reason: line.reason ?? null,
          });
          // Reported as a record with `fits: false` (additive, docs/worker-protocol.md): the
          // control plane stores it and the planner leaves the configuration out.
          const { assignment, invocation } = this.#o;
          const configuration = line.configuration ?? {};
          await this.#o.outbox.send({
            kind: "throughput-measured",
            ...this.#ids(),
            record: {
              jobSignature: assignment.profile?.jobSignature ?? String(configuration.jobSignature ?? ""),
              technique: assignment.technique,
              instanceType: invocation.instanceType,
              nodes: assignment.instanceIds.length,
              gpusPerNode: assignment.gpusPerInstance,
              samplesPerSecond: 0,
              peakMemoryGiBPerGpu: 0,
              measuredAt: this.#o.clock.now().toISOString(),
              where: `aws:${invocation.region}:${invocation.instanceId}`,
              fits: false,
              reason: (line.reason ?? "out of memory").slice(0, REASON_LIMIT),
            },
          });
          return;
        }
        // The outbox validates the record against the profile-record schema before sending.
        await this.#o.outbox.send({
          kind: "throughput-measured",
          ...this.#ids(),
          record: line.record as never,
        });
        return;
      }
      case "error":
        this.#errorLine = line;
        return;
    }
  }

  #localPath(path: string): string {
    return isAbsolute(path) ? path : join(this.#o.workDir, path.replace(/^WORK\//, ""));
  }

  #queueUpload(samples: number, path: string): void {
    const localPath = this.#localPath(path);
    this.#uploads = this.#uploads.then(async () => {
      if (this.#durable?.localPath === localPath) return;
      const prefix = this.#o.assignment.checkpoint.prefix.replace(/\/?$/, "/");
      const uri = `${prefix}${basename(localPath)}/`;
      try {
        const files = await this.#o.controlPlane.uploadDirectory(localPath, uri);
        if (files === 0) throw new Error(`no files in ${localPath}`);
      } catch (error) {
        this.#o.log.error("checkpoint upload failed; it is not durable", {
          attemptId: this.attemptId,
          uri,
          error: String(error),
        });
        return;
      }
      const previous = this.#durable;
      this.#durable = { samples, localPath, uri };
      await this.#o.outbox.send({ kind: "checkpoint-saved", ...this.#ids(), samples, uri });
      if (previous) await rm(previous.localPath, { recursive: true, force: true }).catch(() => undefined);
    });
  }

  async #sendStopped(): Promise<void> {
    await this.#o.outbox.send({
      kind: "stopped",
      ...this.#ids(),
      samples: this.#durable?.samples ?? 0,
      reason: this.#stop?.reason ?? "shutdown",
    });
  }

  async #finish(exit: ProcessExit): Promise<void> {
    const { assignment } = this.#o;
    if (this.#terminal?.event === "completed" && exit.exitCode === 0) {
      let finalUri: string | null = null;
      if (this.#terminal.path) {
        const uri = `${assignment.checkpoint.prefix.replace(/\/?$/, "/")}final/`;
        try {
          await this.#o.controlPlane.uploadDirectory(this.#localPath(this.#terminal.path), uri);
          finalUri = uri;
        } catch (error) {
          this.#o.log.error("final model upload failed", { attemptId: this.attemptId, error: String(error) });
        }
      }
      await this.#o.outbox.send({
        kind: "completed",
        ...this.#ids(),
        // The protocol counts a completed attempt as at least one sample (a profile run may train none).
        samples: Math.max(1, this.#terminal.samples),
        finalUri,
      });
      return;
    }
    if (this.#stop || this.#terminal?.event === "stopped") {
      await this.#sendStopped();
      return;
    }
    if (assignment.profile && exit.exitCode === 0 && this.#profileRecords > 0) {
      await this.#o.outbox.send({
        kind: "completed",
        ...this.#ids(),
        samples: Math.max(1, this.#samples),
        finalUri: null,
      });
      return;
    }
    const field = this.#errorLine?.field ? ` (${this.#errorLine.field})` : "";
    const reason =
      this.#errorLine && exit.exitCode === 2
        ? `bad input${field}: ${this.#errorLine.message}`
        : exit.exitCode === 0
          ? "the harness exited 0 without reporting completion"
          : `the harness exited with code ${exit.exitCode}${exit.signal ? ` (${exit.signal})` : ""}${
              this.#errorLine ? `: ${this.#errorLine.message}` : ""
            }`;
    await this.#o.outbox.send({
      kind: "failed",
      ...this.#ids(),
      exitCode: exit.exitCode,
      logTail: this.#tail.text(),
      reason: clip(reason),
    });
  }

  async #uploadLog(): Promise<void> {
    try {
      await this.#o.controlPlane.uploadFile(join(this.#o.workDir, "harness.log"), this.#o.logsUri);
    } catch (error) {
      this.#o.log.warn("could not upload the harness log", { attemptId: this.attemptId, error: String(error) });
    }
  }
}
