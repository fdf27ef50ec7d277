"""SelfHDR's colour component from raw multi-exposure data (no ground truth is read).

  python tfrecord_tools/make_selfhdr_targets.py --data ROOT
  python tfrecord_tools/make_selfhdr_targets.py --data ROOT --use_existing   # official download

For every scene of ROOT/Training: DIS optical flow on exposure-matched frames, bicubic
backward warp of the short and long frames onto the reference, reference re-exposed into
pixels that left the frame, triangle-weight merge -> ROOT/Training_align/<scene>/ (aligned
16-bit .tif frames, Y_color as HDRImg.hdr, exposure.txt), the layout SelfHDR's loader
reads. Also writes records (unaligned frames + y_color target + aligned frames) that
`python train/fit.py --method selfhdr --train_records OUT` uses as they are.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import flags  # noqa: E402

from hdrkeras.cli import run_main  # noqa: E402
from hdrkeras.errors import ConfigError  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data", "work/data/synthetic",
                    "Dataset root in the Kalantari layout (Training/<scene>/*.tif, exposure.txt).")
flags.DEFINE_enum("dataset", "auto", ["auto", "kalantari", "sctnet"], "Dataset flavour.")
flags.DEFINE_string("align_dir", None, "Aligned tree to write (default ROOT/Training_align).")
flags.DEFINE_string("out", "work/records/selfhdr",
                    "Records folder to write ('' for the aligned tree only).")
flags.DEFINE_enum("flow", "medium", ["ultrafast", "fast", "medium"], "DIS optical-flow preset.")
flags.DEFINE_bool("use_existing", False,
                  "Make the records from an existing aligned tree instead of computing it.")
flags.DEFINE_bool("overwrite", False, "Replace an existing aligned tree / records folder.")


def main(argv):
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    from hdrkeras.data.selfhdr_targets import build_training_align

    if FLAGS.out and os.path.isdir(FLAGS.out) and os.listdir(FLAGS.out) and not FLAGS.overwrite:
        raise ConfigError(f"output folder {FLAGS.out} is not empty; pass --overwrite to replace it")
    result = build_training_align(
        FLAGS.data, align_dir=FLAGS.align_dir, records_out=FLAGS.out or None,
        dataset=FLAGS.dataset, preset=FLAGS.flow, use_existing=FLAGS.use_existing,
        overwrite=FLAGS.overwrite, progress=lambda s: print(s, flush=True))
    print(f"{result['scenes']} scenes -> {result['align_dir']}"
          + (f", records {result['records']}" if result["records"] else ""))
    return 0


if __name__ == "__main__":
    run_main(main)
