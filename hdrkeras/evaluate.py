"""Scores models on a dataset's test scenes beside the zero-training baselines.

  python -m hdrkeras.evaluate --model exports/esbn --model run/model.keras \
      --data /data/Kalantari17 [--split test] [--out eval/] [--tile 512 --overlap 32]

Runs every scene of ROOT's split (Kalantari layout) through each --model / --method and,
unless --baselines=false, through `reference_only` and `classical_merge`; computes PSNR-mu,
PSNR-l, SSIM-mu, SSIM-l, PU21-PSNR and colour saturation (and its ratio to the ground
truth's) per scene; writes OUT/metrics.csv (per-scene rows and a `mean` row per model) and
OUT/metrics.md (table of means), and prints the table.
"""

import math
import os
import sys

from absl import flags

from hdrkeras import checks, cli  # (cli sets TF_CPP_MIN_LOG_LEVEL before TF loads)
from hdrkeras.errors import ConfigError

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_multi_string("model", [], "SavedModel dir (or base dir of versions) or .keras "
                          "file; repeatable.", **_F)
flags.DEFINE_multi_string("method", [], "Weight-free method to score (a baseline); "
                          "repeatable.", **_F)
flags.DEFINE_string("data", None, "Dataset root (Kalantari layout: ROOT/Training, "
                    "ROOT/Test).", **_F)
flags.DEFINE_enum("split", "test", ["train", "test"], "Split to score.", **_F)
flags.DEFINE_enum("dataset", "auto", ["auto", "kalantari", "sctnet"],
                  "Dataset flavour (ground-truth file names).", **_F)
flags.DEFINE_integer("frames", 3, "Frames per scene.", **_F)
flags.DEFINE_string("out", "evaluation", "Folder for metrics.csv and metrics.md.", **_F)
flags.DEFINE_integer("tile", None, "Tile size; 0: the whole image at once (default: whole "
                     "if it fits in --max_memory_gb, else the largest tile that does).", **_F)
flags.DEFINE_float("max_memory_gb", 4.0, "Memory bound of the automatic tiling (GB); the "
                   "machine's available memory lowers it further.", **_F)
flags.DEFINE_integer("overlap", 32, "Overlap of neighbouring tiles.", **_F)
flags.DEFINE_enum("pad_mode", "reflect", ["reflect", "ones"],
                  "Tiling padding: reflect, or ones (SCTNet's protocol, with --overlap=0).", **_F)
flags.DEFINE_bool("baselines", True, "Also score reference_only and classical_merge.", **_F)
flags.DEFINE_integer("max_scenes", None, "Score only the first N scenes (quick checks).", **_F)
flags.mark_flags_as_required(["data"], flag_values=FLAGS)


def main(argv):
    from hdrkeras import evaluation, inference, tiling
    from hdrkeras.data.kalantari import list_scenes

    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    checks.positive_ints({"--frames": FLAGS.frames, "--max_scenes": FLAGS.max_scenes})
    if FLAGS.tile is not None:
        checks.non_negative_int("--tile", FLAGS.tile)
    checks.positive_float("--max_memory_gb", FLAGS.max_memory_gb)
    checks.non_negative_int("--overlap", FLAGS.overlap)
    # Checked before hours of scoring, not when the report is written.
    checks.output_dir("--out", FLAGS.out)
    for name in ("metrics.csv", "metrics.md"):
        checks.output_file("--out", os.path.join(FLAGS.out, name))
    _check_not_records(FLAGS.data)
    scenes = list_scenes(FLAGS.data, FLAGS.split, num_frames=FLAGS.frames, dataset=FLAGS.dataset)
    if FLAGS.max_scenes is not None:
        scenes = scenes[:FLAGS.max_scenes]
    predictors = []
    for path in FLAGS.model:
        print(f"loading {path}", flush=True)
        predictors.append(inference.load_model(path))
    methods = list(FLAGS.method)
    if FLAGS.baselines:
        methods += [b for b in evaluation.BASELINES if b not in methods]
    config = {"num_frames": FLAGS.frames}
    predictors += [inference.from_method(m, config) for m in methods]
    print(f"scoring {len(predictors)} model(s) on {len(scenes)} {FLAGS.split} scene(s) "
          f"of {FLAGS.data}", flush=True)
    rows = evaluation.evaluate(predictors, scenes, tile=tiling.tool_tile(FLAGS.tile),
                               overlap=FLAGS.overlap, max_memory_gb=FLAGS.max_memory_gb,
                               pad_mode=FLAGS.pad_mode)
    csv_path, md_path = evaluation.write_reports(rows, FLAGS.out)
    print()
    print(evaluation.markdown_table(rows))
    print(f"wrote {csv_path} and {md_path}", flush=True)
    warn_non_finite(rows)
    return 0


def _check_not_records(data):
    """Records given as --data: say which image dataset they were made from."""
    import json

    for folder in (data, os.path.join(data, "test"), os.path.join(data, "train")):
        manifest = os.path.join(folder, "manifest.json")
        if os.path.isfile(manifest):
            with open(manifest) as f:
                source = json.load(f).get("source") or "ROOT"
            raise ConfigError(f"--data {data} holds TFRecords; evaluate scores the scenes of an "
                              f"image dataset, e.g. the one they were made from: --data {source}")


def warn_non_finite(rows):
    """-inf/nan in the table is never left unexplained: names the scenes and metrics (for
    every model alike it is the ground truth, e.g. one absurd pixel)."""
    from hdrkeras import evaluation

    bad = {}
    for row in rows:
        for m in evaluation.IMAGE_METRICS:
            if not math.isfinite(row[m]):
                bad.setdefault(row["scene"], set()).add(row["model"])
    for scene, models in bad.items():
        every = len(models) == len({r["model"] for r in rows})
        who = "every model" if every else ", ".join(sorted(models))
        cause = " (check its ground truth for absurd or non-finite values)" if every else ""
        print(f"warning: scene {scene}: non-finite metrics for {who}{cause}; the means "
              f"include them", file=sys.stderr)


def entry(argv=None):
    """Console entry: parses the flags, runs, exits (status 1 with one line on user errors)."""
    cli.run_main(main, argv, FLAGS)


if __name__ == "__main__":
    entry()
