"""DeAltHDR's 'FFW' feed-forward: 1x1 -> GELU -> 1x1, scaled by a learnable gamma."""

import keras
import tensorflow as tf

from hdrkeras.layers.channel_attention import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class FeedForward(keras.layers.Layer):
    """conv4 1x1 (C -> e*C, bias) -> exact GELU -> conv5 1x1 (bias) -> * gamma [C].

    gamma starts at 0 (NAFNet layer scale), so a fresh block is the identity.

    Call args:
      x: float [B, H, W, C] NHWC features (already layer-normalised).

    Returns float [B, H, W, C].

    Args:
      expansion: int. Hidden width / C (FFN_Expand). Defaults to 2.
    """

    def __init__(self, expansion=2, **kwargs):
        super().__init__(**kwargs)
        self.expansion = int(expansion)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        kw = dict(use_bias=True, kernel_initializer=TORCH_CONV_INIT, dtype=self.dtype_policy)
        self.conv4 = keras.layers.Conv2D(dim * self.expansion, 1, name="conv4", **kw)
        self.conv4.build(input_shape)
        self.conv5 = keras.layers.Conv2D(dim, 1, name="conv5", **kw)
        self.conv5.build(tuple(input_shape[:-1]) + (dim * self.expansion,))
        self.gamma = self.add_weight(name="gamma", shape=(dim,), initializer="zeros")
        self.built = True

    def call(self, x):
        return self.conv5(tf.nn.gelu(self.conv4(x), approximate=False)) * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"expansion": self.expansion})
        return config
