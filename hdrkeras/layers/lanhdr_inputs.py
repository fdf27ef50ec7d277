"""LAN-HDR's per-frame network inputs from a window of LDR frames and exposure times."""

import keras
import tensorflow as tf

from hdrkeras.ops.response import GAMMA, ldr_to_hdr, ldr_to_ldr

# Luma of kornia's rgb_to_ycbcr (full range, no offset), on gamma-encoded RGB.
_LUMA = (0.299, 0.587, 0.114)


def luma(rgb):
    """Y = 0.299 R + 0.587 G + 0.114 B of [..., 3] gamma LDR -> [..., 1] (left to right)."""
    return _LUMA[0] * rgb[..., 0:1] + _LUMA[1] * rgb[..., 1:2] + _LUMA[2] * rgb[..., 2:3]


@keras.saving.register_keras_serializable(package="hdrkeras")
class LanHdrInputs(keras.layers.Layer):
    """Builds the three per-frame input lists of the LAN-HDR window model.

    As the official `trainer.prepare_inputs` (test split), with mid = T // 2:
      H_i  = clip(L_i, 0, 1) ** 2.2 / t_i
      Le_i = clip(clip(L_mid, 0, 1) * (t_i / t_mid) ** (1/2.2), 0, 1)   (the reference
             re-exposed to frame i's exposure: the query side of the alignment)
      inputs_i       = [L_i, H_i, Y(L_i)]                  7 channels
      input_ys_i     = [Y(L_i), H_i]                       4 channels (key side)
      input_exp_ys_i = [Y(Le_i), clip(Le_i) ** 2.2 / t_i]  4 channels (query side)
    Y is the luma of the gamma-encoded LDR (`luma`).

    Call args:
      ldr: float32 [B, T, H, W, 3] gamma-encoded LDR in [0, 1], RGB, time order.
      exposures: float32 [B, T] relative exposure times (shortest = 1).

    Returns a dict keyed by the window model's input names ("inputs_i", "input_ys_i",
    "input_exp_ys_i", i = 0..T-1) of float32 NHWC tensors.

    Args:
      gamma: float. Camera gamma. Defaults to 2.2.
    """

    def __init__(self, gamma=GAMMA, **kwargs):
        super().__init__(**kwargs)
        self.gamma = float(gamma)

    def call(self, ldr, exposures):
        ldr = tf.cast(ldr, tf.float32)
        exposures = tf.cast(exposures, tf.float32)
        n = ldr.shape[1]
        if n is None:
            raise ValueError("LanHdrInputs needs a static number of frames (ldr.shape[1])")
        mid = n // 2
        t = exposures[:, :, None, None, None]
        out = {}
        for i in range(n):
            l_i = ldr[:, i]
            h_i = ldr_to_hdr(l_i, t[:, i], self.gamma)
            y_i = luma(l_i)
            le_i = ldr_to_ldr(ldr[:, mid], t[:, mid], t[:, i], self.gamma)
            out[f"inputs_{i}"] = tf.concat([l_i, h_i, y_i], axis=-1)
            out[f"input_ys_{i}"] = tf.concat([y_i, h_i], axis=-1)
            out[f"input_exp_ys_{i}"] = tf.concat(
                [luma(le_i), ldr_to_hdr(le_i, t[:, i], self.gamma)], axis=-1)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma})
        return config
