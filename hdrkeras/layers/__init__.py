"""Reusable Keras layers, one public layer per module, each registered serializable where
it is defined. Every layer module is imported here (explicitly, no file scanning) so that
importing the package registers them all: hdrkeras.saving relies on it to load any
hdrkeras `.keras` file. A new layer module is one more name below."""

from hdrkeras.layers import (  # noqa: F401
    crop_padding,
    dilated_residual_dense_block,
    drop_path,
    fft_residual_block,
    frame_inputs,
    gated_conv,
    hard_patch_attention,
    hat_weighted_merge,
    lanhdr_inputs,
    local_context_extractor,
    pad_to_multiple,
    reference_frame_hdr,
    residual_block,
    residual_swin_group,
    resize_like,
    shifted_window_mask,
    spatial_attention,
    spatial_channel_cross_attention,
    stacked_dilated_conv,
    swin_block,
    token_mlp,
    window_attention,
)
