"""HatWeightedMerge: the `classical_merge` baseline's Debevec-style merge (no deghosting)."""

import keras
from keras import ops

from hdrkeras.ops import _backend, response
from hdrkeras.ops.weights import triangle_weight

# Weight given to the fall-back frame (shortest where bright, longest where dark); small
# enough to be irrelevant wherever any frame is well exposed.
FALLBACK_WEIGHT = 1e-4


def hat_weight(ldr):
    """Triangle weight 1 - |2L - 1| of gamma LDR values clipped to [0,1]: 1 at mid-grey, 0 at
    0 and 1 (hdrkeras.ops.weights.triangle_weight; numpy in, numpy out, tensor in, tensor
    out)."""
    xp, (x,) = _backend.prepare(ldr)
    return triangle_weight(xp.clip(x, 0.0, 1.0))


def _split_exposures(exposures):
    """[B, N] -> [B, N, 1, 1, 1] so it broadcasts over [B, N, H, W, 3]."""
    return ops.reshape(exposures, (ops.shape(exposures)[0], ops.shape(exposures)[1], 1, 1, 1))


@keras.saving.register_keras_serializable(package="hdrkeras")
class HatWeightedMerge(keras.layers.Layer):
    """Debevec-style merge: sum_i w(L_i) H_i / sum_i w(L_i), per pixel and channel.

    w is the hat weight 1 - |2L - 1|. The shortest frame also gets FALLBACK_WEIGHT where
    its value is above 0.5 and the longest where its value is at most 0.5, so a pixel
    saturated in every frame takes the shortest frame's radiance and one dark in every
    frame the longest's (instead of 0/0); a pixel no frame covers takes the reference.

    Inputs: ldr [B, N, H, W, 3] gamma LDR in [0,1], increasing exposure; exposures [B, N].
    Output: [B, H, W, 3] linear HDR.

    Args:
      gamma: float. Camera response exponent. Defaults to 2.2.
    """

    def __init__(self, gamma=response.GAMMA, **kwargs):
        super().__init__(**kwargs)
        self.gamma = float(gamma)

    def call(self, ldr, exposures):
        n = ldr.shape[1]
        hdr = response.ldr_to_hdr(ldr, _split_exposures(exposures), gamma=self.gamma)
        w = hat_weight(ldr)
        first = ops.cast(ldr[:, :1] > 0.5, ldr.dtype) * FALLBACK_WEIGHT
        last = ops.cast(ldr[:, -1:] <= 0.5, ldr.dtype) * FALLBACK_WEIGHT
        if n == 1:
            fallback = first + last
        else:
            zeros = ops.zeros_like(ldr[:, 1:-1])
            fallback = ops.concatenate([first, zeros, last], axis=1)
        w = w + fallback
        # Black in the short frame yet saturated in the long one (motion does that): no
        # frame has weight, so the reference frame stands in.
        total = ops.sum(w, axis=1)
        merged = ops.sum(w * hdr, axis=1) / ops.maximum(total, 1e-12)
        return ops.where(total > 0.0, merged, hdr[:, n // 2])

    def compute_output_shape(self, ldr_shape, exposures_shape):
        return (ldr_shape[0],) + tuple(ldr_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma})
        return config
