r"""Scores video models on sequences with ground truth, beside the two video baselines.

  python -m hdrkeras.evaluate_video --model exports/lanhdr --input SEQ1/ --input SEQ2/ \
      --exposures 1,4 [--lanhdr] [--out eval/]
  python -m hdrkeras.evaluate_video --model lanhdr.keras --dataset SYNTHETIC_VIDEO_ROOT
  python reconstruct/evaluate.py --video ...        (the same tool)

Each --input is a folder of LDR frames with its linear ground truth (.hdr/.exr, the
frames' stems) in INPUT/gt/ or the matching --ground_truth folder. Every model and, unless
--baselines=false, video_reference_only and video_classical_merge run over each sequence;
PSNR-T / PSNR-L / SSIM-T / SSIM-L / PU21-PSNR and tPSNR-T (temporal stability) per sequence
and overall, plus LAN-HDR's official protocol with --lanhdr (definitions:
hdrkeras/video_evaluation.py). Writes OUT/metrics.csv and OUT/metrics.md and prints the
table.
"""

import collections
import os
from absl import flags

from hdrkeras import cli  # (sets TF_CPP_MIN_LOG_LEVEL before TF loads)
from hdrkeras.errors import ConfigError

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_multi_string("model", [], "Video window model (SavedModel dir or .keras); "
                          "repeatable.", **_F)
flags.DEFINE_multi_string("method", [], "Weight-free video method to score; repeatable.", **_F)
flags.DEFINE_multi_string("input", [], "Sequence folder of LDR frames; repeatable.", **_F)
flags.DEFINE_string("dataset", None, "A video dataset root with ground truth instead of "
                    "--input (any layout hdrkeras.data.video_sources reads, e.g. our "
                    "synthetic HDR video).", **_F)
flags.DEFINE_multi_string("ground_truth", [], "Ground-truth folder of each --input, in order "
                          "(default INPUT/gt).", **_F)
flags.DEFINE_string("exposures", None, "Relative exposure times (1,4 or 1,4,16), a .txt "
                    "file of EV stops, or exif; default: the folder's exposure file, else "
                    "EXIF.", **_F)
flags.DEFINE_string("out", "evaluation", "Folder for metrics.csv and metrics.md.", **_F)
flags.DEFINE_bool("baselines", True, "Also score video_reference_only and "
                  "video_classical_merge.", **_F)
flags.DEFINE_bool("lanhdr", False, "Also report LAN-HDR's official protocol (GT divided by "
                  "its max when above 1, 7x7 uniform-window SSIM).", **_F)
cli.define_video_model_flags(FLAGS)


def main(argv):
    from hdrkeras import checks, tiling, video_evaluation, video_inference
    from hdrkeras.data.video_folder import folder_sequence

    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    tiling.tool_tile(FLAGS.tile)
    checks.positive_float("--max_memory_gb", FLAGS.max_memory_gb)
    if not FLAGS.input and not FLAGS.dataset:
        raise ConfigError("--input (a folder of frames with ground truth) or --dataset is "
                          "required")
    if FLAGS.ground_truth and len(FLAGS.ground_truth) != len(FLAGS.input):
        raise ConfigError(f"{len(FLAGS.ground_truth)} --ground_truth folders for "
                          f"{len(FLAGS.input)} --input folders")
    extra = video_inference.parse_extra_inputs(FLAGS.extra_input)
    if FLAGS.sensitivity is not None:
        extra["sensitivity"] = FLAGS.sensitivity
    sequences = []
    for k, folder in enumerate(FLAGS.input):
        gt = FLAGS.ground_truth[k] if FLAGS.ground_truth else os.path.join(folder, "gt")
        if not os.path.isdir(gt):
            raise ConfigError(f"{gt}: ground-truth folder of {folder} does not exist")
        sequences.append(folder_sequence(folder, FLAGS.exposures, gt))
    if FLAGS.dataset:
        from hdrkeras.data.video_sources import video_sequences

        sequences += video_sequences(FLAGS.dataset, split="test",
                                     num_exposures=FLAGS.num_exposures)
    models = []
    for path in FLAGS.model:
        print(f"loading {path}", flush=True)
        models.append(video_inference.streaming_model(
            model=path, num_frames=FLAGS.frames, num_exposures=FLAGS.num_exposures,
            extra=extra))
    names = list(FLAGS.method)
    if FLAGS.baselines:
        names += [b for b in video_evaluation.BASELINES if b not in names]
    config = {"num_frames": FLAGS.frames} if FLAGS.frames else None
    models += [video_inference.streaming_model(method=m, config=config) for m in names]
    # An export is named after its method; beside that method's baseline (or another
    # export of it) its rows would merge, so such a --model is labelled with its path.
    counts = collections.Counter(m.name for m in models)
    for m, path in zip(models, FLAGS.model):
        if counts[m.name] > 1:
            m.name = f"{m.name} ({path})"
    for seq in sequences:  # every model/sequence mismatch before any work
        for m in models:
            m.check_sequence(seq)
    print(f"scoring {len(models)} model(s) on {len(sequences)} sequence(s)", flush=True)
    rows = video_evaluation.evaluate(models, sequences, lanhdr=FLAGS.lanhdr,
                                     tile=tiling.tool_tile(FLAGS.tile), overlap=FLAGS.overlap,
                                     max_memory_gb=FLAGS.max_memory_gb)
    csv_path, md_path = video_evaluation.write_reports(rows, FLAGS.out, FLAGS.lanhdr)
    print()
    print(video_evaluation.markdown_table(rows, FLAGS.lanhdr))
    print(f"wrote {csv_path} and {md_path}", flush=True)
    return 0


def entry(argv=None):
    """Console entry: parses this tool's own flags and runs `main`; user errors -> one line
    on stderr, exit 1."""
    cli.run_main(main, argv, FLAGS)

if __name__ == "__main__":
    entry()
