"""Restormer's gated depthwise feed-forward network (DeAltHDR 'GFFW')."""

import keras
import tensorflow as tf

from hdrkeras.layers.channel_attention import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class GatedFeedForward(keras.layers.Layer):
    """1x1 (C -> 2h) -> depthwise 3x3 -> gelu(x1) * x2 -> 1x1 (h -> C), h = int(C * e).

    Call args:
      x: float [B, H, W, C] NHWC features (already layer-normalised).

    Returns float [B, H, W, C].

    Args:
      ffn_expansion_factor: float. e. Defaults to 2.66.
      bias: bool. Bias on the convs. Defaults to False.
    """

    def __init__(self, ffn_expansion_factor=2.66, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.ffn_expansion_factor = float(ffn_expansion_factor)
        self.bias = bool(bias)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        hidden = int(dim * self.ffn_expansion_factor)
        kw = dict(use_bias=self.bias, dtype=self.dtype_policy)
        wide = tuple(input_shape[:-1]) + (2 * hidden,)
        self.project_in = keras.layers.Conv2D(2 * hidden, 1, kernel_initializer=TORCH_CONV_INIT,
                                              name="project_in", **kw)
        self.project_in.build(input_shape)
        self.dwconv = keras.layers.DepthwiseConv2D(
            3, padding="same", depthwise_initializer=TORCH_CONV_INIT, name="dwconv", **kw)
        self.dwconv.build(wide)
        self.project_out = keras.layers.Conv2D(dim, 1, kernel_initializer=TORCH_CONV_INIT,
                                               name="project_out", **kw)
        self.project_out.build(tuple(input_shape[:-1]) + (hidden,))
        self.built = True

    def call(self, x):
        x1, x2 = keras.ops.split(self.dwconv(self.project_in(x)), 2, axis=-1)
        return self.project_out(tf.nn.gelu(x1, approximate=False) * x2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"ffn_expansion_factor": self.ffn_expansion_factor, "bias": self.bias})
        return config
