/**
 * Collective communication times. Hierarchical model (what NCCL does on multi-node
 * clusters): within a node at the instance's measured all-reduce bus bandwidth
 * (`intraNodeBusGBps`, a busbw figure), then across nodes at the network rate; the two
 * stages add. For an all-reduce of S bytes over g GPUs per node and N nodes:
 *   t = 2·S·(g−1)/g / busIntra + 2·S·(N−1)/N / network
 * (each GPU's 1/g shard crosses the network on its 1/g share of the node's bandwidth).
 * All-gather and reduce-scatter move half an all-reduce's bytes.
 */
import type { InstanceType } from "../catalog/types.ts";
import { interNodeBytesPerSecond } from "./hardware-efficiency.ts";

export interface Topology {
  readonly nodes: number;
  readonly gpusPerNode: number;
  /** All-reduce bus bandwidth among the GPUs of one node, bytes/s. */
  readonly intraNodeBytesPerSecond: number;
  /** Network bandwidth of one node, bytes/s. */
  readonly interNodeBytesPerSecond: number;
}

export function topologyOf(instance: InstanceType, nodes: number, gpusPerNode: number): Topology {
  return {
    nodes,
    gpusPerNode,
    intraNodeBytesPerSecond: instance.intraNodeBusGBps * 1e9,
    interNodeBytesPerSecond: interNodeBytesPerSecond(instance),
  };
}

export function allReduceSeconds(bytes: number, topology: Topology): number {
  return 2 * reduceScatterSeconds(bytes, topology);
}

/** Also the time of an all-gather producing `bytes` on every GPU. */
export function reduceScatterSeconds(bytes: number, topology: Topology): number {
  const { nodes, gpusPerNode } = topology;
  const intra = gpusPerNode > 1 ? (bytes * (gpusPerNode - 1)) / gpusPerNode / topology.intraNodeBytesPerSecond : 0;
  const inter = nodes > 1 ? (bytes * (nodes - 1)) / nodes / topology.interNodeBytesPerSecond : 0;
  return intra + inter;
}

/** Point-to-point transfer between neighbouring pipeline stages (the slowest boundary). */
export function stageTransferSeconds(bytes: number, topology: Topology): number {
  if (topology.nodes > 1) return bytes / (topology.interNodeBytesPerSecond / topology.gpusPerNode);
  if (topology.gpusPerNode > 1) return bytes / topology.intraNodeBytesPerSecond;
  return 0;
}

/** All-reduce bus bandwidth the model predicts (what nccl-tests reports as busbw), bytes/s. */
export function predictedAllReduceBusBandwidth(bytes: number, topology: Topology): number {
  const gpus = topology.nodes * topology.gpusPerNode;
  return (2 * bytes * (gpus - 1)) / gpus / allReduceSeconds(bytes, topology);
}
