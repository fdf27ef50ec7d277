"""SCTNet: alignment-free HDR deghosting with a semantics consistent transformer.

Tel, Wu, Zhang, Heyrman, Demonceaux, Timofte, Ginhac, ICCV 2023; official code
github.com/Zongwei97/SCTNet (models/SCTNet.py, models/SCAB.py). Faithful port: same
layers and parameter count (994,555 at the default config), exact GELU, LayerNorm eps
1e-5, -100 shifted-window mask (computed in-graph for any H, W).
"""

import keras

from hdrkeras.layers.crop_padding import CropPadding
from hdrkeras.layers.fast_conv2d import FastConv2D
from hdrkeras.layers.pad_to_multiple import PLACEMENTS, PadToMultiple
from hdrkeras.layers.residual_swin_group import ResidualSwinGroup
from hdrkeras.layers.shifted_window_mask import ShiftedWindowMask
from hdrkeras.layers.spatial_channel_cross_attention import SpatialChannelCrossAttention
from hdrkeras.layers.token_mlp import TokenMlp
from hdrkeras.layers.torch_compat import TORCH_CONV_INIT, stochastic_depth_rates
from hdrkeras.models.contract import FRAME_INPUTS, NetworkConfig

@keras.saving.register_keras_serializable(package="hdrkeras")
class SCTNet(NetworkConfig, keras.Model):
    """SCTNet HDR merging network (functional).

    Inputs "x1", "x2", "x3": float32 [B, H, W, 6] for the short, reference (middle) and
    long frame; channels [H_i (3), L_i (3)] with L_i the gamma LDR in [0,1] and
    H_i = L_i**2.2 / t_i its linear-domain version, colour order RGB (BGR for the
    official checkpoints unless converted with rgb=True). Any H, W: the 18-channel stack
    is reflect-padded bottom/right to a multiple of `window_size` (official
    `check_image_size`) and the output cropped back.

    Output: float32 [B, H, W, 3] linear HDR in [0, 1] (sigmoid; trained against
    mu-law tonemapped targets). With `crop_output=False` the output keeps the padded
    size, as the official forward returns it (its crop is a no-op, see meta notes).

    Args:
      embed_dim: int. Token channels (3 frames x embed_dim//3 shallow features).
        Defaults to 60.
      depths: list of int. Swin blocks per stage. Defaults to [6, 6, 6, 6].
      num_heads: list of int. Swin attention heads per stage. Defaults to [6, 6, 6, 6].
      window_size: int. Swin window side (also the padding multiple). Defaults to 8.
      mlp_ratio: float. Swin MLP hidden width / embed_dim. Defaults to 2.
      qkv_bias: bool. Defaults to True.
      qk_scale: float or None. Defaults to None (head_dim**-0.5).
      drop_rate: float. Dropout in MLPs/projections. Defaults to 0.
      attn_drop_rate: float. Attention dropout. Defaults to 0.
      drop_path_rate: float. Final stochastic-depth rate (linear from 0). Defaults to 0.1.
      img_range: float. Input scale (x * img_range in, / img_range out). Defaults to 1.
      channel_num_heads: int. Heads of every SCAB (hard-coded 4 officially). Defaults to 4.
      padding: str. "bottom_right" (official) or "center_chop" (SelfHDR test wrapper).
        Defaults to "bottom_right".
      crop_output: bool. Crop the output back to the input size. Defaults to True.
    """

    def __init__(self, embed_dim=60, depths=(6, 6, 6, 6), num_heads=(6, 6, 6, 6),
                 window_size=8, mlp_ratio=2.0, qkv_bias=True, qk_scale=None, drop_rate=0.0,
                 attn_drop_rate=0.0, drop_path_rate=0.1, img_range=1.0, channel_num_heads=4,
                 padding="bottom_right", crop_output=True, **kwargs):
        depths = [int(d) for d in depths]
        num_heads = [int(h) for h in num_heads]
        if len(depths) != len(num_heads):
            raise ValueError(f"depths {depths} and num_heads {num_heads} differ in length")
        if embed_dim % 3:
            raise ValueError(f"embed_dim must be divisible by 3, got {embed_dim!r}")
        if padding not in PLACEMENTS:
            raise ValueError(f"padding must be one of {PLACEMENTS}, got {padding!r}")
        feat = embed_dim // 3

        # === Layers ===
        pad = PadToMultiple(window_size, padding, name="pad")
        conv1 = FastConv2D(feat, 3, padding="same", kernel_initializer=TORCH_CONV_INIT,
                           name="conv1")
        conv2 = FastConv2D(feat, 3, padding="same", kernel_initializer=TORCH_CONV_INIT,
                           name="conv2")
        conv3 = FastConv2D(feat, 3, padding="same", kernel_initializer=TORCH_CONV_INIT,
                           name="conv3")
        conv_end = FastConv2D(embed_dim, 3, padding="same", kernel_initializer=TORCH_CONV_INIT,
                              name="conv_end")
        conv_first = TokenMlp(embed_dim, drop=drop_rate, name="conv_first")
        patch_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="patch_embed_norm")
        mask_layer = ShiftedWindowMask(window_size, window_size // 2, name="attn_mask")
        dpr = stochastic_depth_rates(depths, drop_path_rate)
        stages, scab_lm, scab_rm, mlps = [], [], [], []
        for i, (depth, heads) in enumerate(zip(depths, num_heads)):
            stages.append(ResidualSwinGroup(
                depth, heads, window_size, mlp_ratio, qkv_bias, qk_scale, drop_rate,
                attn_drop_rate, dpr[i], name=f"layers_{i}"))
            scab_lm.append(SpatialChannelCrossAttention(
                channel_num_heads, 4, False, name=f"channel_layers_lm_{i}"))
            scab_rm.append(SpatialChannelCrossAttention(
                channel_num_heads, 4, False, name=f"channel_layers_rm_{i}"))
            mlps.append(TokenMlp(embed_dim, embed_dim, drop=drop_rate, name=f"mlps_{i}"))
        norm = keras.layers.LayerNormalization(epsilon=1e-5, name="norm")
        conv_after_body = FastConv2D(embed_dim, 3, padding="same",
                                     kernel_initializer=TORCH_CONV_INIT, name="conv_after_body")
        conv_last = FastConv2D(3, 3, padding="same", kernel_initializer=TORCH_CONV_INIT,
                               name="upsample")

        # === Functional model ===
        ops = keras.ops
        inputs = {k: keras.Input((None, None, 6), name=k) for k in FRAME_INPUTS}
        x1_in, x2_in, x3_in = (inputs[k] for k in FRAME_INPUTS)
        x = pad(ops.concatenate([x1_in, x2_in, x3_in], axis=-1))
        if img_range != 1.0:
            x = x * img_range
        f1 = conv1(x[..., 0:6])
        f2 = conv2(x[..., 6:12])
        f3 = conv3(x[..., 12:18])
        tokens = patch_norm(ops.concatenate([f1, f2, f3], axis=-1))
        t1, t2, t3 = (tokens[..., i * feat:(i + 1) * feat] for i in range(3))
        h = conv_first(tokens)
        mask = mask_layer(h)
        for stage, lm, rm, mlp in zip(stages, scab_lm, scab_rm, mlps):
            h = stage([h, mask])
            ref = t2 + h[..., feat:2 * feat]
            x_lm = lm([ref, t1 + h[..., 0:feat]])
            x_rm = rm([ref, t3 + h[..., 2 * feat:3 * feat]])
            h = mlp(ops.concatenate([x_lm, ref, x_rm], axis=-1))
        h = norm(h)
        h = conv_after_body(h) + conv_end(f2)
        h = conv_last(h)
        if img_range != 1.0:
            h = h / img_range
        out = ops.sigmoid(h)
        if crop_output:
            out = CropPadding(window_size, padding, name="crop")([out, x1_in])
        super().__init__(inputs=inputs, outputs=out, **kwargs)

        # === Config ===
        self.set_config(
            embed_dim=int(embed_dim), depths=depths, num_heads=num_heads,
            window_size=int(window_size), mlp_ratio=float(mlp_ratio), qkv_bias=bool(qkv_bias),
            qk_scale=None if qk_scale is None else float(qk_scale), drop_rate=float(drop_rate),
            attn_drop_rate=float(attn_drop_rate), drop_path_rate=float(drop_path_rate),
            img_range=float(img_range), channel_num_heads=int(channel_num_heads),
            padding=padding, crop_output=bool(crop_output))
