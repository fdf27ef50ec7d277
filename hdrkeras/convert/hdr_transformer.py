"""Official HDR-Transformer checkpoints (liuzhen03/HDR-Transformer-PyTorch, SelfHDR's copy
models/hdr_transformer.py) -> hdrkeras HDRTransformer."""

from hdrkeras.convert import torch_checkpoint as tc

_IGNORED = ("img_size",)  # only sizes the stored attn_mask buffers
_ACCEPTED = ("embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "qkv_bias",
             "qk_scale", "drop_rate", "attn_drop_rate", "drop_path_rate")


def model_kwargs(config, state_dict):
    """Official HDRTransformer config (or None: inferred from the weights) -> kwargs."""
    return tc.swin_model_kwargs('hdr_transformer', config, state_dict, accepted=_ACCEPTED,
                                ignored=_IGNORED, in_chans=6, embed_key='conv_f1.weight')


def assign_weights(model, state_dict, rgb=False, source="hdr_transformer"):
    """Copies official HDR-Transformer weights into `model` (strict; attn_mask and
    relative_position_index buffers are ignored: the port computes them)."""
    a = tc.StateDictAssigner(state_dict, source, ("attn_mask", "relative_position_index"))
    in_perm = tc.FRAME_BGR_PERM if rgb else None
    for name in ("conv_f1", "conv_f2", "conv_f3"):
        a.conv(name, model.get_layer(name), in_perm=in_perm)
    for name in ("att_module_h", "att_module_l"):
        layer = model.get_layer(name)
        a.conv(name + ".att1", layer.conv1)
        a.conv(name + ".att2", layer.conv2)
    a.conv("conv_first", model.get_layer("conv_first"))
    a.norm("patch_embed.norm", model.get_layer("patch_embed_norm"))
    for i in range(len(model.depths)):
        tc.assign_swin_group(a, f"layers.{i}", model.get_layer(f"layers_{i}"),
                             conv_name="dilated_conv")
    a.norm("norm", model.get_layer("norm"))
    a.conv("conv_after_body", model.get_layer("conv_after_body"))
    a.conv("conv_last", model.get_layer("conv_last"),
           out_perm=tc.OUTPUT_BGR_PERM if rgb else None)
    return a.finish(model)


def load_reference(name, state_dict, config=None, *, rgb=False, crop_output=True,
                   padding="bottom_right"):
    """Builds `HDRTransformer` carrying official weights.

    Args:
      name: "hdr_transformer".
      state_dict: mapping official key -> numpy array (torch layout; 'module.' optional).
      config: official constructor kwargs (meta.json "config"), or None to infer them.
      rgb: permute first/last conv channels so the model takes and returns RGB.
      crop_output, padding: see `HDRTransformer` ("center_chop" = SelfHDR test wrapper).
    """
    from hdrkeras.models.hdr_transformer import HDRTransformer  # noqa: PLC0415

    state_dict = tc.strip_module_prefix(state_dict)
    model = HDRTransformer(**model_kwargs(config, state_dict), padding=padding,
                           crop_output=crop_output)
    return assign_weights(model, state_dict, rgb=rgb, source=name)


# output name -> (input prefix, padding, crop_output)
_OUTPUTS = {
    "out_hdr_chop": ("", "center_chop", True),
    "out_hdr_chop_uncropped": ("", "center_chop", False),
    "out_hdr_in2": ("in2_", "bottom_right", True),
    "out_hdr_in2_chop": ("in2_", "center_chop", True),
}


def parity_forward(name, state_dict, config, inputs):
    """Runs the port on NCHW fixture inputs (BGR) and returns the official-layout outputs:
    SelfHDR's chop path (centred reflect pad, crop) cropped and uncropped, and the direct
    forward at a multiple of the window (in2)."""
    models, out = {}, {}
    for key, (prefix, padding, crop) in _OUTPUTS.items():
        if prefix + "x1" not in inputs:
            continue
        if (padding, crop) not in models:
            models[padding, crop] = load_reference(name, state_dict, config,
                                                   crop_output=crop, padding=padding)
        feeds = {f"x{i}": tc.nchw_to_nhwc(inputs[f"{prefix}x{i}"]) for i in (1, 2, 3)}
        out[key] = tc.nhwc_to_nchw(models[padding, crop].predict_on_batch(feeds))
    return out
