"""DeAltHDR's HDRFusionNet: per-pixel softmax fusion of a frame and its aligned neighbours."""

import keras
import tensorflow as tf

from hdrkeras.layers.channel_attention import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class HDRFusion(keras.layers.Layer):
    """out = sum_i w_i f_i, w = softmax_i(1x1(LeakyReLU_0.1(1x1(concat_i f_i)))).

    f_0 is the reference frame's features, f_1..f_N the aligned neighbours in order
    (DeAltHDR: T-2, T-1, T+1, T+2). Convs 5C -> 2C -> N+1, bias per the model flag.

    Call args:
      inputs: [cur, aligned]: cur float32 [B, H, W, C]; aligned [B, N, H, W, C].

    Returns float32 [B, H, W, C].

    Args:
      bias: bool. Bias on the two 1x1 convs. Defaults to False.
    """

    def __init__(self, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.bias = bool(bias)

    def build(self, input_shape):
        cur_shape, aligned_shape = (tuple(s) for s in input_shape)
        dim, n = int(cur_shape[-1]), int(aligned_shape[1])
        kw = dict(use_bias=self.bias, kernel_initializer=TORCH_CONV_INIT,
                  dtype=self.dtype_policy)
        self.conv0 = keras.layers.Conv2D(2 * dim, 1, name="conv0", **kw)
        self.conv0.build(cur_shape[:-1] + ((n + 1) * dim,))
        self.conv1 = keras.layers.Conv2D(n + 1, 1, name="conv1", **kw)
        self.conv1.build(cur_shape[:-1] + (2 * dim,))
        self.built = True

    def call(self, inputs):
        cur, aligned = inputs
        feats = tf.concat([cur[:, None], aligned], axis=1)  # [B, N+1, H, W, C]
        n1 = aligned.shape[1] + 1
        cat = tf.concat([feats[:, i] for i in range(n1)], axis=-1)
        weights = tf.nn.softmax(self.conv1(tf.nn.leaky_relu(self.conv0(cat), 0.1)), axis=-1)
        weights = tf.transpose(weights, [0, 3, 1, 2])[..., None]  # [B, N+1, H, W, 1]
        return tf.reduce_sum(feats * weights, axis=1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"bias": self.bias})
        return config
