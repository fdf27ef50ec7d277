#!/usr/bin/env bash
# The main job on the built-in default data: synthesize a small dataset with moving
# objects, build TFRecords, train ESBN through all four stages on a short CPU schedule,
# export a SavedModel, reconstruct a held-out scene and print the evaluation table with the
# classical baselines. Everything lands in $HDRKERAS_WORK (default: work/).
# Rerunning resumes training where it stopped and reuses finished stages.
source "$(dirname "$0")/job_env.sh"
# Short CPU schedule (the paper's is 300k steps per stage at 1e-4; see docs/training.md,
# "The main job's schedule", for why each value departs from it). SEED seeds weight
# initialisation, crops and shuffles (the data stay the default set).
STEPS_ALIGN_LOW=${STEPS_ALIGN_LOW:-600}
STEPS_ALIGN_HIGH=${STEPS_ALIGN_HIGH:-300}
STEPS_FUSION=${STEPS_FUSION:-400}
STEPS_JOINT=${STEPS_JOINT:-60}
LR_ALIGN=${LR_ALIGN:-5e-4}
LR_FUSION=${LR_FUSION:-1e-3}
LR_JOINT=${LR_JOINT:-1e-4}
LINEAR_WEIGHT=${LINEAR_WEIGHT:-1}
PATCH=${PATCH:-64}
BATCH=${BATCH:-4}
SEED=${SEED:-0}
start=$(date +%s)
# Runs a command and prints its wall time (the run records quote them).
timed() { local name=$1 t0; shift; t0=$(date +%s); "$@"; echo "== $name took $(( $(date +%s) - t0 )) s"; }

echo "== 1/5 synthetic dataset + TFRecords ($WORK/data/synthetic -> $WORK/records)"
if [ ! -f "$WORK/records/train/manifest.json" ] || [ ! -f "$WORK/records/test/manifest.json" ]; then
  $PY tfrecord_tools/make_tfrecord.py --synth_dir "$WORK/data/synthetic" --out "$WORK/records" \
      --workers 1 --overwrite
else
  echo "records already present"
fi
# Validation scenes of their own (another seed), so choosing the kept checkpoint of each
# stage never looks at the held-out scenes the table scores.
if [ ! -f "$WORK/data/synthetic_val/synthesis.json" ]; then
  $PY -m hdrkeras.data.synthesize --out "$WORK/data/synthetic_val" --scenes 0 --test_scenes 3 \
      --seed 1
else
  echo "validation scenes already present"
fi

echo "== 2/5 training ESBN (align_low, align_high, fusion, joint)"
common=(--method esbn --run_dir "$WORK/runs/esbn" --train_records "$WORK/records/train"
        --val "$WORK/data/synthetic_val" --patch_size "$PATCH" --batch_size "$BATCH"
        --log_every 25 --checkpoint_every 50 --preview_every 50
        --validate_every "${VALIDATE_EVERY:-100}" --seed "$SEED"
        --linear_weight "$LINEAR_WEIGHT")
timed align_low $PY train/fit.py "${common[@]}" --steps "$STEPS_ALIGN_LOW" \
    --learning_rate "$LR_ALIGN" --stage align_low
timed align_high $PY train/fit.py "${common[@]}" --steps "$STEPS_ALIGN_HIGH" \
    --learning_rate "$LR_ALIGN" --stage align_high
timed fusion $PY train/fit.py "${common[@]}" --steps "$STEPS_FUSION" \
    --learning_rate "$LR_FUSION" --stage fusion
timed joint $PY train/fit.py "${common[@]}" --steps "$STEPS_JOINT" \
    --learning_rate "$LR_JOINT" --stage joint

echo "== 3/5 export SavedModel ($WORK/export/esbn/<version>)"
$PY -m hdrkeras.export --method esbn --checkpoint "$WORK/runs/esbn" --out "$WORK/export/esbn"

echo "== 4/5 reconstruct a held-out scene"
scene=$(ls "$WORK/data/synthetic/Test" | head -n 1)
$PY reconstruct/reconstruct.py --model "$WORK/export/esbn" \
    --input "$WORK/data/synthetic/Test/$scene" --out "$WORK/output/esbn_$scene.hdr"

echo "== 5/5 evaluate on the held-out scenes (with classical baselines)"
$PY reconstruct/evaluate.py --model "$WORK/export/esbn" --data "$WORK/data/synthetic" \
    --out "$WORK/eval"

# Video step (under a minute on 2 cores): one synthetic alternating-exposure clip
# (12 frames, 128x192, exposures 1,4, DeepHDRVideo layout with per-frame ground truth),
# reconstructed with the classical video baseline, then both video baselines scored.
clip="$WORK/data/video/Images/clip_000"
echo "== video 1/3 synthetic clip ($WORK/data/video)"
if [ ! -f "$WORK/data/video/synthesis.json" ]; then
  $PY -m hdrkeras.data.synthesize_video --out "$WORK/data/video" --clips 1 --frames 12 \
      --height 128 --width 192 --seed 0
else
  echo "clip already present"
fi
echo "== video 2/3 reconstruct with video_classical_merge ($WORK/output/video)"
$PY reconstruct/video.py --method video_classical_merge --input "$clip" \
    --out "$WORK/output/video"
echo "== video 3/3 evaluate the video baselines ($WORK/eval_video)"
$PY reconstruct/evaluate.py --video --input "$clip" --ground_truth "$clip" \
    --out "$WORK/eval_video"
echo "main job finished in $(( $(date +%s) - start )) s; outputs under $WORK/"
