#!/usr/bin/env bash
# The four SelfHDR backbones timed against their official PyTorch code in ONE session:
#   bash scripts/bench_backbones.sh SELFHDR_CHECKOUT [ROUNDS]
# SELFHDR_CHECKOUT is a local clone of github.com/cszhilu1998/SelfHDR (its models/ are
# read, never copied). Each round runs, per backbone, the official forward (median of 3)
# then ours (median of 5), 256x256, batch 1, $THREADS threads (default 2); the host's
# matmul rate is taken before and after. Writes $WORK/bench/backbones-<UTC time>.jsonl
# and prints its Markdown summary (python -m hdrkeras.bench.report).
# Env overrides: THREADS, SIZE, METHODS, HDRKERAS_WORK. Installs the `official` extra
# (PyTorch CPU, einops) into .venv if torch is missing.
source "$(dirname "$0")/job_env.sh"
if [ $# -lt 1 ]; then
  echo "usage: bash scripts/bench_backbones.sh SELFHDR_CHECKOUT [ROUNDS]" >&2
  exit 2
fi
CHECKOUT=$1
ROUNDS=${2:-3}
THREADS=${THREADS:-2}
SIZE=${SIZE:-256x256}
METHODS=${METHODS:-"ahdrnet fshdr hdr_transformer sctnet"}
if ! $PY -c "import torch, einops" 2>/dev/null; then
  $PY -m pip install --quiet -e ".[official]"
fi
mkdir -p "$WORK/bench"
out="$WORK/bench/backbones-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: > "$out.partial"
host() { $PY -m hdrkeras.bench.host --threads "$THREADS" --json | tee -a "$out.partial"; }
host
for round in $(seq "$ROUNDS"); do
  for method in $METHODS; do
    echo "== round $round/$ROUNDS: $method (official, then hdrkeras)"
    $PY -m hdrkeras.bench.official --repo "$CHECKOUT" --method "$method" --size "$SIZE" \
        --threads "$THREADS" --runs 3 --json | tee -a "$out.partial"
    $PY -m hdrkeras.bench --method "$method" --size "$SIZE" --threads "$THREADS" --runs 5 \
        --json | tee -a "$out.partial"
  done
done
host
mv "$out.partial" "$out"
echo "== $out"
$PY -m hdrkeras.bench.report "$out"
