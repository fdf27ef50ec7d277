"""PyTorch-order PixelUnshuffle (space to depth) for NHWC maps."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdrkeras")
class PixelUnshuffle(keras.layers.Layer):
    """Rearranges [B, H, W, C] into [B, H/r, W/r, C*r*r] in torch.nn.PixelUnshuffle's order.

    torch: out[c*r*r + i*r + j, h, w] = in[c, r*h + i, r*w + j] (channel-major, unlike
    tf.nn.space_to_depth). H and W must be multiples of r (any domain; features).

    Call args:
      x: float [B, H, W, C] (NHWC).

    Returns [B, H/r, W/r, C*r*r].

    Args:
      downscale_factor: int. r. Defaults to 2.
    """

    def __init__(self, downscale_factor=2, **kwargs):
        super().__init__(**kwargs)
        self.downscale_factor = int(downscale_factor)

    def call(self, x):
        r = self.downscale_factor
        shape = tf.shape(x)
        b, h, w = shape[0], shape[1] // r, shape[2] // r
        c = x.shape[-1]
        x = tf.reshape(x, [b, h, r, w, r, c])
        x = tf.transpose(x, [0, 1, 3, 5, 2, 4])
        return tf.reshape(x, [b, h, w, c * r * r])

    def compute_output_shape(self, input_shape):
        r = self.downscale_factor
        b, h, w, c = input_shape
        return (b, None if h is None else h // r, None if w is None else w // r, c * r * r)

    def get_config(self):
        config = super().get_config()
        config.update({"downscale_factor": self.downscale_factor})
        return config
