"""Dilated residual dense block (DRDB) of AHDRNet."""

import keras


@keras.saving.register_keras_serializable(package="hdrkeras")
class DilatedResidualDenseBlock(keras.layers.Layer):
    """Dense 3x3 dilation-2 conv layers, a 1x1 fusion conv, and a residual connection.

    Yan et al., "Attention-guided Network for Ghost-free High Dynamic Range Imaging",
    CVPR 2019. Each dense layer is conv3x3 (dilation 2, zero padding 2, `growth_rate`
    filters) -> ReLU -> concat(input, output); after `num_layers` of them a 1x1 conv brings
    the channels back to the block's input width, and the block input is added.

    Input and output: float32 [B, H, W, C] feature maps (NHWC); C is taken from the input.

    Args:
      num_layers: int. number of dense layers. Defaults to 5.
      growth_rate: int. filters of each dense layer. Defaults to 32.
    """

    def __init__(self, num_layers=5, growth_rate=32, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = int(num_layers)
        self.growth_rate = int(growth_rate)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        channels = int(input_shape[-1])
        self.dense_layers = []
        width = channels
        for i in range(self.num_layers):
            conv = keras.layers.Conv2D(
                self.growth_rate, 3, padding="same", dilation_rate=2, activation="relu",
                name=f"dense_{i}", dtype=self.dtype_policy)
            conv.build(input_shape[:-1] + (width,))
            self.dense_layers.append(conv)
            width += self.growth_rate
        self.conv_1x1 = keras.layers.Conv2D(
            channels, 1, padding="valid", name="conv_1x1", dtype=self.dtype_policy)
        self.conv_1x1.build(input_shape[:-1] + (width,))
        self.built = True

    def call(self, x):
        out = x
        for conv in self.dense_layers:
            out = keras.ops.concatenate([out, conv(out)], axis=-1)
        return self.conv_1x1(out) + x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_layers": self.num_layers, "growth_rate": self.growth_rate})
        return config
