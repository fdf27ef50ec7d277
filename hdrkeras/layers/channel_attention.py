"""Restormer-style multi-head transposed (channel) self-attention (DeAltHDR 'Channel')."""

import keras

from hdrkeras.ops.attention import channel_attention

# torch Conv2d default init (kaiming_uniform, a=sqrt(5)).
TORCH_CONV_INIT = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


@keras.saving.register_keras_serializable(package="hdrkeras")
class ChannelAttention(keras.layers.Layer):
    """qkv 1x1 -> depthwise 3x3 -> per-head channel attention -> 1x1 projection.

    Zamir et al., Restormer (CVPR 2022) MDTA, as DeAltHDR's `ChannelAttention`. DeAltHDR's
    'FHR' (FrameHistoryRouter) is the same computation when no key/value cache is passed
    (its caches are never read by the v1.4.2 forward), so both map here.

    Call args:
      x: float [B, H, W, C] NHWC features (already layer-normalised).

    Returns float [B, H, W, C].

    Args:
      num_heads: int. Heads over the channel axis. Defaults to 1.
      bias: bool. Bias on the convs. Defaults to False.
    """

    def __init__(self, num_heads=1, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.bias = bool(bias)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        if dim % self.num_heads:
            raise ValueError(f"channels {dim} not divisible by num_heads {self.num_heads}")
        kw = dict(use_bias=self.bias, dtype=self.dtype_policy)
        self.qkv = keras.layers.Conv2D(3 * dim, 1, kernel_initializer=TORCH_CONV_INIT,
                                       name="qkv", **kw)
        self.qkv.build(input_shape)
        self.qkv_dwconv = keras.layers.DepthwiseConv2D(
            3, padding="same", depthwise_initializer=TORCH_CONV_INIT, name="qkv_dwconv", **kw)
        self.qkv_dwconv.build(tuple(input_shape[:-1]) + (3 * dim,))
        self.project_out = keras.layers.Conv2D(dim, 1, kernel_initializer=TORCH_CONV_INIT,
                                               name="project_out", **kw)
        self.project_out.build(input_shape)
        self.temperature = self.add_weight(name="temperature", shape=(self.num_heads,),
                                           initializer="ones")
        self.built = True

    def call(self, x):
        q, k, v = keras.ops.split(self.qkv_dwconv(self.qkv(x)), 3, axis=-1)
        return self.project_out(channel_attention(q, k, v, self.num_heads, self.temperature))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads, "bias": self.bias})
        return config
