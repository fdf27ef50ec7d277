"""Transformer feed-forward network on the channel axis (timm/Swin `Mlp`)."""

import keras
import tensorflow as tf

from hdrkeras.layers.torch_compat import timm_linear_init


@keras.saving.register_keras_serializable(package="hdrkeras")
class TokenMlp(keras.layers.Layer):
    """fc1 -> exact (erf) GELU -> dropout -> fc2 -> dropout, applied per token.

    The `Mlp` of Swin/SwinIR/SCTNet/HDR-Transformer. Linear weights use trunc-normal(0.02)
    init with zero bias, as the official `_init_weights`.

    Call args:
      x: float32 [..., C] tokens (e.g. an NHWC feature map).

    Returns float32 [..., out_features].

    Args:
      hidden_features: int or None. Hidden width; None means C. Defaults to None.
      out_features: int or None. Output width; None means C. Defaults to None.
      drop: float. Dropout rate (training only). Defaults to 0.
    """

    def __init__(self, hidden_features=None, out_features=None, drop=0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_features = None if hidden_features is None else int(hidden_features)
        self.out_features = None if out_features is None else int(out_features)
        self.drop = float(drop)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self._in = dim
        hidden = self.hidden_features or dim
        self._out = self.out_features or dim
        init = timm_linear_init()
        self.fc1 = keras.layers.Dense(hidden, kernel_initializer=init, name="fc1",
                                      dtype=self.dtype_policy)
        self.fc1.build((None, dim))
        self.fc2 = keras.layers.Dense(self._out, kernel_initializer=init, name="fc2",
                                      dtype=self.dtype_policy)
        self.fc2.build((None, hidden))
        self.dropout = keras.layers.Dropout(self.drop, name="drop", dtype=self.dtype_policy)
        self.built = True

    def call(self, x, training=None):
        shape = tf.shape(x)
        t = tf.reshape(x, [-1, self._in])
        t = tf.matmul(t, self.fc1.kernel) + self.fc1.bias
        t = tf.nn.gelu(t, approximate=False)
        t = self.dropout(t, training=training)
        t = tf.matmul(t, self.fc2.kernel) + self.fc2.bias
        t = self.dropout(t, training=training)
        return tf.reshape(t, tf.concat([shape[:-1], [self._out]], 0))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out_features or input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_features": self.hidden_features,
                       "out_features": self.out_features, "drop": self.drop})
        return config
