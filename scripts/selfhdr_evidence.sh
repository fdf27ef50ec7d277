#!/usr/bin/env bash
# SelfHDR evidence on the built-in synthetic data: one backbone trained WITHOUT ground
# truth (SelfHDR: targets -> structure -> stru_targets -> reconstruction) and the same
# backbone trained WITH ground truth for the same number of steps, then both evaluated on
# the held-out scenes beside the classical baselines (README table).
# Short CPU schedule; env overrides: BACKBONE, STEPS, PATCH, BATCH, LR, HDRKERAS_WORK.
# VGG19 weights cannot be downloaded here, so stage 2 runs with its VGG structure loss off
# (--perceptual_weight 0) unless VGG_WEIGHTS points at a local file.
source "$(dirname "$0")/job_env.sh"
BACKBONE=${BACKBONE:-ahdrnet}
STEPS=${STEPS:-300}
PATCH=${PATCH:-64}
BATCH=${BATCH:-4}
LR=${LR:-5e-4}
if [ -n "${VGG_WEIGHTS:-}" ]; then vgg=(--vgg_weights "$VGG_WEIGHTS"); else vgg=(--perceptual_weight 0); fi
start=$(date +%s)

echo "== 1/4 synthetic dataset, supervised records, SelfHDR colour targets"
if [ ! -f "$WORK/records/train/manifest.json" ] || [ ! -f "$WORK/records/test/manifest.json" ]; then
  $PY tfrecord_tools/make_tfrecord.py --synth_dir "$WORK/data/synthetic" --out "$WORK/records" \
      --workers 1 --overwrite
fi
if [ ! -f "$WORK/records/selfhdr/manifest.json" ]; then
  $PY tfrecord_tools/make_selfhdr_targets.py --data "$WORK/data/synthetic" \
      --out "$WORK/records/selfhdr" --overwrite
fi

common=(--patch_size "$PATCH" --batch_size "$BATCH" --steps "$STEPS" --learning_rate "$LR"
        --val "$WORK/records/test" --log_every 25 --checkpoint_every 50 --preview_every 100
        --validate_every 1000000)
echo "== 2/4 SelfHDR ($BACKBONE, no ground truth)"
$PY train/fit.py --method selfhdr --backbone "$BACKBONE" --run_dir "$WORK/runs/selfhdr_$BACKBONE" \
    --train_records "$WORK/records/selfhdr" "${vgg[@]}" "${common[@]}"

echo "== 3/4 $BACKBONE supervised (ground truth), same steps"
$PY train/fit.py --method "$BACKBONE" --run_dir "$WORK/runs/$BACKBONE" \
    --train_records "$WORK/records/train" "${vgg[@]}" "${common[@]}"

echo "== 4/4 evaluate on the held-out scenes"
$PY reconstruct/evaluate.py --model "$WORK/runs/selfhdr_$BACKBONE/model.keras" \
    --model "$WORK/runs/$BACKBONE/model.keras" --data "$WORK/data/synthetic" \
    --out "$WORK/eval_selfhdr_$BACKBONE"
echo "SelfHDR evidence finished in $(( $(date +%s) - start )) s; table in $WORK/eval_selfhdr_$BACKBONE/metrics.md"
