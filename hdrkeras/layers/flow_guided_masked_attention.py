"""DeAltHDR's flow-guided masked attention (FGMA): flow warping where the flow is
reliable, channel attention where it is not."""

import keras
import tensorflow as tf

from hdrkeras.layers.channel_attention import TORCH_CONV_INIT
from hdrkeras.layers.spy_net import dealthdr_warp
from hdrkeras.ops.attention import channel_attention
from hdrkeras.ops.warp import resize_flow


@keras.saving.register_keras_serializable(package="hdrkeras")
class FlowGuidedMaskedAttention(keras.layers.Layer):
    """aligned_n = m * attn(q = m * Wq cur, k = Wk nb_n, v = Wv nb_n) + (1 - m) * warp(nb_n, f).

    The image-resolution flow f and binary mask m (1 = flow unreliable) of each neighbour
    are resized to the feature resolution here (bilinear, half-pixel centres; the flow is
    scaled by the size ratio, the mask re-binarised with > 0.5), as the official
    `FlowGuidedMaskedAttention.forward` does with a precomputed flow. The attention is the
    channel (C x C per head) kind on spatially L2-normalised q, k: linear in pixels, and
    the mask only zeroes queries, so its cost does not depend on the mask. No LayerNorm.
    The SpyNet that produces f belongs to the model, not to this layer.

    Call args:
      inputs: [cur, neighbours, flow, mask]: cur float32 [B, h, w, C] features of the
        reference frame; neighbours [B, N, h, w, C] features of N neighbour frames;
        flow [B, N, H, W, 2] (pixels at image resolution H, W; warp(nb, flow) aligns nb to
        cur); mask [B, N, H, W, 1] in {0, 1}.

    Returns float32 [B, N, h, w, C], the neighbours aligned to cur.

    Args:
      num_heads: int. Heads over channels. Defaults to 1.
      bias: bool. Bias on the 1x1 projections. Defaults to False.
    """

    def __init__(self, num_heads=1, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.bias = bool(bias)

    def build(self, input_shape):
        cur_shape = tuple(input_shape[0])
        dim = int(cur_shape[-1])
        if dim % self.num_heads:
            raise ValueError(f"channels {dim} not divisible by num_heads {self.num_heads}")
        for name in ("proj_q", "proj_k", "proj_v", "project_out"):
            layer = keras.layers.Conv2D(dim, 1, use_bias=self.bias,
                                        kernel_initializer=TORCH_CONV_INIT, name=name,
                                        dtype=self.dtype_policy)
            layer.build(cur_shape)
            setattr(self, name, layer)
        self.temperature = self.add_weight(name="temperature", shape=(self.num_heads,),
                                           initializer="ones")
        self.built = True

    def call(self, inputs):
        cur, nb, flow, mask = inputs
        shape = tf.shape(nb)
        b, n, h, w = shape[0], shape[1], shape[2], shape[3]
        c = nb.shape[-1]

        def fold(x):  # [B, N, ...] -> [B*N, ...]
            return tf.reshape(x, tf.concat([[b * n], tf.shape(x)[2:]], 0))

        nb = fold(nb)
        flow = resize_flow(fold(flow), h, w)
        mask = tf.cast(resize_flow(fold(mask), h, w) > 0.5, nb.dtype)
        warped = dealthdr_warp(nb, flow)
        q = tf.repeat(self.proj_q(cur), n, axis=0) * mask
        attended = self.project_out(channel_attention(q, self.proj_k(nb), self.proj_v(nb),
                                                      self.num_heads, self.temperature))
        aligned = mask * attended + (1.0 - mask) * warped
        return tf.reshape(aligned, [b, n, h, w, c])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads, "bias": self.bias})
        return config
