"""Zero-training video baselines printed beside every learned video result.

`video_reference_only`: the centre frame of the window linearised, H = L**2.2 / t. Clipped
highlights stay at 1 / t, dark regions keep their noise and quantisation.

`video_classical_merge`: the centre frame linearised, with its clipped and dark regions
filled from the neighbouring frames of the other exposure(s), aligned to the centre by
dense optical flow (OpenCV DIS). Per output frame c with window positions j != c:

  flow        DIS (preset MEDIUM) between the exposure-matched, gamma-encoded luminances
              of c and j: both frames' linear luminance re-exposed to the longer of the
              two exposures, clipped to [0,1], gamma 1/2.2, 8-bit. Computed in both
              directions, once per frame pair for the whole sequence.
  align       H~_j = backward_warp(H_j, F_c->j) (bilinear, the package's one warp).
  reliability r_j = inside_j * exp(-|e_fb|^2 / s_fb^2) * exp(-(dY / S_PHOTO)^2):
              inside_j the share of the bilinear footprint inside frame j; e_fb the
              forward-backward error F_c->j(p) + F_j->c(p + F_c->j(p)) in pixels with
              s_fb^2 = FB_ABS^2 + FB_REL * (|F_c->j|^2 + |F_j->c(warped)|^2) (Sundaram et
              al. 2010's occlusion test, made smooth); dY the difference of the
              exposure-matched gamma luminances of c and the warped j.
  weights     w_c = max(hat(L_c), FALLBACK_WEIGHT);
              w_j = W~_j * r_j * (1 - hat(L_c)) * side_j, with hat =
              hdrkeras.layers hat_weight on the pixel's worst channel (its minimum), W_j the
              neighbour's hat eroded by 3x3 (zero next to its clipped or black pixels, so
              bilinear warping cannot blend a clipped value into a trusted one) and W~_j
              that map warped to the centre. side_j selects the neighbours that can help:
              shorter exposures where the centre's worst channel is bright (max + min of
              L_c above 1), longer ones where it is dark; neighbours of the centre's own
              exposure share its clipping and are not used. The factor (1 - hat(L_c)) keeps
              neighbours out of the centre's well-exposed regions, so alignment errors can
              only show where the centre has no information anyway (clipped or dark).
  merge       H = (w_c H_c + sum_j w_j H~_j) / (w_c + sum_j w_j).

Where no neighbour is reliable the result falls back to the centre frame. Both baselines
implement the streaming protocol (hdrkeras.methods.streaming): per frame the linearised
frame and its luminance, per frame pair the two flows and the aligned frames.
"""

import numpy as np

from hdrkeras.errors import ConfigError, DataError
from hdrkeras.layers.hat_weighted_merge import FALLBACK_WEIGHT, hat_weight
from hdrkeras.layers.reference_frame_hdr import ReferenceFrameHDR
from hdrkeras.methods.base import Method, register
from hdrkeras.methods.baselines import _inputs
from hdrkeras.methods.streaming import StreamingModel
from hdrkeras.ops import response

# Rec. 709 luminance weights of linear RGB.
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
# Forward-backward consistency: absolute (pixels) and relative tolerance.
FB_ABS = 0.5
FB_REL = 0.01
# Photometric tolerance on exposure-matched gamma luminance (about 13 8-bit levels).
S_PHOTO = 0.05
# Smallest frame side DIS handles with its default pyramid.
MIN_SIZE = 16


def _luminance(hdr):
    return np.tensordot(hdr, LUMA, axes=([-1], [0])).astype(np.float32)


def _exposure_weight(ldr):
    """hat_weight of the pixel's worst channel, eroded by 3x3 [H,W]: zero next to clipped or
    black pixels too, so bilinear warping cannot mix a clipped value into a trusted one."""
    import cv2

    w = np.min(np.asarray(hat_weight(ldr)), -1).astype(np.float32)
    return cv2.erode(w, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)


def _matched_gray(luminance, exposure):
    """Linear luminance re-exposed to `exposure`, gamma-encoded, 8-bit [H,W] (DIS input)."""
    gamma = response.linear_to_ldr(luminance * exposure)
    return np.round(gamma * 255.0).astype(np.uint8)


def dis_flow(a, b):
    """Flow [H,W,2] (dx, dy) with a(p) ~ b(p + flow(p)): OpenCV DIS, preset MEDIUM, on 8-bit
    [H,W] images."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None).astype(np.float32)


_WARP = None


def warp(image, flow):
    """backward_warp of one [H,W,C] numpy image by [H,W,2] flow (zeros outside), traced
    once (eager op dispatch would cost ten times the arithmetic on small frames)."""
    global _WARP
    if _WARP is None:
        import tensorflow as tf

        from hdrkeras.ops.warp import backward_warp

        spec = [tf.TensorSpec([None, None, None, None], tf.float32),
                tf.TensorSpec([None, None, None, 2], tf.float32)]
        _WARP = tf.function(lambda x, f: backward_warp(x, f, border="zeros"),
                            input_signature=spec)
    return _WARP(image[None].astype(np.float32), flow[None].astype(np.float32)).numpy()[0]


def _align(target, source, flow, back_flow):
    """Aligns frame `source` to `target` with flow target->source; returns (hdr [H,W,3],
    weight [H,W]): the source's warped exposure weight times the reliability."""
    ones = np.ones(source["hdr"].shape[:2] + (1,), np.float32)
    stacked = np.concatenate([source["hdr"], back_flow, source["lum"][..., None],
                              source["weight"][..., None], ones], -1)
    warped = warp(stacked, flow)
    inside = np.clip(warped[..., 7], 0.0, 1.0)
    # Where a sample lies partly outside, renormalise so the inside part keeps its value.
    safe = np.maximum(warped[..., 7:8], 1e-6)
    hdr = warped[..., :3] / safe
    back = warped[..., 3:5] / safe
    lum = warped[..., 5] / safe[..., 0]
    weight = warped[..., 6] / safe[..., 0]
    fb_err = np.sum((flow + back) ** 2, -1)
    s_fb = FB_ABS ** 2 + FB_REL * (np.sum(flow ** 2, -1) + np.sum(back ** 2, -1))
    t_match = max(target["t"], source["t"])
    dy = (response.linear_to_ldr(target["lum"] * t_match)
          - response.linear_to_ldr(lum * t_match))
    reliability = inside * np.exp(-fb_err / s_fb) * np.exp(-(dy / S_PHOTO) ** 2)
    return hdr.astype(np.float32), (weight * reliability).astype(np.float32)


