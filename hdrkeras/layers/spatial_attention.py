"""Spatial attention of AHDRNet: a non-reference frame's features gated by the reference."""

import keras

from hdrkeras.layers.fast_conv2d import FastConv2D


@keras.saving.register_keras_serializable(package="hdrkeras")
class SpatialAttention(keras.layers.Layer):
    """Returns `features * sigmoid(conv2(lrelu(conv1(concat(features, reference)))))`.

    Yan et al., CVPR 2019 (AHDRNet). conv1 is 3x3 with 2*C filters, conv2 is 3x3 with C
    filters, both zero 'same' padding with bias. The gate suppresses regions of a
    non-reference frame that are misaligned or saturated relative to the reference.

    Call args:
      inputs: [features, reference], float32 [B, H, W, C] each (NHWC feature maps).

    Args:
      negative_slope: float. LeakyReLU slope after conv1 (torch's default 0.01 in the
        official code). Defaults to 0.01.
    """

    def __init__(self, negative_slope=0.01, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def build(self, input_shape):
        feat_shape, ref_shape = (tuple(s) for s in input_shape)
        channels = int(feat_shape[-1])
        both = feat_shape[:-1] + (channels + int(ref_shape[-1]),)
        self.conv1 = FastConv2D(
            2 * channels, 3, padding="same", name="conv1", dtype=self.dtype_policy)
        self.conv1.build(both)
        self.conv2 = FastConv2D(
            channels, 3, padding="same", name="conv2", dtype=self.dtype_policy)
        self.conv2.build(feat_shape[:-1] + (2 * channels,))
        self.built = True

    def call(self, inputs):
        features, reference = inputs
        a = self.conv1(keras.ops.concatenate([features, reference], axis=-1))
        a = keras.ops.leaky_relu(a, negative_slope=self.negative_slope)
        return features * keras.ops.sigmoid(self.conv2(a))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"negative_slope": self.negative_slope})
        return config
