r"""Alternating-exposure LDR video -> one HDR frame per input frame (+ previews, MP4).

  python -m hdrkeras.reconstruct_video --method video_classical_merge --input FRAMES/ \
      --exposures 1,4 --out out/
  python reconstruct/video.py --model EXPORT_DIR --input FRAMES/ --out out/ --format .hdr

--input is a folder of LDR frames in file-name order (hdrkeras.data.video_folder);
exposures come from --exposures (relative times, one per frame or one alternation period,
e.g. 1,4 or 1,4,16; or a .txt file of EV stops; or "exif"), else the folder's
exposures.txt / Exposures.txt / exposure.txt (EV stops), else EXIF. --model is a video
window model (SavedModel or .keras, inputs ldr [B,T,H,W,3] and exposures [B,T]); --method
a weight-free video method (video_classical_merge, video_reference_only). The output of frame c comes from the window
centred on it; at the ends of the sequence missing positions take the nearest frame with
the exposure that position would have had (hdrkeras.data VideoSequence.window).

Writes OUT/frame_NNNNN.exr (or .hdr) and OUT/frame_NNNNN_preview.png per frame
atomically, skipping frames already written (resume), then OUT/preview.mp4 when OpenCV can
encode MP4. Prints one progress line per frame with frames/s and ETA. Memory is constant in
the sequence length; --tile bounds it for large frames.
"""

from absl import flags

from hdrkeras import cli  # (sets TF_CPP_MIN_LOG_LEVEL before TF loads)
from hdrkeras.errors import ConfigError

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_string("model", None, "Video window model: SavedModel dir (or base dir of "
                    "versions) or .keras file.", **_F)
flags.DEFINE_string("method", None, "Weight-free video method instead of --model "
                    "(video_classical_merge, video_reference_only).", **_F)
flags.DEFINE_string("input", None, "Folder of LDR frames in time order.", **_F)
flags.DEFINE_string("exposures", None, "Relative exposure times, one per frame or one "
                    "period (1,4 or 1,4,16), a .txt file of EV stops, or exif; default: the "
                    "folder's exposure file, else EXIF.", **_F)
flags.DEFINE_string("out", None, "Output folder.", **_F)
flags.DEFINE_enum("format", ".exr", [".exr", ".hdr"], "HDR file format of the frames.", **_F)
cli.define_video_model_flags(FLAGS)
flags.DEFINE_bool("mp4", True, "Write OUT/preview.mp4 when an MP4 encoder is available.", **_F)
flags.DEFINE_float("fps", 25.0, "Frame rate of the MP4 preview.", **_F)


def main(argv):
    from hdrkeras import checks, tiling, video_inference
    from hdrkeras.data.video_folder import folder_sequence

    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    tiling.tool_tile(FLAGS.tile)
    checks.positive_float("--max_memory_gb", FLAGS.max_memory_gb)
    for name in ("input", "out"):
        if not FLAGS[name].value:
            raise ConfigError(f"--{name} is required")
    extra = video_inference.parse_extra_inputs(FLAGS.extra_input)
    if FLAGS.sensitivity is not None:
        extra["sensitivity"] = FLAGS.sensitivity
    video_inference.check_output_dir(FLAGS.out, FLAGS.format)
    sequence = folder_sequence(FLAGS.input, FLAGS.exposures)
    print(f"loading {FLAGS.model or FLAGS.method}", flush=True)
    config = {"num_frames": FLAGS.frames} if FLAGS.frames else None
    model = video_inference.streaming_model(model=FLAGS.model, method=FLAGS.method,
                                            config=config, num_frames=FLAGS.frames,
                                            num_exposures=FLAGS.num_exposures, extra=extra)
    levels = ", ".join(f"{t:g}" for t in sequence.levels)
    print(f"{sequence.name}: {len(sequence)} frames, exposure levels {levels}, "
          f"{model.window_size(sequence)}-frame windows", flush=True)
    result = video_inference.reconstruct_sequence(
        model, sequence, FLAGS.out, ext=FLAGS.format, tile=tiling.tool_tile(FLAGS.tile),
        overlap=FLAGS.overlap, max_memory_gb=FLAGS.max_memory_gb,
        mp4=FLAGS.mp4, fps=FLAGS.fps)
    print(f"wrote {len(result['written'])} frames to {FLAGS.out} "
          f"({len(result['skipped'])} already there)"
          + (f"; {result['mp4']}" if result["mp4"] else ""), flush=True)
    return 0


def entry(argv=None):
    """Console entry: parses this tool's own flags and runs `main`; user errors -> one line
    on stderr, exit 1."""
    cli.run_main(main, argv, FLAGS)

if __name__ == "__main__":
    entry()
