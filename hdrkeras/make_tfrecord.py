"""Dataset root (Kalantari17 / SCTNet layout) or a synthetic default -> sharded TFRecords.

  python -m hdrkeras.make_tfrecord --data ROOT --out work/records --split all
  python -m hdrkeras.make_tfrecord --mode patches --augment --schema esbn
  python -m hdrkeras.make_tfrecord            # synthesizes work/data/synthetic first
  python -m hdrkeras.make_tfrecord --kind video --data ROOT --out work/video_records
  python -m hdrkeras.make_tfrecord --kind video --synth_video   # synthetic clips first

(`python tfrecord_tools/make_tfrecord.py ...` is the same tool.) Writes <out>/train/ and/or
<out>/test/, each with shards and a manifest.json. Video (--kind video) writes one split,
<out>/<split>/ ("all" means train), of fixed-length clip records
(hdrkeras.data.records.write_video_records) from any video layout
hdrkeras.data.video_sources reads. User errors print one line on stderr and exit with
status 1.
"""

import os
import shutil

from absl import flags

from hdrkeras import checks, cli
from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import cleanup_on_failure

FLAGS = flags.FlagValues()
_F = {"flag_values": FLAGS}
flags.DEFINE_string("data", None, "Dataset root with Training/ and Test/ (Kalantari17 or "
                    "SCTNet layout). Without it a synthetic dataset is generated in --synth_dir.",
                    **_F)
flags.DEFINE_enum("dataset", "auto", ["auto", "kalantari", "sctnet"],
                  "Dataset flavour (GT file names: HDRImg.hdr, or also SCTNet's label.hdr).", **_F)
flags.DEFINE_string("out", "work/records", "Output folder; gets train/ and test/ subfolders.",
                    **_F)
flags.DEFINE_enum("split", "all", ["train", "test", "all"], "Which split(s) to write.", **_F)
flags.DEFINE_enum("mode", "scenes", ["scenes", "patches"],
                  "scenes: one record per scene (crops on the fly); patches: ESBN protocol.", **_F)
flags.DEFINE_integer("patch_size", 256, "Patch side in patches mode (ESBN: 256).", **_F)
flags.DEFINE_integer("stride", 64, "Patch grid stride in patches mode (ESBN: 64).", **_F)
flags.DEFINE_bool("augment", False, "Patches mode: all 8 rotations/flips of every patch.", **_F)
flags.DEFINE_enum("schema", "hdrkeras", ["hdrkeras", "esbn"],
                  "Record schema: ours, or ESBN's original feature keys (patches only).", **_F)
flags.DEFINE_integer("shard_size", None, "Records per shard (default 8 scenes / 128 patches).",
                     **_F)
flags.DEFINE_integer("workers", 2, "Scenes processed in parallel.", **_F)
flags.DEFINE_integer("num_frames", 3, "Frames per scene.", **_F)
flags.DEFINE_integer("seed", 0, "Seed of the record order (train split).", **_F)
flags.DEFINE_bool("overwrite", False, "Replace existing records in --out.", **_F)
flags.DEFINE_string("synth_dir", "work/data/synthetic",
                    "Where the synthetic default dataset is generated (no --data).", **_F)
flags.DEFINE_integer("synth_train", None, "Synthetic dataset: training scenes (default: "
                     "synthesize_dataset's).", **_F)
flags.DEFINE_integer("synth_test", None, "Synthetic dataset: test scenes.", **_F)
flags.DEFINE_string("synth_size", None, "Synthetic dataset: frame size HxW, e.g. 64x96.", **_F)
flags.DEFINE_enum("kind", "image", ["image", "video"],
                  "image: exposure stacks (Kalantari/SCTNet layouts); video: clip records.", **_F)
flags.DEFINE_integer("clip_length", None, "Video: frames per clip (default 8).", **_F)
flags.DEFINE_integer("clip_stride", None, "Video: frames between clip starts (default 4).", **_F)
flags.DEFINE_integer("max_tile", None, "Video: frames larger than this are tiled (default 512).",
                     **_F)
flags.DEFINE_integer("num_exposures", None, "Video: exposure levels where the layout has "
                     "several scene lists (DeepHDRVideo synthetic, TOG13).", **_F)
flags.DEFINE_string("exposures", None, "Video, generic frame folder: relative exposure times "
                    "like 1,4, an EV text file, or exif.", **_F)
flags.DEFINE_bool("synth_video", False, "Video: synthesize clips into --synth_video_dir first "
                  "and write their records (no --data).", **_F)
flags.DEFINE_string("synth_video_dir", "work/data/synthetic_video",
                    "Where --synth_video writes its clips.", **_F)
