"""Plain residual block (conv3x3-ReLU-conv3x3 + skip) with an optional 3x3 projection."""

import keras

from hdrkeras.layers.torch_compat import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class ResidualBlock(keras.layers.Layer):
    """out = conv2(ReLU(conv1(x))) + skip(x), skip = identity or a 3x3 conv.

    The `ResBlock` of LAN-HDR (and TTSR): when the input width differs from `filters`
    the skip is a 3x3 conv with bias that the official code names `downsample` (it does
    not change the resolution). Residual scale 1.

    Call args:
      x: float32 [B, H, W, C] NHWC feature map.

    Returns float32 [B, H, W, filters].

    Args:
      filters: int. output channels.
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        shape = tuple(input_shape[:-1]) + (channels,)

        def conv(name, built_on):
            layer = keras.layers.Conv2D(self.filters, 3, padding="same", name=name,
                                        kernel_initializer=TORCH_CONV_INIT,
                                        dtype=self.dtype_policy)
            layer.build(built_on)
            return layer

        self.conv1 = conv("conv1", shape)
        self.conv2 = conv("conv2", shape[:-1] + (self.filters,))
        self.downsample = conv("downsample", shape) if channels != self.filters else None
        self.built = True

    def call(self, x):
        out = self.conv2(keras.activations.relu(self.conv1(x)))
        return out + (x if self.downsample is None else self.downsample(x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters})
        return config
