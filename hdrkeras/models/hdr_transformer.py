"""HDR-Transformer: ghost-free HDR imaging with a context-aware transformer.

Liu, Wang, Zeng, Liu, Guo, Wang, Yan, ECCV 2022; official code
github.com/liuzhen03/HDR-Transformer-PyTorch, as copied in cszhilu1998/SelfHDR
(models/hdr_transformer.py), which is also SelfHDR's backbone. Faithful port: same
layers and parameter count (1,222,113 at the default config).
"""

import keras

from hdrkeras.layers.crop_padding import CropPadding
from hdrkeras.layers.fast_conv2d import FastConv2D
from hdrkeras.layers.pad_to_multiple import PLACEMENTS, PadToMultiple
from hdrkeras.layers.residual_swin_group import ResidualSwinGroup
from hdrkeras.layers.shifted_window_mask import ShiftedWindowMask
from hdrkeras.layers.spatial_attention import SpatialAttention
from hdrkeras.layers.torch_compat import TORCH_CONV_INIT, stochastic_depth_rates
from hdrkeras.models.contract import FRAME_INPUTS, NetworkConfig


@keras.saving.register_keras_serializable(package="hdrkeras")
class HDRTransformer(NetworkConfig, keras.Model):
    """HDR-Transformer merging network (functional).

    Inputs "x1", "x2", "x3": float32 [B, H, W, 6] for the short, reference (middle) and
    long frame; channels [H_i (3), L_i (3)] with L_i the gamma LDR in [0,1] and
    H_i = L_i**2.2 / t_i linear, colour order RGB (BGR for official checkpoints unless
    converted with rgb=True). The official forward needs H, W multiples of the window;
    this model reflect-pads internally ("bottom_right": to the next multiple, or
    "center_chop": SelfHDR's test wrapper, a full window even at a multiple, centred)
    and crops the output back unless `crop_output=False`.

    Structure: per-frame 3x3 convs (6 -> C), spatial attention of frames 1 and 3 against
    the reference (`att_module_h` gates frame 1, `att_module_l` frame 3), conv_first
    (3C -> C), LayerNorm, context-aware transformer blocks (Swin blocks + LCE, dilated
    3x3 conv, residual), LayerNorm, conv_after_body(features + x), conv_last(f2 + .),
    sigmoid.

    Output: float32 [B, H, W, 3] linear HDR in [0, 1].

    Args:
      embed_dim: int. Feature channels C. Defaults to 60.
      depths: list of int. Blocks per context-aware stage. Defaults to [6, 6, 6].
      num_heads: list of int. Attention heads per stage. Defaults to [6, 6, 6].
      window_size: int. Swin window (also the padding multiple). Defaults to 8.
      mlp_ratio: float. MLP hidden width / C. Defaults to 2.
      qkv_bias: bool. Defaults to True.
      qk_scale: float or None. Defaults to None (head_dim**-0.5).
      drop_rate: float. Defaults to 0.
      attn_drop_rate: float. Defaults to 0.
      drop_path_rate: float. Final stochastic-depth rate (linear from 0). Defaults to 0.1.
      padding: str. "bottom_right" or "center_chop". Defaults to "bottom_right".
      crop_output: bool. Crop the output back to the input size. Defaults to True.
    """

    def __init__(self, embed_dim=60, depths=(6, 6, 6), num_heads=(6, 6, 6), window_size=8,
                 mlp_ratio=2.0, qkv_bias=True, qk_scale=None, drop_rate=0.0,
                 attn_drop_rate=0.0, drop_path_rate=0.1, padding="bottom_right",
                 crop_output=True, **kwargs):
        depths = [int(d) for d in depths]
        num_heads = [int(h) for h in num_heads]
        if len(depths) != len(num_heads):
            raise ValueError(f"depths {depths} and num_heads {num_heads} differ in length")
        if padding not in PLACEMENTS:
            raise ValueError(f"padding must be one of {PLACEMENTS}, got {padding!r}")

        # === Layers ===
        def conv(filters, name):
            return FastConv2D(filters, 3, padding="same", kernel_initializer=TORCH_CONV_INIT,
                              name=name)

        pad = PadToMultiple(window_size, padding, name="pad")
        conv_f1, conv_f2, conv_f3 = (conv(embed_dim, f"conv_f{i}") for i in (1, 2, 3))
        att_module_h = SpatialAttention(0.01, name="att_module_h")
        att_module_l = SpatialAttention(0.01, name="att_module_l")
        conv_first = conv(embed_dim, "conv_first")
        patch_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="patch_embed_norm")
        mask_layer = ShiftedWindowMask(window_size, window_size // 2, name="attn_mask")
        dpr = stochastic_depth_rates(depths, drop_path_rate)
        stages = [
            ResidualSwinGroup(depth, heads, window_size, mlp_ratio, qkv_bias, qk_scale,
                              drop_rate, attn_drop_rate, dpr[i], local_context=True,
                              conv_dilation=2, name=f"layers_{i}")
            for i, (depth, heads) in enumerate(zip(depths, num_heads))]
        norm = keras.layers.LayerNormalization(epsilon=1e-5, name="norm")
        conv_after_body = conv(embed_dim, "conv_after_body")
        conv_last = conv(3, "conv_last")

        # === Functional model ===
        ops = keras.ops
        inputs = {k: keras.Input((None, None, 6), name=k) for k in FRAME_INPUTS}
        x1_in, x2_in, x3_in = (inputs[k] for k in FRAME_INPUTS)
        x = pad(ops.concatenate([x1_in, x2_in, x3_in], axis=-1))
        f1 = conv_f1(x[..., 0:6])
        f2 = conv_f2(x[..., 6:12])
        f3 = conv_f3(x[..., 12:18])
        f1_att = att_module_h([f1, f2])
        f3_att = att_module_l([f3, f2])
        x = conv_first(ops.concatenate([f1_att, f2, f3_att], axis=-1))
        h = patch_norm(x)
        mask = mask_layer(h)
        for stage in stages:
            h = stage([h, mask])
        h = norm(h)
        res = conv_after_body(h + x)
        out = ops.sigmoid(conv_last(f2 + res))
        if crop_output:
            out = CropPadding(window_size, padding, name="crop")([out, x1_in])
        super().__init__(inputs=inputs, outputs=out, **kwargs)

        # === Config ===
        self.set_config(
            embed_dim=int(embed_dim), depths=depths, num_heads=num_heads,
            window_size=int(window_size), mlp_ratio=float(mlp_ratio), qkv_bias=bool(qkv_bias),
            qk_scale=None if qk_scale is None else float(qk_scale), drop_rate=float(drop_rate),
            attn_drop_rate=float(attn_drop_rate), drop_path_rate=float(drop_path_rate),
            padding=padding, crop_output=bool(crop_output))
