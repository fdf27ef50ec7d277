"""Tiny Kalantari-layout scenes for tests and benchmarks (written with hdrkeras.io)."""

import os

import numpy as np


def coordinate_scene(height, width, num_frames=3):
    """Frames and GT whose pixels encode their own (y, x) position, exactly in 16 bits.

    Returns (ldr uint16 [N,H,W,3], hdr float32 [H,W,3]): channel 0 = y, channel 1 = x,
    channel 2 = frame index (LDR) or 7 (GT); so any crop tells where it came from.
    """
    y, x = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    ldr = np.zeros((num_frames, height, width, 3), np.uint16)
    ldr[..., 0] = y
    ldr[..., 1] = x
    for i in range(num_frames):
        ldr[i, ..., 2] = i
    hdr = np.stack([y, x, np.full_like(y, 7)], -1).astype(np.float32)
    return ldr, hdr


def write_scene(folder, ldr, evs, hdr=None, frame_names=None, gt_name="HDRImg.hdr"):
    """Writes one scene folder: 16-bit .tif frames, exposure.txt, GT (.hdr or .exr).

    ldr: uint16 [N,H,W,3] or float [N,H,W,3] in [0,1]; evs: N EV stops; hdr: [H,W,3].
    """
    from hdrkeras import io
    os.makedirs(folder, exist_ok=True)
    ldr = np.asarray(ldr)
    if ldr.dtype == np.uint16:
        ldr = ldr.astype(np.float32) / 65535.0
    names = frame_names or [f"{i:03d}.tif" for i in range(len(ldr))]
    for name, frame in zip(names, ldr):
        io.write_ldr(os.path.join(folder, name), frame, bits=16)
    if evs is not None:
        with open(os.path.join(folder, "exposure.txt"), "w") as f:
            f.write("".join(f"{e}\n" for e in evs))
    if hdr is not None:
        io.write_hdr(os.path.join(folder, gt_name), hdr)


def random_scene(rng, height, width, evs=(0, 2, 4)):
    """A plausible stack: random HDR radiance, frames = clip(H * t) ** (1/2.2) in 16 bits.

    The GT goes through .hdr's RGBE precision when written; use .exr for exact values.
    """
    hdr = (rng.random((height, width, 3), np.float32) ** 3 * 2.0).astype(np.float32)
    t = 2.0 ** (np.asarray(evs, np.float64) - min(evs))
    ldr = np.stack([np.clip(hdr * ti, 0, 1) ** (1 / 2.2) for ti in t]).astype(np.float32)
    ldr = np.round(ldr * 65535).astype(np.uint16)
    return ldr, hdr


def write_kalantari(root, scenes, split_dir="Training"):
    """Writes {name: (ldr, evs, hdr)} under ROOT/<split_dir>/<name>/; returns the root."""
    for name, (ldr, evs, hdr) in scenes.items():
        write_scene(os.path.join(root, split_dir, name), ldr, evs, hdr)
    return root
