/**
 * The port to the control plane's own queues: plan requests (from submit) and reconcile
 * requests (approve, cancel, worker and EC2 events, the schedule). On AWS the reconcile
 * queue is FIFO with the workload id as message group, so passes of one workload never
 * overlap; the store's lease keeps them apart wherever that does not hold (in-process runs).
 */
export interface ControlQueues {
  requestPlan(workloadId: string): Promise<void>;
  /** One message per distinct workload id. */
  requestReconcile(workloadIds: readonly string[], reason: string): Promise<void>;
}
