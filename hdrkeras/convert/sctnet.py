"""Official SCTNet checkpoints (Zongwei97/SCTNet models/SCTNet.py) -> hdrkeras SCTNet."""

from hdrkeras.convert import torch_checkpoint as tc

# Official constructor arguments that have no counterpart in the port (and why).
_IGNORED = {
    "img_size": "only sizes the stored attn_mask buffers; masks are computed for any size",
    "upscale": "the official UpsampleOneStep has no PixelShuffle: upscale is a no-op",
    "upsampler": "unused by the official forward", "resi_connection": "only '1conv' exists",
}
_ACCEPTED = ("embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "qkv_bias",
             "qk_scale", "drop_rate", "attn_drop_rate", "drop_path_rate", "img_range")


def model_kwargs(config, state_dict):
    """Official SCTNet config (or None: inferred from the weights) -> SCTNet kwargs."""
    return tc.swin_model_kwargs('sctnet', config, state_dict, accepted=_ACCEPTED,
                                ignored=_IGNORED, in_chans=18, embed_key='conv_end.weight')


def assign_weights(model, state_dict, rgb=False, source="sctnet"):
    """Copies official SCTNet weights into `model` (strict; attn_mask and
    relative_position_index buffers are ignored: the port computes them)."""
    a = tc.StateDictAssigner(state_dict, source, ("attn_mask", "relative_position_index"))
    in_perm = tc.FRAME_BGR_PERM if rgb else None
    for name in ("conv1", "conv2", "conv3"):
        a.conv(name, model.get_layer(name), in_perm=in_perm)
    a.conv("conv_end", model.get_layer("conv_end"))
    a.linear("conv_first.fc1", model.get_layer("conv_first").fc1)
    a.linear("conv_first.fc2", model.get_layer("conv_first").fc2)
    a.norm("patch_embed.norm", model.get_layer("patch_embed_norm"))
    for i in range(len(model.depths)):
        tc.assign_swin_group(a, f"layers.{i}", model.get_layer(f"layers_{i}"))
        for side in ("lm", "rm"):
            scab = model.get_layer(f"channel_layers_{side}_{i}")
            p = f"channel_layers_{side}.{i}"
            a.norm(p + ".norm1_x.body", scab.norm1_x)
            a.norm(p + ".norm1_y.body", scab.norm1_y)
            a.tensor(p + ".attn.temperature", scab.temperature, lambda t: t.reshape(-1))
            for conv in ("q", "k", "v", "project_out"):
                a.conv(f"{p}.attn.{conv}", getattr(scab, conv))
            a.norm(p + ".norm2", scab.norm2)
            a.linear(p + ".ffn.fc1", scab.ffn.fc1)
            a.linear(p + ".ffn.fc2", scab.ffn.fc2)
        mlp = model.get_layer(f"mlps_{i}")
        a.linear(f"mlps.{i}.fc1", mlp.fc1)
        a.linear(f"mlps.{i}.fc2", mlp.fc2)
    a.norm("norm", model.get_layer("norm"))
    a.conv("conv_after_body", model.get_layer("conv_after_body"))
    a.conv("upsample.0", model.get_layer("upsample"),
           out_perm=tc.OUTPUT_BGR_PERM if rgb else None)
    return a.finish(model)


def load_reference(name, state_dict, config=None, *, rgb=False, crop_output=True,
                   padding="bottom_right"):
    """Builds `SCTNet` carrying official weights.

    Args:
      name: "sctnet".
      state_dict: mapping official key -> numpy array (torch layout; 'module.' optional).
      config: official constructor kwargs (meta.json "config"), or None to infer
        embed_dim/depths/num_heads/window_size from the weights.
      rgb: permute the first convs' input channels and the last conv's output channels
        so the model takes and returns RGB (official checkpoints are BGR, cv2-based).
      crop_output: see `SCTNet`. padding: see `SCTNet`.
    """
    from hdrkeras.models.sctnet import SCTNet  # noqa: PLC0415 - keep import light

    state_dict = tc.strip_module_prefix(state_dict)
    model = SCTNet(**model_kwargs(config, state_dict), padding=padding,
                   crop_output=crop_output)
    return assign_weights(model, state_dict, rgb=rgb, source=name)


def parity_forward(name, state_dict, config, inputs):
    """Runs the port on NCHW fixture inputs (BGR, as the official code) and returns the
    official-layout outputs: out_hdr (from x1..x3) and out_hdr_in2 (from in2_x*), both
    uncropped as the official forward returns them."""
    model = load_reference(name, state_dict, config, crop_output=False)
    out = {}
    for prefix, key in (("", "out_hdr"), ("in2_", "out_hdr_in2")):
        if prefix + "x1" in inputs:
            feeds = {f"x{i}": tc.nchw_to_nhwc(inputs[f"{prefix}x{i}"]) for i in (1, 2, 3)}
            out[key] = tc.nhwc_to_nchw(model.predict_on_batch(feeds))
    return out
