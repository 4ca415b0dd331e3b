/**
 * How the agent runs the harness for one attempt: the `task.json` it writes and the
 * torchrun command line and environment (the harness contract, docs/worker-harness.md).
 * Pure: everything it needs comes in as arguments, so the tests check the exact argv.
 *
 * - One node: `--standalone` (torchrun picks a free local port).
 * - N nodes: c10d rendezvous at the endpoint the control plane filled in from node 0's
 *   private address; node rank = this instance's index in `instanceIds` (rank 0 first).
 * - CUDA_VISIBLE_DEVICES = `gpuIndices`, so attempts bundled on one instance never share
 *   a GPU.
 * - EFA: libfabric's EFA provider for NCCL (through the aws-ofi-nccl plug-in the DLAMI
 *   ships), and GPUDirect RDMA on the instance families that support it; the same
 *   variables SageMaker's launcher sets (aws/sagemaker-training-toolkit,
 *   src/sagemaker_training/torch_distributed.py).
 */
import type { AssignmentMessage } from "../../lambdas/core/protocol/worker-protocol.ts";

export interface TaskFile {
  readonly technique: string;
  readonly task: AssignmentMessage["task"];
  readonly checkpointIntervalSeconds: number;
  readonly resumeFrom: string | null;
  readonly profile: null | {
    readonly warmupSteps: number;
    readonly measuredSteps: number;
    readonly jobSignature: string;
    readonly instanceType: string;
    readonly where: string;
  };
  readonly options: {
    readonly mixedPrecision: "bf16" | "fp16" | null;
    readonly activationCheckpointing: boolean;
    readonly seed: number;
    readonly processGroupTimeoutSeconds: number;
    /** Optional in the contract: passed only when the task's hyper-parameters name them. */
    readonly pipelineSchedule?: string;
    readonly microbatches?: number;
    /** Plug-in modules to import before the technique is looked up (a plug-in technique's). */
    readonly plugins?: readonly string[];
  };
}

export interface InvocationContext {
  readonly python: string;
  readonly workDir: string;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly region: string;
  readonly devices: "gpu" | "cpu";
  readonly efa: boolean;
  /** The agent's own environment, passed through (PATH, HOME, LD_LIBRARY_PATH of the DLAMI). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
}

export class InvocationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvocationError";
  }
}

/** Instance families whose EFA supports GPUDirect RDMA (p4d/p4de, p5/p5e/p5en, p6). */
const RDMA_FAMILIES = /^(p4d|p4de|p5|p5e|p5en|p6-[a-z0-9]+|p6e-[a-z0-9]+)\./;

function hyperparameter<T>(
  assignment: AssignmentMessage,
  name: string,
  check: (value: unknown) => value is T,
): T | undefined {
  const value = assignment.task.hyperparameters[name];
  return check(value) ? value : undefined;
}

/** The harness options that ride in the task's hyper-parameters (the spec has no other place for them). */
function harnessOptions(assignment: AssignmentMessage): TaskFile["options"] {
  const precision = hyperparameter(assignment, "mixedPrecision", (v): v is string => typeof v === "string");
  const schedule = hyperparameter(assignment, "pipelineSchedule", (v): v is string => typeof v === "string");
  const microbatches = hyperparameter(assignment, "microbatches", (v): v is number => Number.isInteger(v));
  return {
    mixedPrecision: precision === "bf16" || precision === "fp16" ? precision : null,
    activationCheckpointing:
      hyperparameter(assignment, "activationCheckpointing", (v): v is boolean => typeof v === "boolean") ?? false,
    seed: hyperparameter(assignment, "seed", (v): v is number => Number.isInteger(v)) ?? 0,
    processGroupTimeoutSeconds: 600,
    ...(schedule === undefined ? {} : { pipelineSchedule: schedule }),
    ...(microbatches === undefined ? {} : { microbatches }),
  };
}

export function buildTaskFile(
  assignment: AssignmentMessage,
  context: Pick<InvocationContext, "instanceId" | "instanceType" | "region">,
  localTask: AssignmentMessage["task"],
  resumeFrom: string | null,
  plugins: readonly string[] = [],
): TaskFile {
  return {
    technique: assignment.technique,
    task: localTask,
    checkpointIntervalSeconds: assignment.checkpoint.intervalSeconds,
    resumeFrom,
    profile: assignment.profile
      ? {
          ...assignment.profile,
          instanceType: context.instanceType,
          where: `aws:${context.region}:${context.instanceId}`,
        }
      : null,
    options: { ...harnessOptions(assignment), ...(plugins.length === 0 ? {} : { plugins: [...plugins] }) },
  };
}

export interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function buildInvocation(
  assignment: AssignmentMessage,
  context: InvocationContext,
  taskPath: string,
): Invocation {
  const nodeRank = assignment.instanceIds.indexOf(context.instanceId);
  if (nodeRank < 0)
    throw new InvocationError(
      `instanceIds: expected this instance ${context.instanceId} among the attempt's instances, got ${JSON.stringify(assignment.instanceIds)}`,
    );
  if (assignment.gpuIndices.length !== assignment.gpusPerInstance)
    throw new InvocationError(
      `gpuIndices: expected ${assignment.gpusPerInstance} GPU indices (gpusPerInstance), got ${JSON.stringify(assignment.gpuIndices)}`,
    );
  const nodes = assignment.instanceIds.length;
  let rendezvous: string[];
  if (nodes === 1) rendezvous = ["--standalone"];
  else {
    if (!assignment.rendezvous)
      throw new InvocationError(`rendezvous: expected an endpoint for a ${nodes}-node attempt, got null`);
    rendezvous = [
      "--rdzv-backend",
      "c10d",
      "--rdzv-endpoint",
      assignment.rendezvous.endpoint,
      "--rdzv-id",
      assignment.rendezvous.id,
      "--node-rank",
      String(nodeRank),
    ];
  }
  const args = [
    "-m",
    "torch.distributed.run",
    "--nnodes",
    String(nodes),
    "--nproc-per-node",
    String(assignment.gpusPerInstance),
    ...rendezvous,
    "-m",
    "saturn_harness.run",
    "--task",
    taskPath,
    "--work-dir",
    context.workDir,
  ];
  const env: Record<string, string | undefined> = { ...context.baseEnv, PYTHONUNBUFFERED: "1" };
  if (context.devices === "gpu") env.CUDA_VISIBLE_DEVICES = assignment.gpuIndices.join(",");
  else delete env.CUDA_VISIBLE_DEVICES;
  if (context.efa) {
    env.FI_PROVIDER = "efa";
    env.FI_EFA_FORK_SAFE = "1";
    env.RDMAV_FORK_SAFE = "1";
    if (RDMA_FAMILIES.test(context.instanceType)) env.FI_EFA_USE_DEVICE_RDMA = "1";
  }
  return { command: context.python, args, env };
}
