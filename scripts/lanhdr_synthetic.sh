#!/usr/bin/env bash
# LAN-HDR on our synthetic HDR video, beside the two classical video baselines (README):
# synthesize training and held-out clips, train `--method lanhdr` briefly (the recipe
# re-synthesises every visit of a 7-frame clip), evaluate the saved model (streamed) with
# video_reference_only and video_classical_merge on the held-out clips.
# Short CPU schedule at the official learning rate (1e-4: at 5e-4 the default-size network's
# activations blow up within ~10 steps and its sigmoid output saturates for good, see README)
# and 64-pixel crops (the official 128 give the 1/32-scale alignment 4x4 tokens, 64 give 2x2;
# 128 costs 4x the time per step). Env overrides: EXPOSURES (2|3), STEPS, PATCH, BATCH, LR,
# HDRKERAS_WORK.
# VGG19 weights cannot be downloaded here: the perceptual term is off (--perceptual_weight 0)
# unless VGG_WEIGHTS points at a local file.
source "$(dirname "$0")/job_env.sh"
EXPOSURES=${EXPOSURES:-2}
STEPS=${STEPS:-300}
PATCH=${PATCH:-64}
BATCH=${BATCH:-2}
# LR unset: the method's own rate (the official 1e-4).
lr=(); if [ -n "${LR:-}" ]; then lr=(--learning_rate "$LR"); fi
if [ -n "${VGG_WEIGHTS:-}" ]; then vgg=(--vgg_weights "$VGG_WEIGHTS"); else vgg=(--perceptual_weight 0); fi
data="$WORK/data/lanhdr_${EXPOSURES}e"
start=$(date +%s)

echo "== 1/3 synthetic HDR video: 8 training clips, 2 held-out clips (128x128)"
[ -f "$data/train/synthesis.json" ] || $PY -m hdrkeras.data.synthesize_video --out "$data/train" \
    --clips 8 --frames 14 --height 128 --width 128 --num_exposures "$EXPOSURES" --seed 1
[ -f "$data/test/synthesis.json" ] || $PY -m hdrkeras.data.synthesize_video --out "$data/test" \
    --clips 2 --frames 12 --height 128 --width 128 --num_exposures "$EXPOSURES" --seed 2

echo "== 2/3 train lanhdr ($EXPOSURES exposures, $STEPS steps)"
$PY train/fit.py --method lanhdr --exposures "$EXPOSURES" --train_records "$data/train" \
    --val '' --steps "$STEPS" --batch_size "$BATCH" --patch_size "$PATCH" \
    "${lr[@]}" "${vgg[@]}" --run_dir "$WORK/runs/lanhdr_${EXPOSURES}e" \
    --log_every 25 --checkpoint_every 100

echo "== 3/3 evaluate beside the video baselines"
$PY -m hdrkeras.evaluate_video --model "$WORK/runs/lanhdr_${EXPOSURES}e/model.keras" \
    --dataset "$data/test" --num_exposures "$EXPOSURES" --lanhdr \
    --out "$WORK/eval_lanhdr_${EXPOSURES}e"
echo "LAN-HDR synthetic run finished in $(( $(date +%s) - start )) s; table in $WORK/eval_lanhdr_${EXPOSURES}e/metrics.md"
