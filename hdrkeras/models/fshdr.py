"""FSHDR backbone (Prabhakar et al., "Labeled from Unlabeled", CVPR 2021).

Port of the SelfHDR repository's `models/fshdr.py:FSHDR` (cszhilu1998/SelfHDR@b2ab36c),
layer for layer, so official checkpoints load through `hdrkeras.convert.fshdr`.
"""

import keras

from hdrkeras.layers.fast_conv2d import FastConv2D
from hdrkeras.layers.stacked_dilated_conv import StackedDilatedConv
from hdrkeras.models.contract import FRAME_INPUTS, NetworkConfig

_NFEAT = 64  # hard-coded in the official constructor
_SLOPE = 0.2  # LeakyReLU slope of relu1..relu15 (0.3 inside SDC)


@keras.saving.register_keras_serializable(package="hdrkeras")
class FSHDR(NetworkConfig, keras.Model):
    """Three-stream merge with pairwise fusion branches and stacked dilated convs.

    Inputs: a dict (the contract of hdrkeras.models), each float32 [B, H, W, nChannel]
    NHWC, RGB:
      x1: short (non-reference) frame, x2: reference (middle) frame, x3: long frame;
      channels 0:3 = H_i = L_i**2.2 / t_i (linear HDR domain), 3:6 = L_i (gamma LDR in
      [0,1]).
    Output: float32 [B, H, W, 3], sigmoid HDR in [0,1] (linear domain).

    Fully convolutional with 'same' padding: any H and W.

    Args:
      nChannel: int. channels per input frame. Defaults to 6.
    """

    def __init__(self, nChannel=6, **kwargs):
        n = _NFEAT

        def conv(name, filters=n):
            return FastConv2D(filters, 3, padding="same", name=name)

        def block(i, x):
            """conv{i} -> LeakyReLU(0.2)."""
            return keras.layers.LeakyReLU(_SLOPE, name=f"relu{i}")(conv(f"conv{i}")(x))

        def cat(name, xs):
            return keras.layers.Concatenate(name=name)(xs)

        # === Functional model ===
        inputs = {k: keras.Input(shape=(None, None, nChannel), name=k) for k in FRAME_INPUTS}
        x1, x2, x3 = (block(i, inputs[k]) for i, k in zip((1, 2, 3), FRAME_INPUTS))
        s1 = block(4, cat("cat_s1_a", [x1, x2]))
        s2 = block(5, cat("cat_s2_a", [x2, x3]))
        x1, x2, x3 = block(6, x1), block(7, x2), block(8, x3)
        s1 = block(9, cat("cat_s1_b", [x1, x2, s1]))
        s2 = block(10, cat("cat_s2_b", [x2, x3, s2]))
        x1, x2, x3 = block(11, x1), block(12, x2), block(13, x3)
        s1 = block(14, cat("cat_s1_c", [x1, x2, s1]))
        s2 = block(15, cat("cat_s2_c", [x2, x3, s2]))
        x = cat("cat_fused", [x2, s1, s2])
        d1 = StackedDilatedConv(n, 0.3, name="sdc1")(x)
        d2 = StackedDilatedConv(n, 0.3, name="sdc2")(cat("cat_sdc1", [x, d1]))
        out = conv("conv16", 3)(cat("cat_sdc2", [x, d1, d2]))
        hdr = keras.layers.Activation("sigmoid", name="hdr")(out)
        super().__init__(inputs=inputs, outputs=hdr, **kwargs)

        # === Config ===
        self.set_config(
            nChannel=nChannel)
