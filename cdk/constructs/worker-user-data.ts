/**
 * User data for worker instances: `worker/user-data.sh` (the worker issue's canonical
 * bootstrap) with the stack's coordinates filled in. On the stock DLAMI it fetches the
 * agent bundle from the stack's bucket and installs it (`worker/install-worker.sh`); on a
 * baked image (ami/) the agent is already there. It writes `/etc/saturn/agent.json` and
 * starts the agent under systemd. The agent learns its workload and slot from its own tags
 * through IMDS (instance metadata tags are enabled on the launch template), and its orders
 * from `workloads/<id>/orders/<instance>.json`.
 *
 * Money safety: any failure before the agent is running shuts the instance down, and the
 * launch template turns an OS shutdown into termination, so a broken bundle never leaves
 * a GPU instance idling. The agent's own idle timer is the next line of defence.
 */
import { UserData } from "aws-cdk-lib/aws-ec2";
import { renderWorkerUserData } from "../worker-user-data.ts";

export interface WorkerUserDataProps {
  readonly bucketName: string;
  readonly workerEventsQueueUrl: string;
  readonly region: string;
  readonly agentVersion: string;
  readonly stackName: string;
}

export function workerUserData(props: WorkerUserDataProps): UserData {
  return UserData.custom(
    renderWorkerUserData({
      bucketName: props.bucketName,
      workerEventsQueueUrl: props.workerEventsQueueUrl,
      region: props.region,
      agentVersion: props.agentVersion,
    }),
  );
}
