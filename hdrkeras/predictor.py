"""`Predictor`: one callable face for every inference model, whatever produced it.

A Predictor takes (ldr [B,N,H,W,3] gamma LDR in [0,1], exposures [B,N] relative times,
plus any extra inputs the model declares, as keyword arguments) and returns linear HDR
[B,H,W,3] as numpy float32. hdrkeras.inference builds them from SavedModels, `.keras`
files and baselines; methods use `keras_predictor` on the networks they train.
"""

import numpy as np
import tensorflow as tf

from hdrkeras.errors import DataError
from hdrkeras.saving import model_num_frames


class Predictor:
    """Callable (ldr [B,N,H,W,3], exposures [B,N], **extra) -> linear HDR [B,H,W,3] numpy.

    Attributes:
      source: str. Path or method name the predictor came from.
      num_frames: int or None. N the model takes (None: any).
      name: str. Short label for reports (method name, or the path's base name).
      extra_inputs: tuple of str. Names of the inputs beyond ldr and exposures the model
        declares (keyword arguments of the call), e.g. ("sensitivity",).
      method: str or None. The method whose model this is, where known (the automatic
        tiling's memory model is looked up by it). Defaults to None.
    """

    def __init__(self, fn, source, num_frames, name, extra_inputs=(), method=None):
        self._fn = fn
        self.source = source
        self.num_frames = num_frames
        self.name = name
        self.extra_inputs = tuple(extra_inputs)
        self.method = method

    def __call__(self, ldr, exposures, **extra):
        ldr = np.asarray(ldr, dtype=np.float32)
        exposures = np.asarray(exposures, dtype=np.float32)
        if ldr.ndim != 5 or ldr.shape[-1] != 3:
            raise DataError(f"{self.name}: ldr must be [B, N, H, W, 3], got shape {ldr.shape}")
        if exposures.shape != ldr.shape[:2]:
            raise DataError(
                f"{self.name}: exposures shape {exposures.shape} does not match ldr frames "
                f"{ldr.shape[:2]}")
        if self.num_frames is not None and ldr.shape[1] != self.num_frames:
            raise DataError(
                f"{self.name}: model takes {self.num_frames} frames, got {ldr.shape[1]}")
        extra = {k: np.asarray(v, dtype=np.float32) for k, v in extra.items()}
        return np.asarray(self._fn(ldr, exposures, **extra), dtype=np.float32)

    def __repr__(self):
        return f"Predictor({self.name!r}, source={self.source!r}, num_frames={self.num_frames})"


def keras_predictor(model, source, name, xla=False):
    """A `Predictor` around an in-memory Keras model; `xla` compiles it with XLA (on CPU
    the transformers run 1.4-1.6x faster after a one-off compile per input shape)."""
    num_frames = model_num_frames(model)

    @tf.function(reduce_retracing=True, jit_compile=bool(xla))
    def run(inputs):
        return model(inputs, training=False)

    def fn(ldr, exposures, **extra):
        inputs = {"ldr": ldr, "exposures": exposures, **extra}
        return run({k: tf.constant(v) for k, v in inputs.items()}).numpy()

    extra = [t.name for t in model.inputs
             if getattr(t, "name", "") and t.name not in ("ldr", "exposures")]
    predictor = Predictor(fn, source, num_frames, name, extra, method=model.name)
    predictor.keras_model = model  # for methods that stream it (video_inference)
    return predictor
