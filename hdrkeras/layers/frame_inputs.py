"""FrameInputs: raw exposure stack -> the per-frame network inputs every method uses."""

import keras
import tensorflow as tf

from hdrkeras.ops.response import GAMMA, ldr_to_hdr

LAYOUTS = ("hdr_ldr", "esbn")


@keras.saving.register_keras_serializable(package="hdrkeras")
class FrameInputs(keras.layers.Layer):
    """Splits an exposure stack into per-frame 6-channel tensors.

    All five papers feed each frame as its LDR value L and its HDR-domain value
    H = L**gamma / t; they differ only in order and range:
      "hdr_ldr": concat([H, L])               (AHDRNet, FSHDR, HDR-Transformer, SCTNet)
      "esbn":    concat([2L - 1, 2H - 1])     (ESBN, both in its [-1, 1] convention)

    Args:
      layout: str. One of "hdr_ldr", "esbn". Defaults to "hdr_ldr".
      gamma: float. Camera response exponent. Defaults to 2.2.
      relative_to: int or None. Divide the exposures by frame `relative_to`'s first, i.e.
        express them relative to that frame (ESBN's official pipeline reads Kalantari's
        EVs as biases around the reference). None uses them as given (shortest = 1, our
        convention). Defaults to None.

    Call args:
      ldr: float32 [B, N, H, W, 3], gamma-encoded LDR in [0, 1].
      exposures: float32 [B, N], relative exposure times (shortest = 1).

    Returns:
      list of N float32 [B, H, W, 6] tensors, in frame order.
    """

    def __init__(self, layout="hdr_ldr", gamma=GAMMA, relative_to=None, **kwargs):
        super().__init__(**kwargs)
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}; received {layout!r}")
        self.layout = layout
        self.gamma = float(gamma)
        self.relative_to = None if relative_to is None else int(relative_to)

    def call(self, ldr, exposures):
        ldr = tf.clip_by_value(tf.cast(ldr, self.compute_dtype), 0.0, 1.0)
        exposures = tf.cast(exposures, self.compute_dtype)
        if self.relative_to is not None:
            exposures = exposures / exposures[:, self.relative_to:self.relative_to + 1]
        frames = []
        for i in range(ldr.shape[1]):
            l_i = ldr[:, i]
            h_i = ldr_to_hdr(l_i, exposures[:, i, None, None, None], gamma=self.gamma)
            if self.layout == "esbn":
                frames.append(tf.concat([l_i * 2.0 - 1.0, h_i * 2.0 - 1.0], axis=-1))
            else:
                frames.append(tf.concat([h_i, l_i], axis=-1))
        return frames

    def compute_output_shape(self, ldr_shape, exposures_shape):
        b, n, h, w, _ = ldr_shape
        return [(b, h, w, 6)] * n

    def get_config(self):
        config = super().get_config()
        config.update({"layout": self.layout, "gamma": self.gamma,
                       "relative_to": self.relative_to})
        return config
