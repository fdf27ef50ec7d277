"""Gated convolution of LAN-HDR's hallucination encoders."""

import keras
import tensorflow as tf

from hdrkeras.layers.torch_compat import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class GatedConv(keras.layers.Layer):
    """conv -> split [features | gate] -> ELU(features) * sigmoid(gate).

    LAN-HDR `models/layers.py:gated_conv` (ELU activation, alpha 1). The gate lets the
    encoder suppress saturated or noisy regions of an LDR frame. Padding is explicit and
    symmetric (kernel_size // 2 zeros on every side, as torch's `padding=1`), so strided
    convs give ceil(n / stride) outputs with the same sampling grid as the official code
    (TF "SAME" would pad 0/1 on even sizes).

    Call args:
      x: float32 [B, H, W, C] NHWC feature map or frame.

    Returns float32 [B, ceil(H/s), ceil(W/s), filters].

    Args:
      filters: int. output channels (the conv itself has 2 * filters).
      kernel_size: int. odd kernel size. Defaults to 3.
      strides: int. Defaults to 1.
    """

    def __init__(self, filters, kernel_size=3, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)

    def build(self, input_shape):
        self.conv2d = keras.layers.Conv2D(
            2 * self.filters, self.kernel_size, strides=self.strides, padding="valid",
            kernel_initializer=TORCH_CONV_INIT, name="conv2d", dtype=self.dtype_policy)
        p = self.kernel_size // 2
        self.conv2d.build(tuple(input_shape[:1]) + (None, None, input_shape[-1]))
        self._pad = [[0, 0], [p, p], [p, p], [0, 0]]
        self.built = True

    def call(self, x):
        y = self.conv2d(tf.pad(x, self._pad))
        features, gate = y[..., :self.filters], y[..., self.filters:]
        return keras.activations.elu(features) * keras.activations.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        def out(n):
            return None if n is None else -(-n // self.strides)
        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size,
                       "strides": self.strides})
        return config
