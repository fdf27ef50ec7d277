"""Bilinear resize of an NHWC map to the spatial size of another (any H, W)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdrkeras")
class ResizeLike(keras.layers.Layer):
    """Resizes `x` to the H, W of `like` with bilinear interpolation, half-pixel centres,
    no antialiasing.

    That is torch `F.interpolate(x, size=like.shape[-2:], mode="bilinear",
    align_corners=False)`: sizes come from the tensor, not from a scale factor, so
    non-2x ratios (16x20 -> 31x39) and 4x downsampling that samples 2 of every 4 pixels
    (not an area average) match the official code.

    Call args:
      inputs: [x, like]: x float [B, h, w, C]; like [B, H, W, *] (only H, W are read).

    Returns [B, H, W, C] in x's dtype.
    """

    def call(self, inputs):
        x, like = inputs
        size = tf.shape(like)[1:3]
        y = tf.image.resize(x, size, method="bilinear", antialias=False)
        return tf.cast(y, x.dtype)

    def compute_output_shape(self, input_shape):
        x, like = input_shape
        return (x[0], like[1], like[2], x[-1])
