"""Hard (argmax) 3x3-patch attention: LAN-HDR's luminance-based alignment core."""

import keras
import tensorflow as tf

from hdrkeras.layers.torch_compat import TORCH_CONV_INIT


def gathered_max(scores):
    """(max, argmax) of `scores` [..., N] over the last axis, the max taken by GATHERING
    at the argmax.

    `reduce_max`'s gradient is split between tied maxima; gathering sends all of it to
    the single entry the argmax chose (the first on ties, as torch.max), i.e. the entry
    whose patch is actually copied.
    """
    idx = tf.argmax(scores, axis=-1, output_type=tf.int32)
    best = tf.gather(scores, idx[..., None], batch_dims=len(scores.shape) - 1)
    return best[..., 0], idx


def fold_patches(patches):
    """Overlap-average 3x3 patches back onto the grid (torch fold(...) / fold(ones)).

    patches: [B, h, w, 9, C], the patch centred on each grid position, its 9 entries in
    row-major (ki, kj) order, covering positions q + (ki-1, kj-1). Pixel p averages the
    entries of the in-grid patches covering it (4 at corners, 6 on edges, 9 inside);
    the count includes patch entries that fell on zero padding, as the official code.
    """
    shape = tf.shape(patches)
    h, w = shape[1], shape[2]
    padded = tf.pad(patches, [[0, 0], [1, 1], [1, 1], [0, 0], [0, 0]])
    ones = tf.pad(tf.ones(tf.stack([1, h, w, 1]), patches.dtype), [[0, 0], [1, 1], [1, 1], [0, 0]])
    total, count = 0.0, 0.0
    for k in range(9):
        di, dj = k // 3 - 1, k % 3 - 1
        # Pixel p receives entry k of the patch centred at q = p - (di, dj).
        total += padded[:, 1 - di:1 - di + h, 1 - dj:1 - dj + w, k, :]
        count += ones[:, 1 - di:1 - di + h, 1 - dj:1 - dj + w, :]
    return total / count


@keras.saving.register_keras_serializable(package="hdrkeras")
class HardPatchAttention(keras.layers.Layer):
    """For each query position: the most similar key patch, its score, and its value patch.

    LAN-HDR `models/Transformer.py:Transformer_swap_once` (k = 3, from TTSR): the 3x3
    neighbourhoods of query and key (zero padding 1) are embedded by one shared
    bias-free linear map, L2-normalised (eps 1e-12); corr[key, query] = cosine. For
    every query token, argmax over keys picks a source; S is that cosine (gathered at the
    argmax, see `gathered_max`), T is the 3x3 value patch at the source, folded back with
    overlap averaging (`fold_patches`).

    The embedding of an unfolded 3x3 patch (torch order c, ki, kj) equals a 3x3 conv with
    zero padding, so it is held as a bias-free Conv2D `embed` [3, 3, C, embed_dim].

    Call args:
      query: [B, h, w, C] NHWC features of the reference re-exposed to the frame (the
        luminance encoder's coarsest level). key: [B, h, w, C] the same for the frame.
      value: [B, h, w, Cv] the frame's value features.
      return_argmax: bool. Also return the argmax. Defaults to False.

    Returns (S [B, h, w, 1], T [B, h, w, Cv]) (+ argmax [B, h*w] int32, row-major).

    Args:
      embed_dim: int. embedding width (4 * tdim in LAN-HDR).
    """

    def __init__(self, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = int(embed_dim)

    def build(self, query_shape, key_shape=None, value_shape=None):
        # torch's Linear default init (fan_in = 9 C, as this conv's).
        self.embed = keras.layers.Conv2D(self.embed_dim, 3, padding="same", use_bias=False,
                                         kernel_initializer=TORCH_CONV_INIT,
                                         name="embed", dtype=self.dtype_policy)
        self.embed.build((None, None, None, int(query_shape[-1])))
        self.built = True

    def tokens(self, x):
        """[B, h, w, C] -> L2-normalised embedded 3x3 patches [B, h*w, embed_dim] (float32)."""
        e = tf.cast(self.embed(x), tf.float32)
        e = tf.reshape(e, tf.stack([tf.shape(e)[0], -1, self.embed_dim]))
        norm = tf.sqrt(tf.reduce_sum(tf.square(e), axis=-1, keepdims=True))
        return e / tf.maximum(norm, 1e-12)

    def call(self, query, key, value, return_argmax=False):
        q, k = self.tokens(query), self.tokens(key)
        corr = tf.matmul(q, k, transpose_b=True)  # [B, query, key]
        score, idx = gathered_max(corr)  # over keys -> [B, query]
        shape = tf.shape(value)
        b, h, w, c = shape[0], shape[1], shape[2], value.shape[-1]
        patches = tf.image.extract_patches(value, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1],
                                           "SAME")  # [B, h, w, 9*C], (ki, kj, c) order
        patches = tf.reshape(patches, tf.stack([b, h * w, 9 * c]))
        chosen = tf.gather(patches, idx, batch_dims=1)
        t = fold_patches(tf.reshape(chosen, tf.stack([b, h, w, 9, c])))
        s = tf.cast(tf.reshape(score, tf.stack([b, h, w, 1])), value.dtype)
        return (s, t, idx) if return_argmax else (s, t)

    def get_config(self):
        config = super().get_config()
        config.update({"embed_dim": self.embed_dim})
        return config
