"""DeAltHDR's 'ReducedAttn': a NAFNet-like convolutional token mixer."""

import keras
import tensorflow as tf

from hdrkeras.layers.channel_attention import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class ReducedAttention(keras.layers.Layer):
    """1x1 (C -> 2C) -> depthwise 3x3 -> exact GELU -> 1x1 (2C -> C), times beta [C].

    No SimpleGate and no channel attention, unlike NAFNet; all three convs have a bias
    (DeAltHDR hard-codes it). beta starts at 0, so a fresh block is the identity.

    Call args:
      x: float [B, H, W, C] NHWC features (already layer-normalised).

    Returns float [B, H, W, C].

    Args:
      expansion: float. Hidden width / C (DW_Expand). Defaults to 2.0.
    """

    def __init__(self, expansion=2.0, **kwargs):
        super().__init__(**kwargs)
        self.expansion = float(expansion)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        hidden = int(dim * self.expansion)
        kw = dict(use_bias=True, dtype=self.dtype_policy)
        hidden_shape = tuple(input_shape[:-1]) + (hidden,)
        self.conv1 = keras.layers.Conv2D(hidden, 1, kernel_initializer=TORCH_CONV_INIT,
                                         name="conv1", **kw)
        self.conv1.build(input_shape)
        self.conv2 = keras.layers.DepthwiseConv2D(
            3, padding="same", depthwise_initializer=TORCH_CONV_INIT, name="conv2", **kw)
        self.conv2.build(hidden_shape)
        self.conv3 = keras.layers.Conv2D(dim, 1, kernel_initializer=TORCH_CONV_INIT,
                                         name="conv3", **kw)
        self.conv3.build(hidden_shape)
        self.beta = self.add_weight(name="beta", shape=(dim,), initializer="zeros")
        self.built = True

    def call(self, x):
        x = tf.nn.gelu(self.conv2(self.conv1(x)), approximate=False)
        return self.conv3(x) * self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"expansion": self.expansion})
        return config
