"""Bracketed LDR photos -> one HDR image (+ a tonemapped PNG preview beside it).

  python -m hdrkeras.reconstruct --model EXPORT_DIR|MODEL.keras --input SCENE_DIR --out out.exr
  python -m hdrkeras.reconstruct --method classical_merge --input a.jpg,b.jpg,c.jpg --out out.hdr

--input is a Kalantari-layout scene folder (.tif frames + exposure.txt), a folder of
bracketed photos whose exposures come from EXIF, a comma-separated list of images or a
glob. --model is a SavedModel from hdrkeras.export (or its base directory: the highest
version is used) or a `.keras` file; --method names a zero-training baseline instead.
Writes OUT (.hdr or .exr) and OUT_STEM_preview.png, both atomically.
"""

import os
import time

import numpy as np
from absl import flags

from hdrkeras import checks, cli  # (cli sets TF_CPP_MIN_LOG_LEVEL before TF loads)
from hdrkeras.errors import ConfigError, DataError

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_string("model", None, "SavedModel directory (or base dir of versions) or "
                    ".keras file.", **_F)
flags.DEFINE_string("method", None, "Baseline method instead of --model: reference_only or "
                    "classical_merge.", **_F)
flags.DEFINE_string("input", None, "Scene folder, folder of bracketed photos, comma-separated "
                    "image list or glob.", **_F)
flags.DEFINE_string("out", None, "Output HDR file (.hdr or .exr).", **_F)
flags.DEFINE_integer("tile", None, "Tile size for bounded-memory inference (default: whole "
                     "image).", **_F)
flags.DEFINE_integer("overlap", 32, "Overlap of neighbouring tiles, blended smoothly.", **_F)
flags.DEFINE_enum("pad_mode", "reflect", ["reflect", "ones"],
                  "Tiling padding: reflect, or ones (SCTNet's protocol, with --overlap=0).", **_F)
flags.DEFINE_list("exposures", None, "Exposure times of the input frames in file-name order "
                  "(any scale, e.g. 1,4,16); overrides exposure.txt / EXIF.", **_F)
flags.mark_flags_as_required(["input", "out"], flag_values=FLAGS)


def check_brightness_order(scene, ldr, given):
    """User-given exposures must agree with the frames: the longer the exposure, the brighter
    the frame. A reversed list (16,4,1 for frames stored dark to bright) would otherwise be
    re-sorted silently so that the darkest image is treated as the longest exposure.

    ldr: float32 [N, H, W, 3] gamma LDR in [0, 1], frames in increasing exposure order.
    """
    brightness = ldr.reshape(ldr.shape[0], -1).mean(axis=1)
    for i in range(len(brightness) - 1):
        if brightness[i + 1] < brightness[i]:
            a, b = (os.path.basename(scene.frame_paths[j]) for j in (i, i + 1))
            raise DataError(
                f"--exposures {given} contradict the frames: {b} (longer exposure) is darker "
                f"than {a} (mean {brightness[i + 1]:.3f} < {brightness[i]:.3f}); give the "
                f"exposure times in file-name order")


def main(argv):
    from hdrkeras import inference, tiling
    from hdrkeras.data import bracket

    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    if bool(FLAGS.model) == bool(FLAGS.method):
        raise ConfigError("give --model (an exported SavedModel folder or a .keras file) or "
                          "--method (reference_only or classical_merge), not both or neither")
    inference.check_output_path(FLAGS.out)
    checks.output_file("--out", FLAGS.out)
    checks.output_file("--out (its preview)", inference.preview_path(FLAGS.out))
    checks.positive_int("--tile", FLAGS.tile)
    checks.non_negative_int("--overlap", FLAGS.overlap)
    exposures = None
    if FLAGS.exposures:
        try:
            exposures = [float(x) for x in FLAGS.exposures]
        except ValueError:
            raise ConfigError(
                f"--exposures must be numbers, got {','.join(FLAGS.exposures)}") from None

    start = time.perf_counter()
    print(f"loading {FLAGS.model or FLAGS.method}", flush=True)
    predictor = inference.get_predictor(model=FLAGS.model, method=FLAGS.method)
    scene = bracket.input_scene(FLAGS.input, exposures, num_frames=predictor.num_frames)
    print(f"reading {len(scene.frame_paths)} frames of {scene.name}", flush=True)
    ldr, times, _ = scene.load()
    if exposures is not None:
        check_brightness_order(scene, np.asarray(ldr), ",".join(FLAGS.exposures))
    n, h, w, _ = ldr.shape
    print(f"  {w}x{h}, relative exposures {', '.join(f'{t:g}' for t in times)}", flush=True)

    total = tiling.num_tiles(h, w, FLAGS.tile, FLAGS.overlap, FLAGS.pad_mode)

    def progress(done, count):
        if count > 1:
            print(f"  tile {done}/{count}", flush=True)

    print(f"reconstructing ({total} model call{'s' if total > 1 else ''})", flush=True)
    hdr = tiling.run_tiled(predictor, ldr[None], times[None], tile=FLAGS.tile,
                              overlap=FLAGS.overlap, pad_mode=FLAGS.pad_mode,
                              progress=progress)[0]
    hdr_path, png_path = inference.write_outputs(hdr, FLAGS.out)
    print(f"wrote {hdr_path} and {png_path} ({time.perf_counter() - start:.1f}s)", flush=True)
    return 0


def entry(argv=None):
    """Console entry: parses the flags, runs, exits (status 1 with one line on user errors)."""
    cli.run_main(main, argv, FLAGS)


if __name__ == "__main__":
    entry()
