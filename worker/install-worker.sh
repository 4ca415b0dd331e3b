#!/bin/bash
# Installs the Saturn worker (agent bundle, harness, its venv, the systemd unit) from an
# unpacked saturn-agent.tgz onto the AWS PyTorch Deep Learning AMI (Ubuntu 22.04).
# Run by the Image Builder component (ami/saturn-worker-component.yaml) when baking an
# image, and by worker/user-data.sh on a stock DLAMI when no baked image exists.
# Idempotent: a second run leaves the same files. Usage: install-worker.sh SRC_DIR
set -euo pipefail
SRC="${1:?usage: install-worker.sh SRC_DIR (an unpacked saturn-agent.tgz)}"
SATURN_HOME=/opt/saturn

# Pin: Node.js 22.12.0. Same major as the control plane's Lambda runtime (nodejs22.x), so
# agent and Lambdas share one Node line; an exact version keeps every image reproducible.
# The tarball is checked against nodejs.org's SHASUMS256.txt before it is unpacked.
NODE_VERSION=22.12.0
NODE_DIST="node-v${NODE_VERSION}-linux-x64"

mkdir -p "$SATURN_HOME"/{agent,work,node} /etc/saturn
if [ "$("$SATURN_HOME/node/bin/node" --version 2>/dev/null || true)" != "v${NODE_VERSION}" ]; then
  tmp=$(mktemp -d)
  curl -fsSL --retry 5 -o "$tmp/$NODE_DIST.tar.xz" "https://nodejs.org/dist/v${NODE_VERSION}/${NODE_DIST}.tar.xz"
  curl -fsSL --retry 5 -o "$tmp/SHASUMS256.txt" "https://nodejs.org/dist/v${NODE_VERSION}/SHASUMS256.txt"
  (cd "$tmp" && grep " ${NODE_DIST}.tar.xz\$" SHASUMS256.txt | sha256sum -c -)
  rm -rf "$SATURN_HOME/node" && mkdir -p "$SATURN_HOME/node"
  tar -xJf "$tmp/$NODE_DIST.tar.xz" -C "$SATURN_HOME/node" --strip-components=1
  rm -rf "$tmp"
fi

install -m 0644 "$SRC/worker/dist/saturn-agent.mjs" "$SATURN_HOME/agent/saturn-agent.mjs"

# The harness venv. torch comes from the DLAMI's own PyTorch environment (built for the
# image's CUDA and driver; the public SSM parameter pins the PyTorch line, 2.7); the
# harness's other pins come from worker/harness/requirements.txt, minus torch (the CPU
# wheel is for the test machines) and the test-only packages. A constraint on the DLAMI's
# torch version makes pip fail rather than pull a second torch when a pin disagrees.
DLAMI_PYTHON=/opt/pytorch/bin/python
[ -x "$DLAMI_PYTHON" ] || DLAMI_PYTHON=$(command -v python3)
if [ ! -x "$SATURN_HOME/venv/bin/python" ]; then
  "$DLAMI_PYTHON" -m venv "$SATURN_HOME/venv"
fi
site=$("$SATURN_HOME/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$DLAMI_PYTHON" -c 'import site; print("\n".join(site.getsitepackages()))' > "$site/dlami-pytorch.pth"
torch_version=$("$SATURN_HOME/venv/bin/python" -c 'import torch; print(torch.__version__)')
echo "torch==${torch_version}" > "$SATURN_HOME/constraints.txt"
grep -v -E '^(torch|pytest|pytest-timeout)==' "$SRC/worker/harness/requirements.txt" > "$SATURN_HOME/requirements-gpu.txt"
"$SATURN_HOME/venv/bin/python" -m pip install --no-input --disable-pip-version-check \
  -r "$SATURN_HOME/requirements-gpu.txt" -c "$SATURN_HOME/constraints.txt"
rm -rf "$SATURN_HOME/harness"
cp -r "$SRC/worker/harness" "$SATURN_HOME/harness"
rm -rf "$SATURN_HOME/harness/tests"
# The harness package is imported from its folder (it has no build step).
echo "$SATURN_HOME/harness" > "$site/saturn-harness.pth"

install -m 0644 "$SRC/worker/saturn-agent.service" /etc/systemd/system/saturn-agent.service
systemctl daemon-reload
systemctl enable saturn-agent.service
echo "saturn worker installed: node $("$SATURN_HOME/node/bin/node" --version), torch ${torch_version}"
