"""HDR-Transformer's local context extractor (LCE): a light conv branch with SE gating."""

import keras
import tensorflow as tf

from hdrkeras.layers.fast_conv2d import FastConv2D


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
        self.conv1 = FastConv2D(red, 3, padding="same", name="conv1", **kw)
        self.conv1.build((None, None, None, red))
        self.conv2 = keras.layers.Conv2D(dim, 1, name="conv2", **kw)
        self.conv2.build((None, None, None, red))
        self.fc0 = keras.layers.Dense(red, use_bias=False, name="fc0", **kw)
        self.fc0.build((None, dim))
        self.fc1 = keras.layers.Dense(dim, use_bias=False, name="fc1", **kw)
        self.fc1.build((None, red))
        self.built = True

    def call(self, x):
        return self._excite(self.conv2(self.conv1(self.conv0(x))))

    def _excite(self, y):
        y = tf.nn.leaky_relu(y, alpha=0.2)
        s = tf.reduce_mean(y, axis=[1, 2])
        s = tf.sigmoid(self.fc1(tf.nn.relu(self.fc0(s))))
        return y * s[:, None, None, :]

    def compiled_call(self, x, norm):
        """`self(norm(x))` written for XLA (inside an XLA-compiled function only).

        The bottleneck is C/r = 7 channels wide at the default config, where library
        convolutions idle: the LayerNorm `norm` is folded into conv0 (no normalised
        C-channel map is written) and the 3x3 conv runs as nine broadcast
        multiply-adds that XLA fuses into one loop. About a third less time than
        `call` under XLA; outside XLA the broadcasts would be materialised, so the
        plain graph keeps `call`.
        """
        h = _dense_of_layer_norm(x, norm, self.conv0.kernel[0, 0], self.conv0.bias)
        return self._excite(self.conv2(_fused_conv3x3(h, self.conv1.kernel, self.conv1.bias)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"reduction": self.reduction})
        return config


def _dense_of_layer_norm(x, norm, kernel, bias):
    """`norm(x) @ kernel + bias` without materialising norm(x).

    norm(x) = (x - mean) * r * gamma + beta per token (r = 1 / std), so the product is
    (x @ (gamma * kernel) - mean * colsum(gamma * kernel)) * r + beta @ kernel + bias:
    one matmul on x and per-token statistics. Computed in float32, as Keras's
    LayerNormalization does under a mixed policy (its gamma and beta stay float32).
    """
    dtype = x.dtype
    x, kernel, bias = (tf.cast(t, tf.float32) for t in (x, kernel, bias))
    scaled = norm.gamma[:, None] * kernel
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axis=-1, keepdims=True)
    rstd = tf.math.rsqrt(variance + norm.epsilon)
    product = tf.tensordot(x, scaled, axes=1)
    offset = tf.linalg.matvec(kernel, norm.beta, transpose_a=True) + bias
    return tf.cast((product - mean * tf.reduce_sum(scaled, axis=0)) * rstd + offset, dtype)


def _fused_conv3x3(h, kernel, bias):
    """'same' zero-padded 3x3 conv of a few-channel map [B, H, W, Ci] with kernel
    [3, 3, Ci, Co], as nine shifted broadcast products summed over Ci."""
    height, width = tf.shape(h)[1], tf.shape(h)[2]
    padded = tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]])
    out = bias
    for i in range(3):
        for j in range(3):
            tap = padded[:, i:i + height, j:j + width, :, None]
            out = out + tf.reduce_sum(tap * kernel[i, j], axis=-2)
    return out
