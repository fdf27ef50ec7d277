"""LAN-HDR's per-frame network inputs from a window of LDR frames and exposure times."""

import keras
import tensorflow as tf

from hdrkeras.ops.response import GAMMA, ldr_to_hdr, ldr_to_ldr

# Luma of kornia's rgb_to_ycbcr (full range, no offset), on gamma-encoded RGB.
_LUMA = (0.299, 0.587, 0.114)


def luma(rgb):
    """Y = 0.299 R + 0.587 G + 0.114 B of [..., 3] gamma LDR -> [..., 1] (left to right)."""
    return _LUMA[0] * rgb[..., 0:1] + _LUMA[1] * rgb[..., 1:2] + _LUMA[2] * rgb[..., 2:3]


def frame_inputs(ldr_i, t_i, gamma=GAMMA):
    """One frame's own inputs (they depend on nothing else, so streaming computes them
    once per frame): ldr_i [B,H,W,3] gamma LDR, t_i broadcastable ([B,1,1,1]) ->
    (inputs_i [B,H,W,7] = [L, H, Y], input_ys_i [B,H,W,4] = [Y, H])."""
    h_i = ldr_to_hdr(ldr_i, t_i, gamma)
    y_i = luma(ldr_i)
    return tf.concat([ldr_i, h_i, y_i], axis=-1), tf.concat([y_i, h_i], axis=-1)


def query_inputs(ldr_ref, t_ref, t_i, gamma=GAMMA):
    """input_exp_ys_i [B,H,W,4]: the reference re-exposed to t_i (query side; depends on
    the reference and t_i only)."""
    le_i = ldr_to_ldr(ldr_ref, t_ref, t_i, gamma)
    return tf.concat([luma(le_i), ldr_to_hdr(le_i, t_i, gamma)], axis=-1)


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
            out[f"inputs_{i}"], out[f"input_ys_{i}"] = frame_inputs(ldr[:, i], t[:, i],
                                                                    self.gamma)
            out[f"input_exp_ys_{i}"] = query_inputs(ldr[:, mid], t[:, mid], t[:, i],
                                                    self.gamma)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma})
        return config
