"""FSHDR's SDC block: three parallel 3x3 convs with dilations 1, 2, 3, concatenated."""

import keras

from hdrkeras.layers.fast_conv2d import FastConv2D


@keras.saving.register_keras_serializable(package="hdrkeras")
class StackedDilatedConv(keras.layers.Layer):
    """concat(lrelu(conv_d1(x)), lrelu(conv_d2(x)), lrelu(conv_d3(x))) -> 3*filters channels.

    Prabhakar et al., "Labeled from Unlabeled: Exploiting Unlabeled Data for Few-shot Deep
    HDR Deghosting", CVPR 2021 (FSHDR). Parallel dilations widen the receptive field
    without downsampling. Each conv is 3x3, zero padding equal to its dilation, with bias.

    Input: float32 [B, H, W, C] (NHWC feature maps). Output: [B, H, W, 3 * filters].

    Args:
      filters: int. filters of each of the three convs. Defaults to 64.
      negative_slope: float. LeakyReLU slope (0.3 in the official code). Defaults to 0.3.
    """

    def __init__(self, filters=64, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.negative_slope = float(negative_slope)

    def build(self, input_shape):
        self.convs = []
        for d in (1, 2, 3):
            conv = FastConv2D(
                self.filters, 3, padding="same", dilation_rate=d, name=f"conv{d}",
                dtype=self.dtype_policy)
            conv.build(input_shape)
            self.convs.append(conv)
        self.built = True

    def call(self, x):
        return keras.ops.concatenate(
            [keras.ops.leaky_relu(conv(x), negative_slope=self.negative_slope)
             for conv in self.convs], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (3 * self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "negative_slope": self.negative_slope})
        return config
