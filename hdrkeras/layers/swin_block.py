"""Swin transformer block (SwinIR's, and HDR-Transformer's context-aware variant)."""

import keras
import tensorflow as tf

from hdrkeras.layers.drop_path import DropPath
from hdrkeras.layers.local_context_extractor import LocalContextExtractor
from hdrkeras.layers.token_mlp import TokenMlp
from hdrkeras.layers.cpu_inference import (compiled_inference, inference_parts, use_band_loop,
                                           use_compiled_inference)
from hdrkeras.layers.window_attention import WindowAttention, map_bands, mask_to_bands, to_bands


@keras.saving.register_keras_serializable(package="hdrkeras")
class SwinBlock(keras.layers.Layer):
    """x + (S)W-MSA(LN(x)), then + MLP(LN(.)) [, then + LCE(LN1(x)) if local_context].

    Swin/SwinIR block (SCTNet's GSAB blocks); with `local_context=True` it is
    HDR-Transformer's ContextAwareTransformer, whose LCE branch sees the normalised,
    UNSHIFTED input and is added after the MLP. Shifted blocks roll the map by
    -shift before window attention and by +shift after.

    Call args:
      inputs: x, float32 [B, H, W, C] token map (H, W multiples of window_size), or
        [x, attn_mask] with attn_mask float32 [nW, N, N] from `ShiftedWindowMask`
        (required when shift_size > 0; ignored otherwise: the official all-zero mask
        of unshifted blocks has no effect).

    Returns float32 [B, H, W, C].

    Args:
      num_heads: int. Attention heads.
      window_size: int. Window side. Defaults to 8.
      shift_size: int. Cyclic shift (0 for W-MSA, window_size//2 for SW-MSA). Defaults to 0.
      mlp_ratio: float. MLP hidden width / C. Defaults to 4.
      qkv_bias: bool. Defaults to True.
      qk_scale: float or None. Defaults to None (head_dim**-0.5).
      drop: float. Dropout after projections. Defaults to 0.
      attn_drop: float. Attention-weight dropout. Defaults to 0.
      drop_path: float. Stochastic-depth rate of both residual branches. Defaults to 0.
      local_context: bool. Add HDR-Transformer's LCE branch. Defaults to False.
    """

    def __init__(self, num_heads, window_size=8, shift_size=0, mlp_ratio=4.0, qkv_bias=True,
                 qk_scale=None, drop=0.0, attn_drop=0.0, drop_path=0.0, local_context=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.window_size = int(window_size)
        self.shift_size = int(shift_size)
        if not 0 <= self.shift_size < self.window_size:
            raise ValueError(f"shift_size must be in [0, window_size), got {shift_size!r}")
        self.mlp_ratio = float(mlp_ratio)
        self.qkv_bias = bool(qkv_bias)
        self.qk_scale = None if qk_scale is None else float(qk_scale)
        self.drop = float(drop)
        self.attn_drop = float(attn_drop)
        self.drop_path = float(drop_path)
        self.local_context = bool(local_context)

    def build(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        dim = int(input_shape[-1])
        kw = dict(dtype=self.dtype_policy)
        map_shape = (None, None, None, dim)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1", **kw)
        self.norm1.build(map_shape)
        self.attn = WindowAttention(self.num_heads, self.window_size, self.qkv_bias,
                                    self.qk_scale, self.attn_drop, self.drop, name="attn", **kw)
        self.attn.build(map_shape)
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2", **kw)
        self.norm2.build(map_shape)
        self.mlp = TokenMlp(int(dim * self.mlp_ratio), drop=self.drop, name="mlp", **kw)
        self.mlp.build(map_shape)
        self.drop_path_layer = DropPath(self.drop_path, name="drop_path", **kw)
        if self.local_context:
            self.lce = LocalContextExtractor(name="lce", **kw)
            self.lce.build(map_shape)
        self.built = True

    def call(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)):
            x, attn_mask = inputs
        else:
            x, attn_mask = inputs, None
        s, ws = self.shift_size, self.window_size
        if s > 0 and attn_mask is None:
            raise ValueError("a shifted SwinBlock needs [x, attn_mask] as input")
        if use_band_loop(training):
            return self.banded_inference(x, attn_mask,
                                         compiled=use_compiled_inference(training))
        shape = tf.shape(x)
        xs, band_mask = self._shift(x, attn_mask)
        a = self.attn.attend_bands(self.norm1(to_bands(xs, ws)), band_mask, training=training)
        y = xs + self.drop_path_layer(tf.reshape(a, shape), training=training)
        y = y + self.drop_path_layer(self.mlp(self.norm2(y), training=training),
                                     training=training)
        return self._unshift_and_add_context(x, y)

    def _shift(self, x, attn_mask):
        """(x cyclically shifted, its mask as [rows of windows, nw, N, N] or None).

        Norms, MLP and residuals are per token, so they commute with the cyclic shift:
        shift once, run the whole block on the shifted map, shift back.
        """
        s, ws = self.shift_size, self.window_size
        if s == 0:
            return x, None
        shape = tf.shape(x)
        band_mask = mask_to_bands(attn_mask, shape[0], shape[1] // ws, shape[2] // ws)
        return tf.roll(x, shift=[-s, -s], axis=[1, 2]), band_mask

    def _unshift_and_add_context(self, x, y, compiled=False):
        if self.shift_size > 0:
            y = tf.roll(y, shift=[self.shift_size, self.shift_size], axis=[1, 2])
        if self.local_context:
            y = y + (self.lce.compiled_call(x, self.norm1) if compiled
                     else self.lce(self.norm1(x)))
        return y

    def banded_inference(self, x, attn_mask, compiled=False):
        """Inference forward one row of windows at a time (see `use_band_loop`).

        compiled: run the rows as `inference_parts()` XLA-compiled calls over disjoint
          row ranges. One compiled row loop is single-threaded; independent calls run
          concurrently on TF's inter-op threads.
        """
        shape = tf.shape(x)
        xs, band_mask = self._shift(x, attn_mask)
        bands = to_bands(xs, self.window_size)
        if not compiled:
            y = self.rows_forward(bands, band_mask)
            return self._unshift_and_add_context(x, tf.reshape(y, shape))
        # Equal parts (one XLA compile per block); rows padded with zeros to a multiple
        # of the part count and dropped after.
        rows, n_parts = tf.shape(bands)[0], inference_parts()
        per_part = (rows + n_parts - 1) // n_parts
        extra = per_part * n_parts - rows
        bands = tf.pad(bands, [[0, extra], [0, 0], [0, 0], [0, 0]])
        if band_mask is not None:
            band_mask = tf.pad(band_mask, [[0, extra], [0, 0], [0, 0], [0, 0]])
        parts = []
        for i in range(n_parts):
            part = slice(i * per_part, (i + 1) * per_part)
            parts.append(compiled_inference(
                self, "rows_forward", bands[part],
                None if band_mask is None else band_mask[part]))
        y = tf.reshape(tf.concat(parts, 0)[:rows], shape)
        return compiled_inference(self, "_unshift_and_add_context", x, y, True)

    def rows_forward(self, bands, band_mask):
        """Attention and MLP with residuals on rows of windows [R, ws, W, C], row by row."""
        bias = self.attn.relative_position_bias()

        def block(band, mask):
            y = band + self.attn.attend_bands(self.norm1(band), mask, bias=bias)
            return y + self.mlp(self.norm2(y))

        return map_bands(block, bands, band_mask)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)):
            return input_shape[0]
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "window_size": self.window_size,
            "shift_size": self.shift_size, "mlp_ratio": self.mlp_ratio,
            "qkv_bias": self.qkv_bias, "qk_scale": self.qk_scale, "drop": self.drop,
            "attn_drop": self.attn_drop, "drop_path": self.drop_path,
            "local_context": self.local_context,
        })
        return config
