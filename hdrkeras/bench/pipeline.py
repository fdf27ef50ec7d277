"""Data benchmark: make_tfrecord (write_records) and tf.data training-pipeline throughput.

  python -m hdrkeras.bench.pipeline [--size 1000x1500] [--scenes 6] [--patch 128] [--batch 8]
  python -m hdrkeras.bench.pipeline --video [--video_frames 7] [--video_size 128]

Builds its own synthetic Kalantari-layout dataset and records in a temporary folder.
Prints scenes/s and MB/s of the record writer (scenes and patches modes) and crops/s of
`train_dataset` after warm-up. With --video: synthetic HDR video -> clip records (8-frame
clips) -> clips/s of `video_pipeline.video_train_dataset` (windows of --video_frames,
full-frame crops, all augmentations, cached records). Not a test: numbers depend on the machine and its load.
"""

import json
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from hdrkeras.data import synthesize  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("size", "1000x1500", "Scene size HxW (Kalantari: 1000x1500).")
flags.DEFINE_integer("scenes", 6, "Training scenes to synthesize.")
flags.DEFINE_integer("patch", 128, "Crop size of the training pipeline.")
flags.DEFINE_integer("batch", 8, "Batch size of the training pipeline.")
flags.DEFINE_integer("batches", 60, "Timed batches (after warm-up).")
flags.DEFINE_integer("warmup", 10, "Warm-up batches.")
flags.DEFINE_integer("crops_per_scene", 16, "Crops drawn per decoded scene record.")
flags.DEFINE_integer("workers", 2, "Writer threads.")
flags.DEFINE_integer("threads", 0, "tf.data private thread pool size (0: TF default).")
flags.DEFINE_bool("patches", True, "Also time the patches-mode writer (ESBN protocol).")
flags.DEFINE_bool("json", False, "Print one JSON object instead of text.")
flags.DEFINE_bool("video", False, "Time the video clip pipeline instead.")
flags.DEFINE_integer("video_frames", 7, "--video: window length (frames per example).")
flags.DEFINE_integer("video_size", 128, "--video: frame and crop side.")
flags.DEFINE_integer("video_sequences", 8, "--video: synthetic sequences of 16 frames.")


def make_scenes(root, n, height, width, seed=0):
    """Kalantari-layout training scenes made by hdrkeras.data.synthesize."""
    synthesize.synthesize_dataset(root, num_train=n, num_test=0, height=height, width=width,
                                  seed=seed, workers=1)


