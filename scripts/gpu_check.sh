#!/usr/bin/env bash
# One-command GPU check (issue 18): installs what a GPU run needs, exports every image
# method as a SavedModel with XLA, runs each in a TensorFlow-only process on the GPU and
# compares with the CPU, times 1000x1500 inference with/without XLA and mixed precision,
# and writes gpu_check.json + gpu_check.md to $OUT (default: $HDRKERAS_WORK/gpu_check).
# Takes a few minutes (budget: 8). On a machine without a GPU it says so and exits 0.
# Options are passed on to `python -m hdrkeras.bench.gpu_check` (e.g. --methods esbn).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q "^GPU"; then
  echo "gpu_check: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to check."
  exit 0
fi
bash scripts/setup.sh
PY=.venv/bin/python
# TensorFlow's CUDA libraries come as pip wheels (the and-cuda extra of the same version).
tf_version=$($PY -c "import tensorflow as tf; print(tf.__version__)" 2>/dev/null)
if ! $PY -c "import tensorflow as tf, sys; sys.exit(0 if tf.config.list_physical_devices('GPU') else 1)" \
    >/dev/null 2>&1; then
  echo "gpu_check: installing tensorflow[and-cuda]==$tf_version"
  $PY -m pip install --quiet "tensorflow[and-cuda]==$tf_version"
fi
export TF_CPP_MIN_LOG_LEVEL=2
OUT=${OUT:-${HDRKERAS_WORK:-work}/gpu_check}
start=$(date +%s)
status=0
timeout 480 $PY -m hdrkeras.bench.gpu_check --out "$OUT" "$@" || status=$?
echo "gpu_check: finished in $(( $(date +%s) - start )) s (exit $status); report: $OUT/gpu_check.md"
exit $status
