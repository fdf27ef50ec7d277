"""Optical-flow alignment of an exposure stack to its reference frame (no learned weights).

Each frame is registered to the reference with OpenCV's DIS flow computed on an
exposure-matched pair: the darker of the two is re-exposed to the brighter one's exposure
(clipping included), so both saturate in the same places and brightness constancy holds.
The frame is then warped onto the reference grid with a bicubic kernel; pixels whose
source left the frame take the reference re-exposed to that frame's exposure, so they
carry no ghost and no hole.
"""

import numpy as np

from hdrkeras.errors import ConfigError
from hdrkeras.ops.response import ldr_to_hdr, reexpose
from hdrkeras.ops.warp import remap_bicubic

PRESETS = ("ultrafast", "fast", "medium")


def _gray_u8(ldr):
    """Gamma LDR [H,W,3] in [0,1] -> uint8 luma, the input DIS expects."""
    y = ldr[..., 0] * 0.299 + ldr[..., 1] * 0.587 + ldr[..., 2] * 0.114
    return np.round(np.clip(y, 0.0, 1.0) * 255.0).astype(np.uint8)


def _dis(preset):
    import cv2

    if preset not in PRESETS:
        raise ConfigError(f"flow preset must be one of {PRESETS}, got {preset!r}")
    code = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}[preset]
    return cv2.DISOpticalFlow_create(code)


def exposure_matched_pair(reference, frame, t_reference, t_frame):
    """(reference, frame) as gamma LDR seen at the larger of the two exposures."""
    t_hi = max(float(t_reference), float(t_frame))
    ref = reexpose(ldr_to_hdr(reference, t_reference), t_hi)
    other = reexpose(ldr_to_hdr(frame, t_frame), t_hi)
    return ref, other


def flow_to_reference(reference, frame, t_reference, t_frame, preset="medium"):
    """float32 [H,W,2] flow on the reference grid: reference(x) ~ frame(x + flow(x))."""
    ref, other = exposure_matched_pair(reference, frame, t_reference, t_frame)
    return _dis(preset).calc(_gray_u8(ref), _gray_u8(other), None)


def align_to_reference(ldr, exposures, reference=None, preset="medium"):
    """Registers every frame of a stack to the reference frame.

    Args:
      ldr: float [N,H,W,3] gamma LDR in [0,1], increasing exposure.
      exposures: [N] relative exposure times.
      reference: index of the reference frame (default N // 2).
      preset: DIS preset, "ultrafast", "fast" or "medium". Defaults to "medium".

    Returns:
      (aligned float32 [N,H,W,3] in [0,1] with the reference unchanged,
       inside bool [N,H,W]: False where a frame's pixel was filled from the reference).
    """
    ldr = np.asarray(ldr, np.float32)
    t = np.asarray(exposures, np.float64).reshape(-1)
    if ldr.ndim != 4 or ldr.shape[-1] != 3:
        raise ConfigError(f"align_to_reference: ldr must be [N,H,W,3], got {ldr.shape}")
    n = ldr.shape[0]
    if t.shape[0] != n:
        raise ConfigError(f"align_to_reference: {n} frames but {t.shape[0]} exposures")
    r = n // 2 if reference is None else int(reference)
    hdr_ref = ldr_to_hdr(ldr[r], t[r])
    aligned = ldr.copy()
    inside = np.ones(ldr.shape[:3], bool)
    for i in range(n):
        if i == r:
            continue
        flow = flow_to_reference(ldr[r], ldr[i], t[r], t[i], preset)
        warped, ok = remap_bicubic(ldr[i], flow)
        fill = reexpose(hdr_ref, t[i])
        aligned[i] = np.where(ok[..., None], np.clip(warped, 0.0, 1.0), fill)
        inside[i] = ok
    return aligned, inside
