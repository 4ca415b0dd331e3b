#!/bin/bash
# EC2 user data for a Saturn worker. The control plane's stack reads this file and
# fills the four placeholders below (cdk/worker-user-data.ts). On a baked image
# (ami/) the worker is already installed; on the stock PyTorch DLAMI this fetches the
# bundle from the stack's bucket and installs it first. Any failure halts the instance:
# the launch template sets InstanceInitiatedShutdownBehavior=terminate, so a worker that
# cannot start never idles on the bill.
set -euo pipefail
exec > >(tee -a /var/log/saturn-user-data.log) 2>&1
trap 'echo "saturn bootstrap failed at line $LINENO; halting"; shutdown -h now' ERR

BUCKET="__SATURN_BUCKET__"
QUEUE_URL="__SATURN_QUEUE_URL__"
REGION="__SATURN_REGION__"
AGENT_VERSION="__SATURN_AGENT_VERSION__"
SATURN_HOME=/opt/saturn

if [ ! -f "$SATURN_HOME/agent/saturn-agent.mjs" ]; then
  src=$(mktemp -d)
  aws s3 cp --region "$REGION" "s3://${BUCKET}/agent/${AGENT_VERSION}/saturn-agent.tgz" "$src/saturn-agent.tgz"
  tar -xzf "$src/saturn-agent.tgz" -C "$src"
  bash "$src/worker/install-worker.sh" "$src"
fi

mkdir -p /etc/saturn
cat > /etc/saturn/agent.json <<JSON
{
  "bucket": "${BUCKET}",
  "queueUrl": "${QUEUE_URL}",
  "region": "${REGION}",
  "python": "${SATURN_HOME}/venv/bin/python",
  "workRoot": "${SATURN_HOME}/work"
}
JSON
"$SATURN_HOME/node/bin/node" "$SATURN_HOME/agent/saturn-agent.mjs" --self-check
systemctl start saturn-agent.service
