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


# --- The same attention accumulated over parts of the image (row bands) ---
# softmax(temperature * q^T k / (|q| |k|)) needs only the C_h x C_h Gram matrix q^T k and
# the squared norms of q's and k's channels, all sums over pixels: summed band by band
# they give the whole image's attention matrix, which then applies to each band's v.

def channel_gram(q, k, num_heads):
    """Sums over the pixels of q, k [B, H, W, C]: (q^T k [B, heads, C_h, C_h], sum q^2
    [B, heads, C_h], sum k^2 [B, heads, C_h]); add them up over bands."""
    c = q.shape[-1]
    split = [tf.shape(q)[0], -1, num_heads, c // num_heads]
    q, k = tf.reshape(q, split), tf.reshape(k, split)
    return (tf.einsum("bnhc,bnhd->bhcd", q, k), tf.reduce_sum(tf.square(q), axis=1),
            tf.reduce_sum(tf.square(k), axis=1))


def attention_from_gram(gram, q_square, k_square, temperature):
    """The softmax attention matrix [B, heads, C_h, C_h] of `channel_attention` from the
    sums of `channel_gram` (the L2 normalisation along space applied to the Gram matrix,
    with the same epsilon)."""
    rq = tf.math.rsqrt(tf.maximum(q_square, 1e-24))
    rk = tf.math.rsqrt(tf.maximum(k_square, 1e-24))
    logits = gram * rq[..., :, None] * rk[..., None, :]
    return tf.nn.softmax(logits * tf.cast(temperature, gram.dtype)[None, :, None, None],
                         axis=-1)


def apply_attention(attn, v):
    """`channel_attention`'s output for the pixels of v [B, H, W, C] given its attention
    matrix [B, heads, C_h, C_h] (from `attention_from_gram`)."""
    shape = tf.shape(v)
    heads, c = attn.shape[1], v.shape[-1]
    out = tf.einsum("bhcd,bnhd->bnhc", attn, tf.reshape(v, [shape[0], -1, heads, c // heads]))
    return tf.reshape(out, shape)