flags.DEFINE_integer("synth_clips", 8, "--synth_video: number of sequences.", **_F)
flags.DEFINE_integer("synth_frames", 16, "--synth_video: frames per sequence.", **_F)
flags.DEFINE_enum("synth_profile", "default", ["default", "dealthdr"],
                  "--synth_video: generator profile (hdrkeras.data.synthesize_video).", **_F)


def _frame_size():
    """--synth_size as (height, width)."""
    try:
        h, w = (int(v) for v in FLAGS.synth_size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--synth_size must be HxW, got {FLAGS.synth_size!r}") from None
    checks.positive_ints({"--synth_size height": h, "--synth_size width": w})
    return h, w


def _synth_kwargs():
    kw = {"workers": FLAGS.workers}
    if FLAGS.synth_train is not None:
        kw["num_train"] = FLAGS.synth_train
    if FLAGS.synth_test is not None:
        kw["num_test"] = FLAGS.synth_test
    if FLAGS.synth_size:
        kw["height"], kw["width"] = _frame_size()
    return kw


def check_options():
    """Every option range and output location, before anything is read or written."""
    if FLAGS.schema == "esbn" and FLAGS.mode != "patches":
        raise ConfigError("--schema esbn stores ESBN's patches only; add --mode patches")
    checks.positive_ints({"--shard_size": FLAGS.shard_size, "--patch_size": FLAGS.patch_size,
                          "--stride": FLAGS.stride})
    checks.positive_int("--workers", FLAGS.workers, optional=False)
    checks.positive_int("--num_frames", FLAGS.num_frames, optional=False)
    checks.non_negative_int("--seed", FLAGS.seed)
    checks.output_dir("--out", FLAGS.out)
    if FLAGS.data is None:
        for name in ("synth_train", "synth_test"):
            if FLAGS[name].value is not None:
                checks.non_negative_int(f"--{name}", FLAGS[name].value)
        checks.output_dir("--synth_dir", FLAGS.synth_dir)


def _clear_previous_synthesis(root):
    """Re-synthesizing into a used --synth_dir must not mix the old scenes into the records:
    without --overwrite it is refused; with it, the previous synthetic dataset is removed
    (only one hdrkeras wrote: it carries synthesis.json)."""
    from hdrkeras.data import synthesize

    splits = [os.path.join(root, d) for d in (synthesize.TRAIN_DIR, synthesize.TEST_DIR)]
    if not any(os.path.exists(d) for d in splits):
        return
    summary = os.path.join(root, synthesize.SUMMARY_NAME)
    if not os.path.isfile(summary):
        raise ConfigError(f"--synth_dir {root} holds a dataset hdrkeras did not synthesize; "
                          f"make records from it with --data {root}, or choose another "
                          f"--synth_dir")
    if not FLAGS.overwrite:
        raise ConfigError(f"--synth_dir {root} already holds a synthetic dataset; make records "
                          f"from it with --data {root}, or pass --overwrite to synthesize it "
                          f"anew")
    for d in splits:
        shutil.rmtree(d, ignore_errors=True)
    os.remove(summary)


def run_video():
    """--kind video: a video dataset root (or synthetic clips) -> clip records."""
    from hdrkeras.data import records, video_sources

    if FLAGS.schema != "hdrkeras" or FLAGS.mode != "scenes":
        raise ConfigError("--kind video writes hdrkeras clip records; drop --schema/--mode")
    checks.positive_ints({"--shard_size": FLAGS.shard_size, "--clip_length": FLAGS.clip_length,
                          "--clip_stride": FLAGS.clip_stride, "--max_tile": FLAGS.max_tile,
                          "--num_exposures": FLAGS.num_exposures})
    checks.non_negative_int("--seed", FLAGS.seed)
    checks.output_dir("--out", FLAGS.out)
    split = "train" if FLAGS.split == "all" else FLAGS.split
    target = os.path.join(FLAGS.out, split)
    if not FLAGS.overwrite and os.path.exists(target) and (
            not os.path.isdir(target) or os.listdir(target)):
        raise ConfigError(f"output folder {target} is not empty; pass --overwrite to replace it")
    root = FLAGS.data
    if FLAGS.synth_video:
        if root is not None:
            raise ConfigError("--synth_video writes its own clips; drop --data")
        from hdrkeras.data import synthesize_video

        checks.positive_ints({"--synth_clips": FLAGS.synth_clips,
                              "--synth_frames": FLAGS.synth_frames})
        checks.output_dir("--synth_video_dir", FLAGS.synth_video_dir)
        root = FLAGS.synth_video_dir
        kw = {}
        if FLAGS.synth_size:
            kw["height"], kw["width"] = _frame_size()
        print(f"--synth_video: synthesizing {FLAGS.synth_clips} sequences into {root}",
              flush=True)
        with cleanup_on_failure(root, contents=True):
            synthesize_video.synthesize_video_dataset(
                root, FLAGS.synth_clips, FLAGS.synth_frames, seed=FLAGS.seed,
                profile=FLAGS.synth_profile, num_exposures=FLAGS.num_exposures, **kw)
    elif root is None:
        raise ConfigError("--kind video needs --data ROOT or --synth_video")
    sequences = video_sources.video_sequences(root, split=split,
                                              num_exposures=FLAGS.num_exposures,
                                              exposures=FLAGS.exposures)
    print(f"[{split}] {len(sequences)} sequences from {root}", flush=True)
    args = {k: FLAGS[k].value for k in ("data", "kind", "out", "split", "clip_length",
                                        "clip_stride", "max_tile", "num_exposures", "exposures",
                                        "shard_size", "seed", "overwrite", "synth_video",
                                        "synth_video_dir", "synth_clips", "synth_frames",
                                        "synth_profile", "synth_size")}
    kw = {k: v for k, v in (("clip_length", FLAGS.clip_length), ("stride", FLAGS.clip_stride),
                            ("max_tile", FLAGS.max_tile)) if v is not None}
    with cleanup_on_failure(FLAGS.out):
        records.write_video_records(sequences, target, split=split, shard_size=FLAGS.shard_size,
                                    seed=FLAGS.seed, overwrite=FLAGS.overwrite,
                                    source=os.path.abspath(root), arguments=args,
                                    progress=lambda s: print(s, flush=True), **kw)


def run():
    if FLAGS.kind == "video":
        return run_video()
    # TensorFlow is imported only once the arguments and the dataset are known to be
    # usable, so user errors are reported within a second.
    from hdrkeras.data import kalantari

    check_options()
    splits = ["train", "test"] if FLAGS.split == "all" else [FLAGS.split]
    out = FLAGS.out
    targets = [os.path.join(out, s) for s in splits]
    if not FLAGS.overwrite:  # checked before synthesizing or reading anything
        for t in targets:
            if os.path.exists(t) and (not os.path.isdir(t) or os.listdir(t)):
                raise ConfigError(f"output folder {t} is not empty; pass --overwrite to "
                                  f"replace it")
    root = FLAGS.data
    if root is None:
        from hdrkeras.data import synthesize
        root = FLAGS.synth_dir
        _clear_previous_synthesis(root)
        print(f"no --data: synthesizing a dataset into {root}", flush=True)
        kw = _synth_kwargs()
        if "train" not in splits:
            kw["num_train"] = 0
        if "test" not in splits:
            kw["num_test"] = 0
        with cleanup_on_failure(root, contents=True):
            summary = synthesize.synthesize_dataset(root, **kw)
        print(f"synthesized {summary.get('num_train')} train + {summary.get('num_test')} test "
              f"scenes in {summary.get('seconds', 0):.1f} s", flush=True)
    args = {k: FLAGS[k].value for k in ("data", "dataset", "out", "split", "mode", "patch_size",
                                        "stride", "augment", "schema", "shard_size", "workers",
                                        "num_frames", "seed", "overwrite", "synth_dir",
                                        "synth_train", "synth_test", "synth_size")}
    found = {split: kalantari.list_scenes(root, split, num_frames=FLAGS.num_frames,
                                          dataset=FLAGS.dataset) for split in splits}
    from hdrkeras.data import records
    # A scene that fails leaves no empty --out behind (each split is swapped in atomically).
    with cleanup_on_failure(out):
        for split, target in zip(splits, targets):
            scenes = found[split]
            print(f"[{split}] {len(scenes)} scenes from {root}", flush=True)
            records.write_records(
                scenes, target, split=split, mode=FLAGS.mode, schema=FLAGS.schema,
                patch_size=FLAGS.patch_size, stride=FLAGS.stride, augment=FLAGS.augment,
                shard_size=FLAGS.shard_size, workers=FLAGS.workers, seed=FLAGS.seed,
                overwrite=FLAGS.overwrite, source=os.path.abspath(root), arguments=args,
                progress=lambda s: print(s, flush=True))


def main(argv):
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    run()
    return 0


def entry(argv=None):
    """Console entry: parses the flags, runs, exits (status 1 with one line on user errors)."""
    cli.run_main(main, argv, FLAGS)


if __name__ == "__main__":
    entry()