class ClassicalVideoMerge(StreamingModel):
    """Flow-aligned, reliability-weighted fill of the centre frame (module docstring).

    Args:
      num_frames: int or None. Window size; None = 2 * levels - 1 of the sequence (3 for a
        two-exposure video, 5 for three exposures), so both neighbours of every other
        exposure are used. Defaults to None.
    """

    name = "video_classical_merge"

    def __init__(self, num_frames=None):
        if num_frames is not None and (not isinstance(num_frames, int) or num_frames < 1
                                       or num_frames % 2 == 0):
            raise ConfigError(f"video_classical_merge: num_frames must be odd, got {num_frames!r}")
        self.num_frames = num_frames

    def window_size(self, sequence):
        if self.num_frames is not None:
            return self.num_frames
        return 2 * len(sequence.levels) - 1

    def frame_state(self, i, ldr, exposure):
        ldr = np.asarray(ldr, np.float32)
        if min(ldr.shape[:2]) < MIN_SIZE:
            raise DataError(f"{self.name}: frames of {ldr.shape[1]}x{ldr.shape[0]} pixels are "
                            f"too small for optical flow (at least {MIN_SIZE}x{MIN_SIZE})")
        hdr = np.asarray(response.ldr_to_hdr(ldr, np.float32(exposure)), np.float32)
        return {"ldr": ldr, "t": float(exposure), "hdr": hdr, "lum": _luminance(hdr),
                "weight": _exposure_weight(ldr)}

    def pairs(self, indices):
        centre = indices[len(indices) // 2]
        return [(centre, j) for k, j in enumerate(indices) if k != len(indices) // 2]

    def pair_state(self, i, j, state_i, state_j):
        t = max(state_i["t"], state_j["t"])
        gi, gj = _matched_gray(state_i["lum"], t), _matched_gray(state_j["lum"], t)
        f_ij, f_ji = dis_flow(gi, gj), dis_flow(gj, gi)
        # Entry [a] holds frame b aligned to frame a, for the pair (a, b).
        return {i: _align(state_i, state_j, f_ij, f_ji), j: _align(state_j, state_i, f_ji, f_ij)}

    def window_output(self, indices, states, pair_states):
        mid = len(indices) // 2
        c = indices[mid]
        centre = states[c]
        hat_c = np.min(np.asarray(hat_weight(centre["ldr"])), -1)
        w_c = np.maximum(hat_c, FALLBACK_WEIGHT)
        # Which side the centre's worst channel is on: bright (towards clipping) or dark.
        bright = (np.max(centre["ldr"], -1) + np.min(centre["ldr"], -1)) > 1.0
        num = w_c[..., None] * centre["hdr"]
        den = w_c.copy()
        for k, j in enumerate(indices):
            if k == mid or states[j]["t"] == centre["t"]:
                continue
            hdr_j, weight_j = pair_states[(c, j) if c <= j else (j, c)][c]
            helps = bright if states[j]["t"] < centre["t"] else ~bright
            w_j = weight_j * (1.0 - hat_c) * helps
            num += w_j[..., None] * hdr_j
            den += w_j
        return (num / den[..., None]).astype(np.float32)


class _VideoBaseline(Method):
    stages = ()
    kind = "video"
    num_frames = 3


@register
class VideoReferenceOnly(_VideoBaseline):
    """HDR = the window's centre frame linearised."""

    name = "video_reference_only"

    def build_inference_model(self, config=None):
        import keras

        n = int((config or {}).get("num_frames", self.num_frames))
        if n % 2 == 0:
            raise ConfigError(f"video_reference_only: num_frames must be odd, got {n}")
        inputs = _inputs(n)
        hdr = ReferenceFrameHDR(name="reference_hdr")(inputs["ldr"], inputs["exposures"])
        return keras.Model(inputs=inputs, outputs=hdr, name="video_reference_only")

    def streaming_model(self, config=None, model=None):
        """Per-frame linearisation is all there is: a one-frame window (no weights, so
        `model` is unused)."""
        return _CentreOnly()


class _CentreOnly(StreamingModel):
    name = "video_reference_only"
    num_frames = 1

    def frame_state(self, i, ldr, exposure):
        return np.asarray(response.ldr_to_hdr(np.asarray(ldr, np.float32), np.float32(exposure)),
                          np.float32)

    def window_output(self, indices, states, pair_states):
        return states[indices[len(indices) // 2]]


@register
class VideoClassicalMerge(_VideoBaseline):
    """Centre frame filled from flow-aligned neighbours (OpenCV DIS); no training."""

    name = "video_classical_merge"
    num_frames = None

    def build_inference_model(self, config=None):
        raise ConfigError("video_classical_merge runs OpenCV optical flow outside the graph; "
                          "it has no Keras model to export (use reconstruct/video.py "
                          "--method video_classical_merge)")

    def streaming_model(self, config=None, model=None):
        """Flow-aligned merge; no weights, so `model` is unused."""
        return ClassicalVideoMerge((config or {}).get("num_frames"))

