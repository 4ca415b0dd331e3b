/**
 * Costs of instances that have ended, kept so that spend never goes down: EC2 forgets
 * terminated instances about an hour after they end, and with them their lifetimes. The EC2
 * adapter settles each ended instance's cost once; the store implements the port.
 */
export interface InstanceCostLedger {
  /** Records the final cost of an ended instance once; false when it was already settled. */
  settleInstanceCost(workloadId: string, instanceId: string, usd: number): Promise<boolean>;
  /** instance id -> settled USD, for every instance of the workload settled so far. */
  settledInstanceCosts(workloadId: string): Promise<ReadonlyMap<string, number>>;
}
