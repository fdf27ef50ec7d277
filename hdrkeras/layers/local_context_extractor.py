"""HDR-Transformer's local context extractor (LCE): a light conv branch with SE gating."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdrkeras")
class LocalContextExtractor(keras.layers.Layer):
    """conv1x1(C->C/r) -> conv3x3 -> conv1x1(C/r->C) -> LeakyReLU(0.2), times an SE gate.

    Liu et al., "Ghost-free HDR imaging with context-aware transformer", ECCV 2022.
    No activation between the three convs (as the official code). The SE gate pools the
    WHOLE map (global average), so padded borders influence every pixel, as officially.

    Call args:
      x: float32 [B, H, W, C] feature map (layer-normalised tokens in HDR-Transformer).

    Returns float32 [B, H, W, C].

    Args:
      reduction: int. Channel reduction r of the bottleneck and the SE. Defaults to 8.
    """

    def __init__(self, reduction=8, **kwargs):
        super().__init__(**kwargs)
        self.reduction = int(reduction)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        red = dim // self.reduction
        if red < 1:
            raise ValueError(f"channels {dim} too few for reduction {self.reduction}")
        kw = dict(dtype=self.dtype_policy)
        self.conv0 = keras.layers.Conv2D(red, 1, name="conv0", **kw)
        self.conv0.build((None, None, None, dim))
        self.conv1 = keras.layers.Conv2D(red, 3, padding="same", name="conv1", **kw)
        self.conv1.build((None, None, None, red))
        self.conv2 = keras.layers.Conv2D(dim, 1, name="conv2", **kw)
        self.conv2.build((None, None, None, red))
        self.fc0 = keras.layers.Dense(red, use_bias=False, name="fc0", **kw)
        self.fc0.build((None, dim))
        self.fc1 = keras.layers.Dense(dim, use_bias=False, name="fc1", **kw)
        self.fc1.build((None, red))
        self.built = True

    def call(self, x):
        y = self.conv2(self.conv1(self.conv0(x)))
        y = tf.nn.leaky_relu(y, alpha=0.2)
        s = tf.reduce_mean(y, axis=[1, 2])
        s = tf.sigmoid(self.fc1(tf.nn.relu(self.fc0(s))))
        return y * s[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"reduction": self.reduction})
        return config
