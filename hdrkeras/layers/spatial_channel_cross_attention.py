"""SCTNet's spatial-channel cross attention block (SCAB): inter-frame channel attention."""

import keras
import tensorflow as tf

from hdrkeras.layers.cpu_inference import compiled_inference, use_compiled_inference
from hdrkeras.layers.token_mlp import TokenMlp
from hdrkeras.layers.torch_compat import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class SpatialChannelCrossAttention(keras.layers.Layer):
    """fused = x + proj(ChannelAttn(q=LN(x), k=v=LN(y))); out = fused + MLP(LN(fused)).

    Tel et al., "Alignment-free HDR Deghosting with Semantics Consistent Transformer",
    ICCV 2023 (`SCAB` with `Mutual_Attention`). The reference-frame features `x` query
    a non-reference frame's features `y`. Per head, q and k are L2-normalised along
    SPACE (all H*W positions, eps 1e-12) and the attention is a c x c matrix over
    channels scaled by a learnable per-head temperature, so it is global over the whole
    (padded) map. q/k/v/project_out are bias-free 1x1 convs (`bias=False` officially).

    Call args:
      inputs: [x, y], float32 [B, H, W, C] each (NHWC token maps).

    Returns float32 [B, H, W, C].

    Args:
      num_heads: int. Heads over the channel axis (C divisible by it). Defaults to 4.
      ffn_expansion_factor: float. MLP hidden width / C. Defaults to 4.
      bias: bool. Bias on q/k/v/project_out. Defaults to False.
    """

    def __init__(self, num_heads=4, ffn_expansion_factor=4.0, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.ffn_expansion_factor = float(ffn_expansion_factor)
        self.bias = bool(bias)

    def build(self, input_shape):
        dim = int(input_shape[0][-1])
        if dim % self.num_heads:
            raise ValueError(f"channels {dim} not divisible by num_heads {self.num_heads}")
        self.dim = dim
        kw = dict(dtype=self.dtype_policy)
        map_shape = (None, None, None, dim)
        conv_init = TORCH_CONV_INIT  # the 1x1 convs start like torch's Conv2d
        self.norm1_x = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1_x", **kw)
        self.norm1_x.build(map_shape)
        self.norm1_y = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1_y", **kw)
        self.norm1_y.build(map_shape)
        for name in ("q", "k", "v", "project_out"):
            layer = keras.layers.Dense(dim, use_bias=self.bias, kernel_initializer=conv_init,
                                       name=name, **kw)
            layer.build((None, dim))
            setattr(self, name, layer)
        self.temperature = self.add_weight(name="temperature", shape=(self.num_heads,),
                                           initializer="ones")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2", **kw)
        self.norm2.build(map_shape)
        self.ffn = TokenMlp(int(dim * self.ffn_expansion_factor), name="ffn", **kw)
        self.ffn.build(map_shape)
        self.built = True

    def call(self, inputs, training=None):
        x, y = inputs
        if use_compiled_inference(training):
            return compiled_inference(self, "forward", x, y)
        return self.forward(x, y, training)

    def forward(self, x, y, training=None):
        """The block on x, y (`call` may run it XLA-compiled at CPU inference)."""
        c, heads = self.dim, self.num_heads
        shape = tf.shape(x)
        xn = tf.reshape(self.norm1_x(x), [shape[0], -1, c])
        yn = tf.reshape(self.norm1_y(y), [shape[0], -1, c])
        q = tf.reshape(self.q(xn), [shape[0], -1, heads, c // heads])
        k = tf.reshape(self.k(yn), [shape[0], -1, heads, c // heads])
        v = tf.reshape(self.v(yn), [shape[0], -1, heads, c // heads])
        q = tf.math.l2_normalize(q, axis=1, epsilon=1e-24)  # max(norm, 1e-12) as F.normalize
        k = tf.math.l2_normalize(k, axis=1, epsilon=1e-24)
        attn = tf.einsum("bnhc,bnhd->bhcd", q, k) * self.temperature[None, :, None, None]
        attn = tf.nn.softmax(attn, axis=-1)
        out = tf.einsum("bhcd,bnhd->bnhc", attn, v)
        out = self.project_out(tf.reshape(out, [shape[0], -1, c]))
        fused = x + tf.reshape(out, shape)
        return fused + self.ffn(self.norm2(fused), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads,
                       "ffn_expansion_factor": self.ffn_expansion_factor, "bias": self.bias})
        return config
