"""AHDRNet: attention-guided deghosting network (Yan et al., CVPR 2019).

Port of the SelfHDR repository's `models/ahdrnet.py:AHDR` (cszhilu1998/SelfHDR@b2ab36c),
layer for layer: same convs, paddings, dilations, biases and activations, so official
checkpoints load through `hdrkeras.convert.ahdrnet`.
"""

import keras

from hdrkeras.layers.dilated_residual_dense_block import DilatedResidualDenseBlock
from hdrkeras.layers.fast_conv2d import FastConv2D
from hdrkeras.layers.spatial_attention import SpatialAttention
from hdrkeras.models.contract import FRAME_INPUTS, NetworkConfig

# torch.nn.LeakyReLU() default slope used after conv1 and inside the attention modules.
_LRELU_SLOPE = 0.01


def _conv(filters, kernel, name):
    return FastConv2D(filters, kernel, padding="same", name=name)


@keras.saving.register_keras_serializable(package="hdrkeras")
class AHDRNet(NetworkConfig, keras.Model):
    """Attention-guided merge of three exposures into one HDR image.

    Inputs: a dict (the contract of hdrkeras.models), each float32 [B, H, W, nChannel]
    NHWC, RGB:
      x1: short (non-reference) frame, x2: reference (middle) frame, x3: long frame;
      channels 0:3 = H_i = L_i**2.2 / t_i (linear HDR domain), 3:6 = L_i (gamma LDR in
      [0,1]).
    Output: float32 [B, H, W, 3], sigmoid HDR in [0,1] (linear domain; the network is
      trained through the mu-law tonemap).

    Fully convolutional with 'same' padding: any H and W.

    Args:
      nChannel: int. channels per input frame. Defaults to 6.
      nDenselayer: int. dense layers per DRDB. Defaults to 5.
      nFeat: int. feature width. Defaults to 64.
      growthRate: int. growth rate of the dense layers. Defaults to 32.
    """

    def __init__(self, nChannel=6, nDenselayer=5, nFeat=64, growthRate=32, **kwargs):
        # === Layers ===
        conv1 = _conv(nFeat, 3, "conv1")  # shared by the three frames
        att1 = SpatialAttention(_LRELU_SLOPE, name="att1")
        att3 = SpatialAttention(_LRELU_SLOPE, name="att3")
        conv2 = _conv(nFeat, 3, "conv2")
        rdbs = [DilatedResidualDenseBlock(nDenselayer, growthRate, name=f"RDB{i}")
                for i in (1, 2, 3)]
        gff_1x1 = _conv(nFeat, 1, "GFF_1x1")
        gff_3x3 = _conv(nFeat, 3, "GFF_3x3")
        conv_up = _conv(nFeat, 3, "conv_up")
        conv3 = _conv(3, 3, "conv3")

        # === Functional model ===
        inputs = {n: keras.Input(shape=(None, None, nChannel), name=n) for n in FRAME_INPUTS}
        f1, f2, f3 = (keras.layers.LeakyReLU(_LRELU_SLOPE, name=f"lrelu{i}")(conv1(inputs[n]))
                      for i, n in zip((1, 2, 3), FRAME_INPUTS))
        f1 = att1([f1, f2])
        f3 = att3([f3, f2])
        f = conv2(keras.layers.Concatenate(name="cat_frames")([f1, f2, f3]))
        outs = []
        for rdb in rdbs:
            f = rdb(f)
            outs.append(f)
        ff = gff_3x3(gff_1x1(keras.layers.Concatenate(name="cat_rdb")(outs)))
        ff = keras.layers.Add(name="global_residual")([ff, f2])
        hdr = keras.layers.Activation("sigmoid", name="hdr")(conv3(conv_up(ff)))
        super().__init__(inputs=inputs, outputs=hdr, **kwargs)

        # === Config ===
        self.set_config(
            nChannel=nChannel, nDenselayer=nDenselayer, nFeat=nFeat, growthRate=growthRate)
