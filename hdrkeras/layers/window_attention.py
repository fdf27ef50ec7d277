"""Swin window multi-head self-attention (W-MSA / SW-MSA) with relative position bias.

The one implementation shared by SwinIR-style backbones (SCTNet, HDR-Transformer).
"""

import keras
import numpy as np
import tensorflow as tf

from hdrkeras.layers.cpu_inference import use_band_loop
from hdrkeras.layers.torch_compat import timm_linear_init


def relative_position_index(window_size):
    """int32 [N, N], N = window_size**2: index into the (2w-1)**2 bias table.

    Same rule as Swin: for tokens i, j (row-major in the window) the index is
    (dy + w - 1) * (2w - 1) + (dx + w - 1) with (dy, dx) = pos_i - pos_j.
    """
    w = int(window_size)
    coords = np.stack(np.meshgrid(np.arange(w), np.arange(w), indexing="ij")).reshape(2, -1)
    rel = coords[:, :, None] - coords[:, None, :]
    return ((rel[0] + w - 1) * (2 * w - 1) + (rel[1] + w - 1)).astype(np.int32)


def window_partition(x, window_size):
    """[B, H, W, C] -> [B * nW, ws*ws, C]; windows row-major, tokens row-major inside."""
    ws = window_size
    shape = tf.shape(x)
    h, w, c = shape[1], shape[2], x.shape[-1]
    x = tf.reshape(x, [-1, h // ws, ws, w // ws, ws, c])
    x = tf.transpose(x, [0, 1, 3, 2, 4, 5])
    return tf.reshape(x, [-1, ws * ws, c])


def window_reverse(windows, window_size, height, width):
    """Inverse of `window_partition`: [B * nW, ws*ws, C] -> [B, H, W, C]."""
    ws = window_size
    c = windows.shape[-1]
    x = tf.reshape(windows, [-1, height // ws, width // ws, ws, ws, c])
    x = tf.transpose(x, [0, 1, 3, 2, 4, 5])
    return tf.reshape(x, [-1, height, width, c])


def to_bands(x, window_size):
    """[B, H, W, C] -> [B * H/ws, ws, W, C]: rows of windows (a free reshape)."""
    shape = tf.shape(x)
    return tf.reshape(x, [-1, window_size, shape[2], x.shape[-1]])


def mask_to_bands(attn_mask, batch, nh, nw):
    """[nW, N, N] shifted-window mask -> [B * nh, nw, N, N], matching `to_bands`."""
    n = attn_mask.shape[-1]
    m = tf.reshape(attn_mask, [1, nh, nw, n, n])
    return tf.reshape(tf.tile(m, [batch, 1, 1, 1, 1]), [-1, nw, n, n])


# Rows of windows processed concurrently (each row is too small to use all cores).
BAND_PARALLELISM = 4


def map_bands(fn, bands, band_mask=None):
    """Applies fn(band [1, ws, W, C], mask [1, nw, N, N] or None) to each row of windows."""
    if band_mask is None:
        return tf.map_fn(lambda b: fn(b[None], None)[0], bands,
                         fn_output_signature=bands.dtype, parallel_iterations=BAND_PARALLELISM)
    return tf.map_fn(lambda a: fn(a[0][None], a[1][None])[0], (bands, band_mask),
                     fn_output_signature=bands.dtype, parallel_iterations=BAND_PARALLELISM)


@keras.saving.register_keras_serializable(package="hdrkeras")
class WindowAttention(keras.layers.Layer):
    """Multi-head self-attention inside non-overlapping windows of a feature map.

    Liu et al., "Swin Transformer", ICCV 2021; as used by SwinIR, HDR-Transformer and
    SCTNet. Works on the whole (already cyclically shifted, if SW-MSA) map: the qkv
    projection runs per token before partitioning, so the map is reshuffled into windows
    once for q, k and v together and once back, instead of four times.

    Call args:
      x: float32 [B, H, W, C] token map, H and W multiples of `window_size`.
      attn_mask: optional float32 [nW, N, N] additive mask (0 / -100) per window, as
        built by `ShiftedWindowMask`; None for unshifted windows.

    Returns float32 [B, H, W, C].

    Args:
      num_heads: int. Attention heads; C must be divisible by it.
      window_size: int. Side of the square window. Defaults to 8.
      qkv_bias: bool. Bias on the qkv projection. Defaults to True.
      qk_scale: float or None. Logit scale; None means head_dim**-0.5. Defaults to None.
      attn_drop: float. Dropout on attention weights (training only). Defaults to 0.
      proj_drop: float. Dropout after the output projection. Defaults to 0.
    """

    def __init__(self, num_heads, window_size=8, qkv_bias=True, qk_scale=None,
                 attn_drop=0.0, proj_drop=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.window_size = int(window_size)
        self.qkv_bias = bool(qkv_bias)
        self.qk_scale = None if qk_scale is None else float(qk_scale)
        self.attn_drop = float(attn_drop)
        self.proj_drop = float(proj_drop)

    def build(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
                input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        dim = int(input_shape[-1])
        if dim % self.num_heads:
            raise ValueError(f"channels {dim} not divisible by num_heads {self.num_heads}")
        self.dim = dim
        init = timm_linear_init()
        n_rel = (2 * self.window_size - 1) ** 2
        self.relative_position_bias_table = self.add_weight(
            name="relative_position_bias_table", shape=(n_rel, self.num_heads),
            initializer=init)
        self.qkv = keras.layers.Dense(3 * dim, use_bias=self.qkv_bias, kernel_initializer=init,
                                      name="qkv", dtype=self.dtype_policy)
        self.qkv.build((None, dim))
        self.proj = keras.layers.Dense(dim, kernel_initializer=init, name="proj",
                                       dtype=self.dtype_policy)
        self.proj.build((None, dim))
        self.attn_dropout = keras.layers.Dropout(self.attn_drop, name="attn_drop",
                                                 dtype=self.dtype_policy)
        self.proj_dropout = keras.layers.Dropout(self.proj_drop, name="proj_drop",
                                                 dtype=self.dtype_policy)
        self._rel_index = relative_position_index(self.window_size).reshape(-1)
        self.built = True

    def relative_position_bias(self):
        """float [heads, N, N] gathered from the learnable table."""
        n = self.window_size ** 2
        bias = tf.gather(self.relative_position_bias_table, self._rel_index)
        return tf.transpose(tf.reshape(bias, [n, n, self.num_heads]), [2, 0, 1])

    def attend_bands(self, bands, band_mask=None, training=None, bias=None):
        """Window attention on rows of windows.

        bands: [R, ws, W, C], R rows of windows (one window high each).
        band_mask: None or [R, nw, N, N] additive mask of those windows.
        bias: None or the [heads, N, N] `relative_position_bias()`, to gather it once
          per call rather than once per row when called in a loop.
        Returns [R, ws, W, C]. q, k and v are reshuffled into windows in one transpose
        (after the per-token qkv matmul) and the output in one transpose back.
        """
        ws, heads, c = self.window_size, self.num_heads, self.dim
        hd = c // heads
        n = ws * ws
        scale = self.qk_scale if self.qk_scale is not None else hd ** -0.5
        shape = tf.shape(bands)
        r, w = shape[0], shape[2]
        nw = w // ws

        qkv = tf.matmul(tf.reshape(bands, [-1, c]), self.qkv.kernel)
        if self.qkv_bias:
            qkv = qkv + self.qkv.bias
        # [R, ws, nw, ws, 3, heads, hd] -> [3, R, nw, heads, ws, ws, hd]
        qkv = tf.reshape(qkv, [r, ws, nw, ws, 3, heads, hd])
        qkv = tf.transpose(qkv, [4, 0, 2, 5, 1, 3, 6])
        qkv = tf.reshape(qkv, [3, -1, heads, n, hd])
        q, k, v = qkv[0] * scale, qkv[1], qkv[2]

        if bias is None:
            bias = self.relative_position_bias()
        logits = tf.matmul(q, k, transpose_b=True) + bias[None]
        if band_mask is not None:
            logits = logits + tf.reshape(tf.cast(band_mask, logits.dtype), [-1, 1, n, n])
        # softmax(logits) @ v with the normalisation applied to the [N, hd] product
        # instead of the [N, N] weights: one pass less over the logits (dropout, a
        # per-weight scaling, commutes with the per-row division).
        weights = tf.exp(logits - tf.reduce_max(logits, axis=-1, keepdims=True))
        total = tf.reduce_sum(weights, axis=-1, keepdims=True)  # [R*nw, heads, N, 1]
        weights = self.attn_dropout(weights, training=training)
        out = tf.matmul(weights, v) / total
        # [R, nw, heads, ws, ws, hd] -> [R, ws, nw, ws, heads, hd]
        out = tf.transpose(tf.reshape(out, [r, nw, heads, ws, ws, hd]), [0, 3, 1, 4, 2, 5])
        out = tf.matmul(tf.reshape(out, [-1, c]), self.proj.kernel) + self.proj.bias
        out = self.proj_dropout(out, training=training)
        return tf.reshape(out, shape)

    def call(self, x, attn_mask=None, training=None):
        shape = tf.shape(x)
        bands = to_bands(x, self.window_size)
        band_mask = None if attn_mask is None else mask_to_bands(
            attn_mask, shape[0], shape[1] // self.window_size, shape[2] // self.window_size)
        if use_band_loop(training):
            out = map_bands(lambda b, m: self.attend_bands(b, m), bands, band_mask)
        else:
            out = self.attend_bands(bands, band_mask, training=training)
        return tf.reshape(out, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "window_size": self.window_size,
            "qkv_bias": self.qkv_bias, "qk_scale": self.qk_scale,
            "attn_drop": self.attn_drop, "proj_drop": self.proj_drop,
        })
        return config
