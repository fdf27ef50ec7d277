"""How the window-attention layers and 3x3 convs run at inference on CPU.

Decided at trace time: on CPU, inference loops over rows of windows (cache-resident
logits) and, inside a tf.function, runs each block as XLA-compiled calls (a Swin block's
rows in `inference_parts()` concurrent parts); on a CPU without AVX-512, wide 3x3 convs
run as XLA-compiled Winograd (`use_winograd`). Exports that must run without XLA trace
under `portable_graphs()`.
"""

import contextlib
import os
import threading

import tensorflow as tf

from hdrkeras.cpu_isa import has_avx512
from hdrkeras.errors import ConfigError


def use_band_loop(training):
    """Whether to run window attention one row of windows at a time.

    On CPU at inference the attention logits of a whole image (e.g. 25M floats per
    block at 256x256) do not fit in cache; looping over rows of windows keeps each
    row's logits cache-resident and halves the block time. Training (dropout, drop
    path per sample) and GPUs use the single vectorised pass.
    """
    return not training and not tf.config.list_logical_devices("GPU")


def use_compiled_inference(training):
    """Whether to run a layer's CPU inference forward as one XLA cluster.

    Only inside a tf.function: XLA fuses the elementwise chains (logit bias/mask add
    into the softmax, LayerNorm, GELU) that graph mode runs as separate passes with
    per-op overhead. Eager calls keep the plain graph ops: each new input size would
    otherwise pay a compile per layer.
    """
    return (use_band_loop(training) and tf.inside_function()
            and not getattr(_portable, "active", False))


_portable = threading.local()


@contextlib.contextmanager
def portable_graphs():
    """Trace without the XLA-only inference functions of `use_compiled_inference`.

    A SavedModel exported without --xla must run where XLA is absent (TF Serving
    builds, TFLite converters), so export traces its serving function inside this.
    """
    previous = getattr(_portable, "active", False)
    _portable.active = True
    try:
        yield
    finally:
        _portable.active = previous


@tf.function(jit_compile=True, reduce_retracing=True)
def compiled_inference(layer, method, *args):
    """`getattr(layer, method)(*args)` compiled with XLA (one trace per layer and method).

    Inside a model that is itself jit-compiled this is simply inlined.
    """
    return getattr(layer, method)(*args)


# Upper bound on `inference_parts` (graph size grows with it; rows are few).
MAX_INFERENCE_PARTS = 8


def inference_parts():
    """How many independent compiled calls to split row loops into: TF's inter-op
    thread count (or the CPU count when TF chooses), at most MAX_INFERENCE_PARTS."""
    threads = tf.config.threading.get_inter_op_parallelism_threads()
    return max(1, min(MAX_INFERENCE_PARTS, threads or os.cpu_count() or 1))


# HDRKERAS_WINOGRAD: "auto" (default: on CPUs without AVX-512, at compiled inference),
# "1" (always for eligible convs, training excepted; tests, benchmarks), "0" (never).
WINOGRAD_VAR = "HDRKERAS_WINOGRAD"
# Narrower inputs leave the tile transforms, not the matmuls, as the cost.
WINOGRAD_MIN_CHANNELS = 32


def winograd_setting(environ=os.environ):
    """HDRKERAS_WINOGRAD as "auto", "1" or "0"."""
    value = environ.get(WINOGRAD_VAR, "auto").strip().lower() or "auto"
    if value not in ("auto", "1", "0"):
        raise ConfigError(f"{WINOGRAD_VAR} must be auto, 1 or 0, got {value!r}")
    return value


def use_winograd(training, in_channels):
    """Whether a stride-1, dilation-1 3x3 'SAME' conv with `in_channels` inputs runs as
    Winograd F(2x2, 3x3) (hdrkeras.ops.winograd) instead of tf.nn.conv2d.

    Without AVX-512, oneDNN runs such convs as im2col + gemm: 384->64 at 256x256 takes
    4-10x its AVX-512 time, and Winograd under XLA is the fastest of oneDNN, XLA's conv
    and Winograd there; with AVX-512 oneDNN's direct conv is at least as fast
    (docs/benchmarks.md, 2026-12-02). Training keeps tf.nn.conv2d.
    """
    setting = winograd_setting()
    if setting == "0" or training or in_channels < WINOGRAD_MIN_CHANNELS:
        return False
    if setting == "1":
        return True
    return use_compiled_inference(training) and not has_avx512()


def winograd_at_inference():
    """Whether this host's compiled CPU inference runs eligible convs as Winograd (what
    `use_winograd` decides for them); the tools' memory models depend on it."""
    setting = winograd_setting()
    if setting != "auto":
        return setting == "1"
    return not has_avx512() and not tf.config.list_logical_devices("GPU")


def winograd_needs_xla():
    """Whether the Winograd conv may be XLA-compiled (not under `portable_graphs()`)."""
    return not getattr(_portable, "active", False)
