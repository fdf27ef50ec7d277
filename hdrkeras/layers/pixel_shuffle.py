"""PyTorch-order PixelShuffle (depth to space) for NHWC maps."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdrkeras")
class PixelShuffle(keras.layers.Layer):
    """Rearranges [B, H, W, C*r*r] into [B, H*r, W*r, C] in torch.nn.PixelShuffle's order.

    torch: out[c, r*h + i, r*w + j] = in[c*r*r + i*r + j, h, w]. tf.nn.depth_to_space
    reads channel (i*r + j)*C + c instead, so checkpoints trained with PyTorch need this
    channel order (any domain; features).

    Call args:
      x: float [B, H, W, C*r*r] (NHWC).

    Returns [B, H*r, W*r, C].

    Args:
      upscale_factor: int. r. Defaults to 2.
    """

    def __init__(self, upscale_factor=2, **kwargs):
        super().__init__(**kwargs)
        self.upscale_factor = int(upscale_factor)

    def call(self, x):
        r = self.upscale_factor
        shape = tf.shape(x)
        b, h, w = shape[0], shape[1], shape[2]
        c = x.shape[-1] // (r * r)
        x = tf.reshape(x, [b, h, w, c, r, r])
        x = tf.transpose(x, [0, 1, 4, 2, 5, 3])
        return tf.reshape(x, [b, h * r, w * r, c])

    def compute_output_shape(self, input_shape):
        r = self.upscale_factor
        b, h, w, c = input_shape
        return (b, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self):
        config = super().get_config()
        config.update({"upscale_factor": self.upscale_factor})
        return config
