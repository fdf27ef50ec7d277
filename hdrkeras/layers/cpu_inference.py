"""How the window-attention layers run at inference on CPU.

Decided at trace time: on CPU, inference loops over rows of windows (cache-resident
logits) and, inside a tf.function, runs each block as XLA-compiled calls (a Swin block's
rows in `inference_parts()` concurrent parts). Exports that must run without XLA trace
under `portable_graphs()`.
"""

import contextlib
import os
import threading

import tensorflow as tf


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
