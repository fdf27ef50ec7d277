"""Which vector ISA TF's oneDNN will use on this CPU.

It decides how fast convolutions run: without AVX-512 oneDNN runs wide NHWC 3x3 convs as
im2col + gemm, several times slower (docs/benchmarks.md, 2026-12-02), so inference picks
another conv algorithm there (hdrkeras.layers.cpu_inference) and benchmarks record it.
"""

import functools
import os

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


def host_isa(environ=os.environ):
    """{"cpu", "isa", "avx512", "isa_cap", "aten_cap"}: this CPU, the vector ISA oneDNN will
    use, and the caps set for oneDNN and for PyTorch (ATEN_CPU_CAPABILITY, official code)."""
    name, flags = cpu_info()
    cap = environ.get("ONEDNN_MAX_CPU_ISA") or environ.get("DNNL_MAX_CPU_ISA")
    isa = onednn_isa(flags, cap)
    return {"cpu": name, "isa": isa, "avx512": isa.startswith("avx512"), "isa_cap": cap,
            "aten_cap": environ.get("ATEN_CPU_CAPABILITY")}


@functools.lru_cache(maxsize=None)
def has_avx512():
    """Whether oneDNN runs AVX-512 kernels in this process (its cap is read once, at start,
    by oneDNN too)."""
    return host_isa()["avx512"]
