"""Pure tensor math: camera response, tonemaps, warping, merge weights, the eight
rotations/flips (numpy and/or TF). Padding to a network's multiple is the layer pair
hdrkeras.layers.pad_to_multiple / crop_padding."""

from hdrkeras.ops.response import GAMMA, ldr_to_hdr, ldr_to_linear, linear_to_ldr, reexpose
from hdrkeras.ops.tonemap import MU, mu_law, mu_law_inverse, preview, pu21_encode, to_uint8
from hdrkeras.ops.warp import backward_warp, remap_bicubic
from hdrkeras.ops.weights import triangle_weight

__all__ = [
    "GAMMA", "MU", "backward_warp", "ldr_to_hdr", "ldr_to_linear",
    "linear_to_ldr", "mu_law", "mu_law_inverse", "preview",
    "pu21_encode", "reexpose", "remap_bicubic", "to_uint8", "triangle_weight",
]
