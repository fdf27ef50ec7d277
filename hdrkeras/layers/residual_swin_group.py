"""A residual group of Swin blocks closed by a 3x3 conv (SwinIR RSTB / SCTNet GSAB / CTB)."""

import keras

from hdrkeras.layers.fast_conv2d import FastConv2D
from hdrkeras.layers.swin_block import SwinBlock


@keras.saving.register_keras_serializable(package="hdrkeras")
class ResidualSwinGroup(keras.layers.Layer):
    """x + conv3x3(blocks(x)); blocks alternate W-MSA and SW-MSA (odd index shifted).

    SwinIR's RSTB (Liang et al., ICCVW 2021), SCTNet's GSAB (conv dilation 1) and
    HDR-Transformer's ContextAwareTransformerBlock (`local_context=True`, dilation 2).

    Call args:
      inputs: [x, attn_mask]: x float32 [B, H, W, C] token map (H, W multiples of
        window_size); attn_mask float32 [nW, N, N] from `ShiftedWindowMask`
        (shift window_size//2), shared by all shifted blocks of the model.

    Returns float32 [B, H, W, C].

    Args:
      depth: int. Number of Swin blocks.
      num_heads: int. Attention heads of every block.
      window_size: int. Defaults to 8.
      mlp_ratio: float. Defaults to 4.
      qkv_bias: bool. Defaults to True.
      qk_scale: float or None. Defaults to None.
      drop: float. Defaults to 0.
      attn_drop: float. Defaults to 0.
      drop_path: float or list of `depth` floats. Per-block stochastic depth. Defaults to 0.
      local_context: bool. HDR-Transformer's LCE branch in every block. Defaults to False.
      conv_dilation: int. Dilation of the closing 3x3 conv (padding = dilation, 'same').
        Defaults to 1.
    """

    def __init__(self, depth, num_heads, window_size=8, mlp_ratio=4.0, qkv_bias=True,
                 qk_scale=None, drop=0.0, attn_drop=0.0, drop_path=0.0, local_context=False,
                 conv_dilation=1, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)
        self.num_heads = int(num_heads)
        self.window_size = int(window_size)
        self.mlp_ratio = float(mlp_ratio)
        self.qkv_bias = bool(qkv_bias)
        self.qk_scale = None if qk_scale is None else float(qk_scale)
        self.drop = float(drop)
        self.attn_drop = float(attn_drop)
        if isinstance(drop_path, (list, tuple)):
            if len(drop_path) != self.depth:
                raise ValueError(f"drop_path needs {self.depth} rates, got {drop_path!r}")
            self.drop_path = [float(r) for r in drop_path]
        else:
            self.drop_path = float(drop_path)
        self.local_context = bool(local_context)
        self.conv_dilation = int(conv_dilation)

    def build(self, input_shape):
        x_shape = input_shape[0]
        dim = int(x_shape[-1])
        rates = (self.drop_path if isinstance(self.drop_path, list)
                 else [self.drop_path] * self.depth)
        kw = dict(dtype=self.dtype_policy)
        self.blocks = []
        for i in range(self.depth):
            blk = SwinBlock(
                self.num_heads, self.window_size, 0 if i % 2 == 0 else self.window_size // 2,
                self.mlp_ratio, self.qkv_bias, self.qk_scale, self.drop, self.attn_drop,
                rates[i], self.local_context, name=f"blocks_{i}", **kw)
            blk.build([(None, None, None, dim), input_shape[1]])
            self.blocks.append(blk)
        self.conv = FastConv2D(dim, 3, padding="same", dilation_rate=self.conv_dilation,
                               name="conv", **kw)
        self.conv.build((None, None, None, dim))
        self.built = True

    def call(self, inputs, training=None):
        x, attn_mask = inputs
        y = x
        for blk in self.blocks:
            y = blk([y, attn_mask], training=training)
        return self.conv(y) + x

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({
            "depth": self.depth, "num_heads": self.num_heads, "window_size": self.window_size,
            "mlp_ratio": self.mlp_ratio, "qkv_bias": self.qkv_bias, "qk_scale": self.qk_scale,
            "drop": self.drop, "attn_drop": self.attn_drop, "drop_path": self.drop_path,
            "local_context": self.local_context, "conv_dilation": self.conv_dilation,
        })
        return config
