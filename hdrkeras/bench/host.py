"""python -m hdrkeras.bench.host [--threads N] [--size S] [--runs R] [--json]

The host's dense float32 matmul rate (an S x S by S x S `tf.matmul`, median of R), taken
before and after a benchmark session. This machine kind is shared: its speed drifts over
a day, so a session's figures are quoted with the rate that bracketed them and compared
only within the session.
"""

import json
import time

import numpy as np

from hdrkeras.bench.inference import set_threads
from hdrkeras.errors import ConfigError


def matmul_gflops(size=2048, runs=5, threads=None):
    """Median GFLOP/s of `runs` float32 [size, size] matmuls after one warm-up."""
    if size < 1 or runs < 1:
        raise ConfigError(f"--size and --runs must be >= 1, got {size}, {runs}")
    set_threads(threads)
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a, b = (tf.constant(rng.standard_normal((size, size), dtype=np.float32)) for _ in "ab")
    tf.matmul(a, b).numpy()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        tf.matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2.0 * size ** 3 / float(np.median(times)) / 1e9


def main(argv):
    from absl import flags

    f = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    rate = matmul_gflops(f.size, f.runs, f.threads)
    result = {"matmul_size": f.size, "threads": f.threads, "runs": f.runs,
              "gflops": round(rate, 1), "time": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                              time.gmtime())}
    print(json.dumps(result) if f.json else
          f"host matmul {f.size}^2 float32, threads {f.threads or 'default'}: "
          f"{rate:.1f} GFLOP/s ({result['time']})", flush=True)
    return 0


if __name__ == "__main__":
    from absl import flags

    flags.DEFINE_integer("threads", None, "TF intra- and inter-op threads.")
    flags.DEFINE_integer("size", 2048, "Matrix side.")
    flags.DEFINE_integer("runs", 5, "Timed matmuls (median reported).")
    flags.DEFINE_bool("json", False, "Print one JSON line.")
    from hdrkeras import cli

    cli.run_main(main)
