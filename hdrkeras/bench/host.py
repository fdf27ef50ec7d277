"""python -m hdrkeras.bench.host [--threads N] [--size S] [--runs R] [--json]

The host's dense float32 matmul rate (an S x S by S x S `tf.matmul`, median of R), taken
before and after a benchmark session, with the CPU model and the vector ISA oneDNN will
use. This machine kind is shared: its speed drifts over a day, so a session's figures are
quoted with the rate that bracketed them and compared only within the session. The ISA
matters more than the rate: without AVX-512 oneDNN runs wide 3x3 convolutions as im2col +
gemm, several times slower (docs/benchmarks.md, 2026-12-02).
"""

import json
import time

import numpy as np

from hdrkeras.bench.inference import set_threads
from hdrkeras.cpu_isa import host_isa
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


def describe(record):
    """One phrase for a host record: CPU, ISA and whether it was capped."""
    cap = f", capped by ONEDNN_MAX_CPU_ISA={record['isa_cap']}" if record.get("isa_cap") else ""
    if record.get("aten_cap"):
        cap += f", ATEN_CPU_CAPABILITY={record['aten_cap']}"
    return f"{record.get('cpu', 'unknown CPU')}, oneDNN ISA {record.get('isa', 'unknown')}{cap}"


def main(argv):
    from absl import flags

    f = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    rate = matmul_gflops(f.size, f.runs, f.threads)
    result = {"matmul_size": f.size, "threads": f.threads, "runs": f.runs,
              "gflops": round(rate, 1), "time": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                              time.gmtime()),
              **host_isa()}
    print(json.dumps(result) if f.json else
          f"host matmul {f.size}^2 float32, threads {f.threads or 'default'}: "
          f"{rate:.1f} GFLOP/s ({result['time']}); {describe(result)}", flush=True)
    return 0


if __name__ == "__main__":
    from absl import flags

    flags.DEFINE_integer("threads", None, "TF intra- and inter-op threads.")
    flags.DEFINE_integer("size", 2048, "Matrix side.")
    flags.DEFINE_integer("runs", 5, "Timed matmuls (median reported).")
    flags.DEFINE_bool("json", False, "Print one JSON line.")
    from hdrkeras import cli

    cli.run_main(main)
