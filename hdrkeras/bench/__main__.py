"""python -m hdrkeras.bench --method NAME --size HxW[,HxW...] [--batch B] [--frames T]
[--threads N] [--runs R] [--warmup W] [--tile T --overlap O] [--train [--stage S]]
[--sensitivity S] [--streaming] [--json]

Prints the model's parameter count, the median time of `--runs` inference calls (or, with
--train, optimiser steps) after `--warmup` untimed ones, and the peak memory of the timed
runs. Every size is measured in its own fresh process (--isolate, default) so peak memory
does not leak between sizes. --json prints one JSON object per line instead.
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
flags.DEFINE_bool("train", False, "Time a training step instead of inference.")
flags.DEFINE_bool("xla", False, "Compile the inference function with XLA (jit_compile).")
flags.DEFINE_string("stage", None, "Training stage for --train (default: the last).")
flags.DEFINE_float("sensitivity", None, "Value of the model's sensitivity input (DeAltHDR; "
                   "default: the method's, 15).")
flags.DEFINE_bool("streaming", False, "Time the method's streaming model per output frame "
                  "(per-frame and per-pair work reused between windows).")
flags.DEFINE_bool("json", False, "Print one JSON line per measurement.")
flags.DEFINE_bool("isolate", True, "Measure each size in a fresh subprocess.")
FLAGS = flags.FLAGS


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
                         xla=FLAGS.xla, sensitivity=FLAGS.sensitivity,
                         streaming=FLAGS.streaming)
        result = measure_isolated(spec) if FLAGS.isolate else measure(spec)
        print(json.dumps(result) if FLAGS.json else format_result(result), flush=True)
    return 0


if __name__ == "__main__":
    from hdrkeras import cli

    cli.run_main(main)