def _dir_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def run(size, scenes, patch, batch, batches, warmup, crops_per_scene, workers, threads,
        patches=True):
    import tensorflow as tf
    from hdrkeras.data import kalantari, pipeline, records

    h, w = (int(v) for v in size.lower().split("x"))
    tmp = tempfile.mkdtemp(prefix="hdrkeras-bench-")
    res = {"size": f"{h}x{w}", "scenes": scenes, "patch": patch, "batch": batch,
           "cpus": os.cpu_count(), "crops_per_scene": crops_per_scene}
    try:
        t0 = time.perf_counter()
        make_scenes(os.path.join(tmp, "data"), scenes, h, w)
        res["synthesize_s"] = round(time.perf_counter() - t0, 2)
        sc = kalantari.list_scenes(os.path.join(tmp, "data"), "train")

        t0 = time.perf_counter()
        records.write_records(sc, os.path.join(tmp, "scenes"), mode="scenes",
                              workers=workers, shard_size=2)
        dt = time.perf_counter() - t0
        mb = _dir_bytes(os.path.join(tmp, "scenes")) / 1e6
        res.update(write_scenes_s=round(dt, 2), write_scenes_per_s=round(scenes / dt, 2),
                   write_scenes_mb_per_s=round(mb / dt, 1), records_mb=round(mb, 1))
        if patches:
            t0 = time.perf_counter()
            m = records.write_records(sc[:1], os.path.join(tmp, "patches"), mode="patches",
                                      patch_size=256, stride=128, augment=True, workers=workers)
            dt = time.perf_counter() - t0
            res.update(write_patches=m["num_records"], write_patches_s=round(dt, 2),
                       write_patches_per_s=round(m["num_records"] / dt, 1))

        ds = pipeline.train_dataset(os.path.join(tmp, "scenes"), batch, patch,
                                    crops_per_scene=crops_per_scene, seed=0)
        if threads:
            opts = tf.data.Options()
            opts.threading.private_threadpool_size = threads
            ds = ds.with_options(opts)
        it = iter(ds)
        for _ in range(warmup):
            next(it)
        t0 = time.perf_counter()
        for _ in range(batches):
            b = next(it)
        float(b["ldr"][0, 0, 0, 0, 0])
        dt = time.perf_counter() - t0
        res.update(pipeline_batches_per_s=round(batches / dt, 1),
                   pipeline_patches_per_s=round(batches * batch / dt, 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def run_video(frames, size, sequences, batch, batches, warmup, threads):
    """Synthetic clips -> clip records -> video_train_dataset throughput (clips/s)."""
    import tensorflow as tf
    from hdrkeras.data import records, synthesize_video, video_pipeline

    tmp = tempfile.mkdtemp(prefix="hdrkeras-bench-video-")
    res = {"video_frames": frames, "size": f"{size}x{size}", "sequences": sequences,
           "batch": batch, "cpus": os.cpu_count()}
    try:
        t0 = time.perf_counter()
        synthesize_video.synthesize_video_dataset(os.path.join(tmp, "data"), sequences, 16,
                                                  size, size, seed=0)
        seqs = synthesize_video.read_synthetic_video(os.path.join(tmp, "data"))
        res["synthesize_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        m = records.write_video_records(seqs, os.path.join(tmp, "clips"),
                                        clip_length=max(8, frames))
        dt = time.perf_counter() - t0
        res.update(write_clips=m["num_records"], write_clips_per_s=round(m["num_records"] / dt, 1),
                   records_mb=round(_dir_bytes(os.path.join(tmp, "clips")) / 1e6, 1))
        ds = video_pipeline.video_train_dataset(os.path.join(tmp, "clips"), batch, size,
                                                num_frames=frames, crops_per_clip=1, seed=0,
                                                cache=True)
        if threads:
            opts = tf.data.Options()
            opts.threading.private_threadpool_size = threads
            ds = ds.with_options(opts)
        it = iter(ds)
        for _ in range(warmup):
            next(it)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(batches):
            b = next(it)
        float(b["ldr"][0, 0, 0, 0, 0])
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        # CPU time per clip tells the cost when the host is shared (wall time does not)
        res.update(pipeline_batches_per_s=round(batches / dt, 1),
                   pipeline_clips_per_s=round(batches * batch / dt, 1),
                   pipeline_cpu_ms_per_clip=round(cpu * 1000 / (batches * batch), 2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def main(argv):
    del argv
    if FLAGS.video:
        res = run_video(FLAGS.video_frames, FLAGS.video_size, FLAGS.video_sequences, FLAGS.batch,
                        FLAGS.batches, FLAGS.warmup, FLAGS.threads)
        if FLAGS.json:
            print(json.dumps(res))
            return 0
        print(f"{res['sequences']} synthetic sequences x 16 frames of {res['size']}, "
              f"{res['cpus']} CPUs (synthesized in {res['synthesize_s']} s)")
        print(f"write_video_records : {res['write_clips_per_s']} clips/s "
              f"({res['write_clips']} clips, {res['records_mb']} MB)")
        print(f"video_train_dataset : {res['pipeline_clips_per_s']} clips/s "
              f"({res['video_frames']} frames of {res['size']}, batch {res['batch']}, "
              f"cached records, flips/rot90/RGB/time reversal; "
              f"{res['pipeline_cpu_ms_per_clip']} CPU ms per clip)")
        return 0
    res = run(FLAGS.size, FLAGS.scenes, FLAGS.patch, FLAGS.batch, FLAGS.batches, FLAGS.warmup,
              FLAGS.crops_per_scene, FLAGS.workers, FLAGS.threads, FLAGS.patches)
    if FLAGS.json:
        print(json.dumps(res))
        return 0
    print(f"scenes {res['scenes']} x {res['size']}, {res['cpus']} CPUs "
          f"(synthesized in {res['synthesize_s']} s)")
    print(f"make_tfrecord scenes mode : {res['write_scenes_per_s']} scenes/s, "
          f"{res['write_scenes_mb_per_s']} MB/s ({res['records_mb']} MB of records)")
    if "write_patches" in res:
        print(f"make_tfrecord patches mode: {res['write_patches_per_s']} patches/s "
              f"({res['write_patches']} patches 256x256 of one scene, 8-fold augment)")
    print(f"train_dataset             : {res['pipeline_patches_per_s']} patches/s "
          f"({res['patch']}x{res['patch']}, 3 frames, batch {res['batch']}, "
          f"{res['crops_per_scene']} crops per decoded scene)")
    return 0


if __name__ == "__main__":
    app.run(main)
    sys.exit(0)
