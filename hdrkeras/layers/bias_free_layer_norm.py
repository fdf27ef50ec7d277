"""Restormer's bias-free LayerNorm over the channel axis."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdrkeras")
class BiasFreeLayerNorm(keras.layers.Layer):
    """x / sqrt(var(x) + 1e-5) * weight, over the last (channel) axis, per pixel.

    The mean is used for the (biased) variance but NOT subtracted from x: this is the
    Restormer/DeAltHDR 'BiasFree' LayerNorm, which keras.layers.LayerNormalization cannot
    express. 'WithBias' is plain LayerNormalization(epsilon=1e-5).

    Call args:
      x: float [..., C] (NHWC features).

    Returns a tensor of x's shape.

    Args:
      epsilon: float. Added to the variance inside the square root. Defaults to 1e-5.
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        self.gamma = self.add_weight(name="gamma", shape=(int(input_shape[-1]),),
                                     initializer="ones")
        self.built = True

    def call(self, x):
        var = tf.math.reduce_variance(x, axis=-1, keepdims=True)
        return x / tf.sqrt(var + self.epsilon) * self.gamma

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
