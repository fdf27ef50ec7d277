"""Transposed (channel) attention shared by Restormer-style layers."""

import tensorflow as tf


def channel_attention(q, k, v, num_heads, temperature):
    """Per-head C_h x C_h attention over channels (Restormer MDTA, DeAltHDR FGMA).

    Channels are split head-major ('b (head c) h w'); q and k are L2-normalised along
    SPACE (all H*W positions, x / max(||x||, 1e-12) as torch F.normalize, so an all-zero
    q stays zero and gives a uniform softmax). Cost is linear in the number of pixels.

    Args:
      q, k, v: float [B, H, W, C] NHWC feature maps (C divisible by num_heads).
      num_heads: int.
      temperature: [num_heads] learnable scale of the logits.

    Returns:
      float [B, H, W, C], the attended values before any output projection.
    """
    shape = tf.shape(q)
    c = q.shape[-1]
    split = [shape[0], -1, num_heads, c // num_heads]
    q = tf.math.l2_normalize(tf.reshape(q, split), axis=1, epsilon=1e-24)
    k = tf.math.l2_normalize(tf.reshape(k, split), axis=1, epsilon=1e-24)
    v = tf.reshape(v, split)
    attn = tf.einsum("bnhc,bnhd->bhcd", q, k) * tf.cast(temperature, q.dtype)[None, :, None,
                                                                               None]
    attn = tf.nn.softmax(attn, axis=-1)
    out = tf.einsum("bhcd,bnhd->bnhc", attn, v)
    return tf.reshape(out, shape)
