"""A tiny alternating-exposure clip with ground truth, for the video inference tests.

Linear HDR scene: a smooth gradient with a bright sky band (radiance up to ~3, clipped in
the long frames) and a textured square moving diagonally over a slowly panning background.
Frame k has exposure levels[k % len(levels)] and LDR = reexpose(H_k, t_k * base), 8-bit.
"""

import numpy as np

from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.ops import response


def _scene(h, w, rng):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.02 + 0.25 * (xx / w) + 0.1 * np.sin(xx / 3.0) ** 2 + 0.1 * np.cos(yy / 4.0) ** 2
    base = np.where(yy < h // 3, 1.5 + 1.5 * (xx / w), base)  # the "sky"
    tint = np.array([1.0, 0.9, 0.8], np.float32)
    noise = 1.0 + 0.1 * rng.standard_normal((h, w, 1)).astype(np.float32)
    return (base[..., None] * tint * noise).astype(np.float32)


def moving_clip(num_frames=8, h=32, w=40, levels=(1.0, 4.0), base=0.25, seed=0, name="clip"):
    """VideoSequence of in-memory frames (float32 [H,W,3] gamma LDR) with linear ground truth
    (float32 [H,W,3], on the exposure scale where the shortest frame's t = 1)."""
    rng = np.random.default_rng(seed)
    canvas = _scene(h + 8, w + 2 * num_frames + 8, rng)
    tex = (0.05 + 0.3 * rng.random((8, 8, 3))).astype(np.float32)
    frames, gts, times = [], [], []
    for k in range(num_frames):
        hdr = canvas[4:4 + h, k:k + w].copy()  # camera pans one pixel per frame
        y, x = 10 + k, 6 + 2 * k  # object moves independently
        hdr[y % (h - 8):y % (h - 8) + 8, x % (w - 8):x % (w - 8) + 8] = tex
        t = levels[k % len(levels)]
        ldr = response.reexpose(hdr, t * base, bits=8).astype(np.float32)
        frames.append(ldr)
        gts.append(hdr * base)  # ground truth on the scale LDR**2.2 / (t / t_min) measures
        times.append(t)
    return VideoSequence(name, frames, times, gts)
