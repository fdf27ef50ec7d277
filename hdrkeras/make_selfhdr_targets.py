"""SelfHDR's colour component from raw multi-exposure data (no ground truth is read).

  python -m hdrkeras.make_selfhdr_targets --data ROOT
  python -m hdrkeras.make_selfhdr_targets --data ROOT --use_existing   # official download

(`python tfrecord_tools/make_selfhdr_targets.py ...` is the same tool.) For every scene of
ROOT/Training: DIS optical flow on exposure-matched frames, bicubic backward warp of the short
and long frames onto the reference, reference re-exposed into pixels that left the frame,
triangle-weight merge -> ROOT/Training_align/<scene>/ (aligned 16-bit .tif frames, Y_color as
HDRImg.hdr, exposure.txt), the layout SelfHDR's loader reads. Also writes records (unaligned
frames + y_color target + aligned frames) that
`python -m hdrkeras.fit --method selfhdr --train_records OUT` uses as they are.
"""

import os

from absl import flags

from hdrkeras import checks, cli
from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import cleanup_on_failure

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_string("data", "work/data/synthetic",
                    "Dataset root in the Kalantari layout (Training/<scene>/*.tif, exposure.txt).",
                    **_F)
flags.DEFINE_enum("dataset", "auto", ["auto", "kalantari", "sctnet"], "Dataset flavour.", **_F)
flags.DEFINE_string("align_dir", None, "Aligned tree to write (default ROOT/Training_align).",
                    **_F)
flags.DEFINE_string("out", "work/records/selfhdr",
                    "Records folder to write ('' for the aligned tree only).", **_F)
flags.DEFINE_enum("flow", "medium", ["ultrafast", "fast", "medium"], "DIS optical-flow preset.",
                  **_F)
flags.DEFINE_bool("use_existing", False,
                  "Make the records from an existing aligned tree instead of computing it.", **_F)
flags.DEFINE_bool("overwrite", False, "Replace an existing aligned tree / records folder.", **_F)


def main(argv):
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    from hdrkeras.data.selfhdr_targets import ALIGN_DIR, build_training_align

    if FLAGS.out:
        checks.output_dir("--out", FLAGS.out)
    if not FLAGS.use_existing:
        checks.output_dir("--align_dir", FLAGS.align_dir or os.path.join(FLAGS.data, ALIGN_DIR))
    if FLAGS.out and os.path.isdir(FLAGS.out) and os.listdir(FLAGS.out) and not FLAGS.overwrite:
        raise ConfigError(f"output folder {FLAGS.out} is not empty; pass --overwrite to replace it")
    with cleanup_on_failure(FLAGS.out or "."):  # no empty --out after a failed scene
        result = build_training_align(
            FLAGS.data, align_dir=FLAGS.align_dir, records_out=FLAGS.out or None,
            dataset=FLAGS.dataset, preset=FLAGS.flow, use_existing=FLAGS.use_existing,
            overwrite=FLAGS.overwrite, progress=lambda s: print(s, flush=True))
    print(f"{result['scenes']} scenes -> {result['align_dir']}"
          + (f", records {result['records']}" if result["records"] else ""))
    return 0


def entry(argv=None):
    """Console entry: parses the flags, runs, exits (status 1 with one line on user errors)."""
    cli.run_main(main, argv, FLAGS)


if __name__ == "__main__":
    entry()
