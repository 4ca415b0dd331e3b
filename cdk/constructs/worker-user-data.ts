/**
 * User data for worker instances: fetch the agent bundle from the stack's bucket, unpack
 * it, and run it under systemd with the stack's coordinates in its environment. The agent
 * learns its workload and role from its own tags through IMDS (instance metadata tags are
 * enabled on the launch template), and its orders from `workloads/<id>/orders/<instance>.json`.
 *
 * Money safety: any failure before the agent is running shuts the instance down, and the
 * launch template turns an OS shutdown into termination, so a broken bundle never leaves
 * a GPU instance idling. The agent's own idle timer is the next line of defence.
 */
import { UserData } from "aws-cdk-lib/aws-ec2";
import { bucketLayout } from "../../lambdas/core/protocol/worker-protocol.ts";

export interface WorkerUserDataProps {
  readonly bucketName: string;
  readonly workerEventsQueueUrl: string;
  readonly region: string;
  readonly agentVersion: string;
  readonly stackName: string;
}

/** Where the bundle unpacks; it must contain an executable `bin/saturn-agent`. */
export const AGENT_HOME = "/opt/saturn/agent";

export function workerUserData(props: WorkerUserDataProps): UserData {
  const userData = UserData.forLinux({ shebang: "#!/bin/bash" });
  const bundleKey = bucketLayout.agentBundle(props.agentVersion);
  userData.addCommands(
    "set -euo pipefail",
    "exec > >(tee -a /var/log/saturn-user-data.log) 2>&1",
    // Any failing command before the agent runs: power off (= terminate, see the launch template).
    "trap 'echo \"saturn: user data failed at line $LINENO; shutting down\"; shutdown -h now' ERR",
    `mkdir -p ${AGENT_HOME} /etc/saturn`,
    // Tokens (bucket name, queue URL) resolve in the template, into an Fn::Join.
    `aws s3 cp --only-show-errors --region ${props.region} "s3://${props.bucketName}/${bundleKey}" /opt/saturn/saturn-agent.tgz`,
    `tar -xzf /opt/saturn/saturn-agent.tgz -C ${AGENT_HOME}`,
    [
      "cat > /etc/saturn/agent.env <<'SATURN_ENV'",
      `SATURN_BUCKET_NAME=${props.bucketName}`,
      `SATURN_WORKER_EVENTS_QUEUE_URL=${props.workerEventsQueueUrl}`,
      `SATURN_STACK_NAME=${props.stackName}`,
      `AWS_REGION=${props.region}`,
      "SATURN_ENV",
    ].join("\n"),
    [
      "cat > /etc/systemd/system/saturn-agent.service <<'SATURN_UNIT'",
      "[Unit]",
      "Description=Saturn worker agent",
      "After=network-online.target",
      "Wants=network-online.target",
      // A crash restarts the agent; one that keeps crashing powers the instance off.
      "StartLimitIntervalSec=600",
      "StartLimitBurst=5",
      "StartLimitAction=poweroff",
      "[Service]",
      "EnvironmentFile=/etc/saturn/agent.env",
      `ExecStart=${AGENT_HOME}/bin/saturn-agent`,
      "Restart=on-failure",
      "RestartSec=5",
      "[Install]",
      "WantedBy=multi-user.target",
      "SATURN_UNIT",
    ].join("\n"),
    "systemctl daemon-reload",
    "systemctl enable --now saturn-agent.service",
  );
  return userData;
}
