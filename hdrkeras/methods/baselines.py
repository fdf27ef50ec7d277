"""Zero-training baselines printed beside every learned result.

`reference_only`: the reference (middle) frame linearised, HDR = L_ref**2.2 / t_ref. It
shows what a method gains over doing nothing: saturated areas stay clipped at 1 / t_ref.

`classical_merge`: a Debevec-style weighted average of the linearised frames
H_i = L_i**2.2 / t_i with a hat weight on the LDR value that trusts mid-tones. No
deghosting: moving objects ghost. Pixels saturated in every frame come from the shortest
frame, pixels dark in every frame from the longest.

Both are plain Keras graphs with the standard inference signature (see
hdrkeras.methods.base), pointwise, so any H and W work and tiling is exact.
"""

import keras
from keras import ops

from hdrkeras import methods
from hdrkeras.errors import ConfigError
from hdrkeras.methods.base import Method
from hdrkeras.ops import response

# Weight given to the fall-back frame (shortest where bright, longest where dark); small
# enough to be irrelevant wherever any frame is well exposed.
FALLBACK_WEIGHT = 1e-4


def hat_weight(ldr):
    """Triangle weight 1 - |2L - 1| of gamma LDR values in [0,1]: 1 at mid-grey, 0 at 0 and 1."""
    return 1.0 - ops.abs(2.0 * ops.clip(ldr, 0.0, 1.0) - 1.0)


def _split_exposures(exposures):
    """[B, N] -> [B, N, 1, 1, 1] so it broadcasts over [B, N, H, W, 3]."""
    return ops.reshape(exposures, (ops.shape(exposures)[0], ops.shape(exposures)[1], 1, 1, 1))


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


def _inputs(num_frames):
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ConfigError(f"num_frames must be a positive integer, got {num_frames!r}")
    ldr = keras.Input(shape=(num_frames, None, None, 3), name="ldr", dtype="float32")
    exposures = keras.Input(shape=(num_frames,), name="exposures", dtype="float32")
    return {"ldr": ldr, "exposures": exposures}


class _Baseline(Method):
    stages = ()
    requires_ground_truth = False
    size_multiple = 1

    def preprocess(self, ldr, exposures):
        """Linear frames H_i = L_i**2.2 / t_i, [B, N, H, W, 3]."""
        return response.ldr_to_hdr(ldr, _split_exposures(exposures))

    def _num_frames(self, config):
        return int((config or {}).get("num_frames", self.num_frames))


@methods.register
class ReferenceOnly(_Baseline):
    """HDR = reference frame linearised (no merging)."""

    name = "reference_only"

    def build_inference_model(self, config=None):
        inputs = _inputs(self._num_frames(config))
        hdr = ReferenceFrameHDR(name="reference_hdr")(inputs["ldr"], inputs["exposures"])
        return keras.Model(inputs=inputs, outputs=hdr, name="reference_only")


@methods.register
class ClassicalMerge(_Baseline):
    """Hat-weighted average of all linearised frames (Debevec & Malik 1997), no deghosting."""

    name = "classical_merge"

    def build_inference_model(self, config=None):
        inputs = _inputs(self._num_frames(config))
        hdr = HatWeightedMerge(name="hat_merge")(inputs["ldr"], inputs["exposures"])
        return keras.Model(inputs=inputs, outputs=hdr, name="classical_merge")
