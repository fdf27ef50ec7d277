"""ReferenceFrameHDR: the `reference_only` baseline's whole model (no merging)."""

import keras
from keras import ops

from hdrkeras.ops import response


@keras.saving.register_keras_serializable(package="hdrkeras")
class ReferenceFrameHDR(keras.layers.Layer):
    """Linearises the reference frame: L_ref**gamma / t_ref.

    Inputs: ldr [B, N, H, W, 3] gamma LDR in [0,1]; exposures [B, N] relative times.
    Output: [B, H, W, 3] linear HDR.

    Args:
      reference: int. Frame index of the reference; None = the middle frame N // 2.
        Defaults to None.
      gamma: float. Camera response exponent. Defaults to 2.2.
    """

    def __init__(self, reference=None, gamma=response.GAMMA, **kwargs):
        super().__init__(**kwargs)
        self.reference = reference
        self.gamma = float(gamma)

    def call(self, ldr, exposures):
        n = ldr.shape[1]
        ref = self.reference if self.reference is not None else n // 2
        t = ops.reshape(exposures[:, ref], (-1, 1, 1, 1))
        return response.ldr_to_hdr(ldr[:, ref], t, gamma=self.gamma)

    def compute_output_shape(self, ldr_shape, exposures_shape):
        return (ldr_shape[0],) + tuple(ldr_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"reference": self.reference, "gamma": self.gamma})
        return config
