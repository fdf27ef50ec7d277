"""python -m hdrkeras.bench.host [--threads N] [--size S] [--runs R] [--json]

The host's dense float32 matmul rate (an S x S by S x S `tf.matmul`, median of R), taken
before and after a benchmark session, with the CPU model and the vector ISA oneDNN will
use. This machine kind is shared: its speed drifts over a day, so a session's figures are
quoted with the rate that bracketed them and compared only within the session. The ISA
matters more than the rate: without AVX-512 oneDNN runs wide 3x3 convolutions as im2col +
gemm, several times slower (docs/benchmarks.md, 2026-12-02).
"""

import json
import os
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


# oneDNN's CPU ISA levels that matter here, lowest first, and the /proc/cpuinfo flags each
# needs (avx512_core: the AVX-512 subsets oneDNN's avx512_core kernels use).
ISA_LEVELS = (("sse41", ("sse4_1",)), ("avx", ("avx",)), ("avx2", ("avx2", "fma")),
              ("avx512_core", ("avx512f", "avx512bw", "avx512vl", "avx512dq")))


def cpu_info(path="/proc/cpuinfo"):
    """(CPU model name, set of flags) of the first processor in `path`; ("unknown", set())
    where it cannot be read (not Linux)."""
    name, flags = "unknown", set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and name == "unknown":
                    name = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
                if name != "unknown" and flags:
                    break
    except OSError:
        pass
    return name, flags


def onednn_isa(flags, max_isa=None):
    """The highest ISA level of ISA_LEVELS the CPU `flags` support, capped by `max_isa`
    (the value of ONEDNN_MAX_CPU_ISA, e.g. "AVX2"; None, "ALL" or "DEFAULT" cap nothing;
    a level oneDNN knows but ISA_LEVELS does not, e.g. AVX2_VNNI, caps at its prefix)."""
    names = [name for name, _ in ISA_LEVELS]
    level = -1
    for index, (_, needed) in enumerate(ISA_LEVELS):
        if all(flag in flags for flag in needed):
            level = index
    cap = (max_isa or "").strip().lower()
    if cap and cap not in ("all", "default"):
        known = [i for i, name in enumerate(names) if cap.startswith(name)]
        if known:
            level = min(level, max(known))
    return names[level] if level >= 0 else "none"


def host_isa():
    """{"cpu", "isa", "avx512", "isa_cap", "aten_cap"}: this CPU, the vector ISA oneDNN will
    use, and the caps set for oneDNN and for PyTorch (ATEN_CPU_CAPABILITY, official code)."""
    name, flags = cpu_info()
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    isa = onednn_isa(flags, cap)
    return {"cpu": name, "isa": isa, "avx512": isa.startswith("avx512"), "isa_cap": cap,
            "aten_cap": os.environ.get("ATEN_CPU_CAPABILITY")}


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
