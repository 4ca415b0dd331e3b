#!/usr/bin/env bash
# GPU check: profiles a GPT-2-class (124M) and a 1B-class (Llama-3.2-1B shape) causal LM,
# both built from configs (no download), with DDP and FSDP2 on every GPU of this machine,
# and prints the measured samples/s and peak memory per GPU next to the estimator's
# prediction (lambdas/core/estimator, through `saturn estimate --json`) for this GPU.
#
#   worker/gpu-check.sh [--instance-type p4d.24xlarge] [--out DIR]
#
# The instance type names the GPU for the estimator; on EC2 it is read from IMDSv2.
# Installs what it needs into .venv-gpu/ (reusing the Deep Learning AMI's CUDA PyTorch when
# it is >= 2.6, else torch==2.13.0 from PyPI) and node modules if missing. Each profile is
# 3 warm-up + 10 measured steps in bf16 (fp16 on GPUs without bf16); four launches, each
# limited to 150 s, so the whole check stays under 5 minutes on a machine with the packages
# present. Results: $OUT/records.jsonl (ProfileRecords) and $OUT/comparison.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ROOT}/.gpu-check"
INSTANCE_TYPE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --instance-type) INSTANCE_TYPE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "gpu-check: unknown argument '$1' (expected --instance-type TYPE or --out DIR)" >&2; exit 2 ;;
  esac
done

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi failed); run it on a GPU instance" >&2
  exit 2
fi
GPUS="$(nvidia-smi -L | wc -l)"
GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"

if [[ -z "${INSTANCE_TYPE}" ]]; then
  TOKEN="$(curl -sf -m 2 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' || true)"
  if [[ -n "${TOKEN}" ]]; then
    INSTANCE_TYPE="$(curl -sf -m 2 -H "X-aws-ec2-metadata-token: ${TOKEN}" http://169.254.169.254/latest/meta-data/instance-type || true)"
  fi
fi
if [[ -z "${INSTANCE_TYPE}" ]]; then
  echo "gpu-check: not on EC2 (no IMDSv2 answer); name the instance type whose GPU this is, e.g. --instance-type p5en.48xlarge for an H200" >&2
  exit 2
fi

mkdir -p "${OUT}"
VENV="${ROOT}/.venv-gpu"
if [[ ! -x "${VENV}/bin/python" ]]; then
  python3 -m venv --system-site-packages "${VENV}"
fi
PY="${VENV}/bin/python"
if ! "${PY}" -c 'import torch, sys; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(0 if v >= (2, 6) and torch.cuda.is_available() else 1)' 2>/dev/null; then
  # Pinned like the CPU build (worker/harness/requirements.txt), but the CUDA wheel.
  "${PY}" -m pip install --quiet "torch==2.13.0"
fi
# Everything else at the harness's pins (the torch line is the CPU build: skipped here).
grep -v '^torch==' "${ROOT}/worker/harness/requirements.txt" | grep -v -E '^(pytest|pytest-timeout)==' > "${OUT}/requirements-gpu.txt"
"${PY}" -m pip install --quiet -r "${OUT}/requirements-gpu.txt"
if [[ ! -d "${ROOT}/node_modules" ]]; then (cd "${ROOT}" && npm ci --no-audit --no-fund >/dev/null); fi

PRECISION="$("${PY}" -c 'import torch; print("bf16" if torch.cuda.is_bf16_supported() else "fp16")')"
echo "gpu-check: ${GPUS} x ${GPU_NAME} (${INSTANCE_TYPE}), torch $("${PY}" -c 'import torch; print(torch.__version__)'), ${PRECISION}"

: > "${OUT}/records.jsonl"
: > "${OUT}/misfits.jsonl"
# model preset | per-GPU batch | sequence length
# (the same list as saturn_harness/gpu_check.py MODELS)
MODELS=("gpt2 8 1024" "llama-3.2-1b 4 1024")
for entry in "${MODELS[@]}"; do
  read -r MODEL PER_GPU SEQ <<<"${entry}"
  BATCH=$((PER_GPU * GPUS))
  for TECHNIQUE in ddp fsdp; do
    WORK="${OUT}/${MODEL}-${TECHNIQUE}"
    rm -rf "${WORK}" && mkdir -p "${WORK}"
    cat > "${WORK}/task.json" <<JSON
{"technique": "${TECHNIQUE}",
 "task": {"model": "${MODEL}", "method": "full", "batchSize": ${BATCH}, "sequenceLength": ${SEQ},
          "totalSamples": $((BATCH * 1000)), "entrypoint": {"recipe": "causal-lm"}, "hyperparameters": {}},
 "checkpointIntervalSeconds": 3600, "resumeFrom": null,
 "profile": {"warmupSteps": 3, "measuredSteps": 10, "jobSignature": "gpu-check:${MODEL}:b${BATCH}:s${SEQ}",
             "instanceType": "${INSTANCE_TYPE}", "where": "gpu-check:${INSTANCE_TYPE}:$(hostname)"},
 "options": {"mixedPrecision": "${PRECISION}", "activationCheckpointing": false, "seed": 0,
             "processGroupTimeoutSeconds": 60}}
JSON
    echo "gpu-check: profiling ${MODEL} (batch ${BATCH}, sequence ${SEQ}) with ${TECHNIQUE} on ${GPUS} GPU(s) ..."
    (cd "${ROOT}/worker/harness" && timeout 150 "${PY}" -m torch.distributed.run --standalone --nproc-per-node "${GPUS}" \
        -m saturn_harness.run --task "${WORK}/task.json" --work-dir "${WORK}" >"${WORK}/log.txt" 2>&1) \
      || echo "gpu-check: ${MODEL} ${TECHNIQUE} exited $? (log: ${WORK}/log.txt)"
    "${PY}" - "${WORK}/progress.jsonl" "${OUT}" "${MODEL}" "${TECHNIQUE}" <<'PY'
import json, pathlib, sys
progress, out, model, technique = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4]
events = [json.loads(l) for l in progress.read_text().splitlines()] if progress.exists() else []
profiles = [e for e in events if e["event"] == "profile"]
if not profiles:
    print(f"gpu-check: no profile record for {model} {technique}", file=sys.stderr)
elif profiles[0]["fits"]:
    with (out / "records.jsonl").open("a") as f:
        f.write(json.dumps({**profiles[0]["record"], "model": model}) + "\n")
else:
    with (out / "misfits.jsonl").open("a") as f:
        f.write(json.dumps({"model": model, "technique": technique, "reason": profiles[0]["reason"]}) + "\n")
PY
  done
done

# The estimator's view of the same jobs: a workload spec with the same architectures.
(cd "${ROOT}/worker/harness" && "${PY}" -m saturn_harness.gpu_check spec "${INSTANCE_TYPE}" "${GPUS}") > "${OUT}/spec.yaml"
(cd "${ROOT}" && npx tsx cli/main.ts estimate "${OUT}/spec.yaml" --json) > "${OUT}/estimate.json"
(cd "${ROOT}/worker/harness" && "${PY}" -m saturn_harness.gpu_check compare "${OUT}" "${INSTANCE_TYPE}" "${GPUS}" "${GPU_NAME}") \
  | tee "${OUT}/comparison.txt"
