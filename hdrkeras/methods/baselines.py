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

from hdrkeras.errors import ConfigError
from hdrkeras.layers.hat_weighted_merge import HatWeightedMerge
from hdrkeras.layers.reference_frame_hdr import ReferenceFrameHDR
from hdrkeras.methods.base import Method, register



def _inputs(num_frames):
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ConfigError(f"num_frames must be a positive integer, got {num_frames!r}")
    ldr = keras.Input(shape=(num_frames, None, None, 3), name="ldr", dtype="float32")
    exposures = keras.Input(shape=(num_frames,), name="exposures", dtype="float32")
    return {"ldr": ldr, "exposures": exposures}


class _Baseline(Method):
    stages = ()

    def _num_frames(self, config):
        return int((config or {}).get("num_frames", self.num_frames))


@register
class ReferenceOnly(_Baseline):
    """HDR = reference frame linearised (no merging)."""

    name = "reference_only"

    def build_inference_model(self, config=None):
        inputs = _inputs(self._num_frames(config))
        hdr = ReferenceFrameHDR(name="reference_hdr")(inputs["ldr"], inputs["exposures"])
        return keras.Model(inputs=inputs, outputs=hdr, name="reference_only")


@register
class ClassicalMerge(_Baseline):
    """Hat-weighted average of all linearised frames (Debevec & Malik 1997), no deghosting."""

    name = "classical_merge"

    def build_inference_model(self, config=None):
        inputs = _inputs(self._num_frames(config))
        hdr = HatWeightedMerge(name="hat_merge")(inputs["ldr"], inputs["exposures"])
        return keras.Model(inputs=inputs, outputs=hdr, name="classical_merge")
