"""python -m hdrkeras.bench --method NAME --size HxW[,HxW...] [--batch B] [--frames T]
[--threads N] [--runs R] [--warmup W] [--tile T --overlap O | --auto_tile
[--max_memory_gb G]] [--train [--stage S]] [--json]
python -m hdrkeras.bench --method lanhdr --exposures {2,3} [--streaming]
[--official_repo LAN-HDR_CHECKOUT] --size 256x256 --threads 2 --json
python -m hdrkeras.bench --method dealthdr --sensitivity S [--streaming]
[--official_repo DEALTHDR_CHECKOUT] --size 256x256 --threads 2 --json

Prints the model's parameter count, the median time of `--runs` inference calls (or, with
--train, optimiser steps) after `--warmup` untimed ones, and the peak memory of the timed
runs (a video method: per output frame). Every size is measured in its own fresh process
(--isolate, default) so peak memory does not leak between sizes. --json prints one JSON object per line instead.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

flags.DEFINE_string("method", None, "Registered method name.")
flags.DEFINE_string("model", None, "Exported SavedModel / .keras file to time instead of --method.")
flags.DEFINE_list("size", ["256x256"], "Input size(s) HxW, comma-separated.")
flags.DEFINE_integer("batch", 1, "Batch size.")
flags.DEFINE_integer("frames", None, "Frames per sample (default: the method's).")
flags.DEFINE_integer("threads", None, "TF intra- and inter-op threads (default: TF's choice).")
flags.DEFINE_integer("runs", 5, "Timed runs (median reported).")
flags.DEFINE_integer("warmup", 1, "Untimed warm-up runs.")
flags.DEFINE_integer("tile", None, "Tiled full-size inference with this tile size.")
flags.DEFINE_integer("overlap", 32, "Tile overlap.")
flags.DEFINE_bool("auto_tile", False, "Choose the tile as reconstruct.py does by default, "
                  "from --max_memory_gb and the available memory.")
flags.DEFINE_float("max_memory_gb", 4.0, "Memory budget of --auto_tile (GB).")
flags.DEFINE_bool("train", False, "Time a training step instead of inference.")
flags.DEFINE_bool("xla", False, "Compile the inference function with XLA (jit_compile).")
flags.DEFINE_string("stage", None, "Training stage for --train (default: the last).")
flags.DEFINE_float("sensitivity", None, "Value of the model's sensitivity input (DeAltHDR; "
                   "default: the method's, 15).")
flags.DEFINE_bool("json", False, "Print one JSON line per measurement.")
flags.DEFINE_bool("isolate", True, "Measure each size in a fresh subprocess.")
flags.DEFINE_integer("exposures", None, "Exposure levels of a video method (LAN-HDR: 2 or 3).")
flags.DEFINE_bool("streaming", False,
                  "Time a video method's streaming model: median per output frame, with the "
                  "per-frame work shared between consecutive windows.")
flags.DEFINE_string("official_repo", None,
                    "Also time the official PyTorch model from this local checkout in the "
                    "same run (LAN-HDR: haesoochung/LAN-HDR; DeAltHDR: "
                    "Goodenough8216/DeAltHDR), in its own process.")
flags.DEFINE_integer("official_runs", 3, "Timed runs of the official model.")
FLAGS = flags.FLAGS


def official_isolated(height, width):
    """The official model matching --method/--exposures timed by hdrkeras.bench.official in
    a fresh process (torch and TF never share one), right after ours."""
    import subprocess
    import sys

    from hdrkeras.bench.official import OFFICIAL_MODELS
    from hdrkeras.errors import ConfigError, HDRKerasError

    name = FLAGS.method
    if FLAGS.method == "lanhdr":
        name = f"lanhdr_{FLAGS.exposures or 2}e"
    if name not in OFFICIAL_MODELS:
        raise ConfigError(f"--official_repo: no official model known for {FLAGS.method!r}")
    cmd = [sys.executable, "-m", "hdrkeras.bench.official", "--repo", FLAGS.official_repo,
           "--method", name, "--size", f"{height}x{width}", "--runs",
           str(FLAGS.official_runs), "--warmup", str(FLAGS.warmup), "--json"]
    if FLAGS.threads:
        cmd += ["--threads", str(FLAGS.threads)]
    if FLAGS.sensitivity is not None:
        cmd += ["--sensitivity", str(FLAGS.sensitivity)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise HDRKerasError(f"official benchmark failed: {proc.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


def main(argv):
    from hdrkeras.bench.inference import (BenchSpec, format_result, measure,
                                          measure_isolated, parse_size)
    from hdrkeras.errors import ConfigError

    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.method and not FLAGS.model:
        raise ConfigError("give --method NAME (or --model PATH)")
    sizes = [parse_size(s) for s in FLAGS.size]
    for h, w in sizes:
        spec = BenchSpec(method=FLAGS.method, model=FLAGS.model, height=h, width=w,
                         batch=FLAGS.batch, frames=FLAGS.frames, threads=FLAGS.threads,
                         runs=FLAGS.runs, warmup=FLAGS.warmup, tile=FLAGS.tile,
                         overlap=FLAGS.overlap, train=FLAGS.train, stage=FLAGS.stage,
                         xla=FLAGS.xla, auto_tile=FLAGS.auto_tile,
                         max_memory_gb=FLAGS.max_memory_gb, exposures=FLAGS.exposures,
                         sensitivity=FLAGS.sensitivity,
                         streaming=FLAGS.streaming)
        result = measure_isolated(spec) if FLAGS.isolate else measure(spec)
        print(json.dumps(result) if FLAGS.json else format_result(result), flush=True)
        if FLAGS.official_repo:
            result = official_isolated(h, w)
            print(json.dumps(result) if FLAGS.json else format_result(result), flush=True)
    return 0


if __name__ == "__main__":
    from hdrkeras import cli

    cli.run_main(main)
