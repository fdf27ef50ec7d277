"""DeAltHDR's pre-norm transformer block with a selectable token mixer and feed-forward."""

import keras

from hdrkeras.errors import ConfigError
from hdrkeras.layers.bias_free_layer_norm import BiasFreeLayerNorm
from hdrkeras.layers.channel_attention import ChannelAttention
from hdrkeras.layers.feed_forward import FeedForward
from hdrkeras.layers.gated_feed_forward import GatedFeedForward
from hdrkeras.layers.reduced_attention import ReducedAttention

# 'FGMA' as a block mixer exists officially but no config uses it and its forward adds
# zeros without a reference frame; the model applies FGMA outside the blocks instead.
ATTENTION_TYPES = ("Channel", "FHR", "ReducedAttn", "NoAttn")
FFW_TYPES = ("GFFW", "FFW")
LAYER_NORM_TYPES = ("WithBias", "BiasFree")


@keras.saving.register_keras_serializable(package="hdrkeras")
class DeAltHDRBlock(keras.layers.Layer):
    """x = x + attn(LN1(x)); x = x + ffn(LN2(x)) (DeAltHDR `DeAltHDRBlock`).

    LayerNorm is over channels per pixel, eps 1e-5 inside the square root. With 'NoAttn'
    only the feed-forward half runs (norm1 still exists, as officially, so checkpoints
    keep their keys).

    Call args:
      x: float [B, H, W, C] NHWC features.

    Returns float [B, H, W, C].

    Args:
      attention_type: str. 'Channel' or 'FHR' (ChannelAttention), 'ReducedAttn' or
        'NoAttn'. Defaults to 'Channel'.
      ffw_type: str. 'GFFW' (GatedFeedForward) or 'FFW' (FeedForward). Defaults to 'GFFW'.
      num_heads: int. Heads of channel attention. Defaults to 1.
      ffn_expansion_factor: float. GFFW hidden width / C. Defaults to 2.66.
      bias: bool. Bias on attention / GFFW convs. Defaults to False.
      layer_norm_type: str. 'WithBias' or 'BiasFree'. Defaults to 'WithBias'.
    """

    def __init__(self, attention_type="Channel", ffw_type="GFFW", num_heads=1,
                 ffn_expansion_factor=2.66, bias=False, layer_norm_type="WithBias", **kwargs):
        super().__init__(**kwargs)
        for value, allowed, what in ((attention_type, ATTENTION_TYPES, "attention_type"),
                                     (ffw_type, FFW_TYPES, "ffw_type"),
                                     (layer_norm_type, LAYER_NORM_TYPES, "layer_norm_type")):
            if value not in allowed:
                raise ConfigError(f"DeAltHDRBlock: {what} must be one of {allowed}, "
                                  f"got {value!r}")
        self.attention_type = attention_type
        self.ffw_type = ffw_type
        self.num_heads = int(num_heads)
        self.ffn_expansion_factor = float(ffn_expansion_factor)
        self.bias = bool(bias)
        self.layer_norm_type = layer_norm_type

    def _norm(self, name):
        if self.layer_norm_type == "BiasFree":
            return BiasFreeLayerNorm(name=name, dtype=self.dtype_policy)
        return keras.layers.LayerNormalization(epsilon=1e-5, name=name,
                                               dtype=self.dtype_policy)

    def build(self, input_shape):
        kw = dict(dtype=self.dtype_policy)
        self.norm1 = self._norm("norm1")
        self.norm1.build(input_shape)
        if self.attention_type in ("Channel", "FHR"):
            self.attn = ChannelAttention(self.num_heads, self.bias, name="attn", **kw)
        elif self.attention_type == "ReducedAttn":
            self.attn = ReducedAttention(name="attn", **kw)
        else:
            self.attn = None
        if self.attn is not None:
            self.attn.build(input_shape)
        self.norm2 = self._norm("norm2")
        self.norm2.build(input_shape)
        if self.ffw_type == "GFFW":
            self.ffn = GatedFeedForward(self.ffn_expansion_factor, self.bias, name="ffn", **kw)
        else:
            self.ffn = FeedForward(name="ffn", **kw)
        self.ffn.build(input_shape)
        self.built = True

    def call(self, x):
        if self.attn is not None:
            x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"attention_type": self.attention_type, "ffw_type": self.ffw_type,
                       "num_heads": self.num_heads,
                       "ffn_expansion_factor": self.ffn_expansion_factor, "bias": self.bias,
                       "layer_norm_type": self.layer_norm_type})
        return config
