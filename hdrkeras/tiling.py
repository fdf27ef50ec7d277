"""Bounded-memory inference: run a model on tiles and blend them into one image.

`run_tiled(fn, ldr, exposures, tile, overlap, pad_mode)` bounds memory by the tile size:
tiles are run one at a time and blended with a raised-cosine window, so a pointwise model
gives exactly the untiled result and a convolutional one shows no seams.
`pad_mode="ones", overlap=0` is SCTNet's published evaluation protocol. Pure numpy: `fn`
is any callable (ldr [B,N,h,w,3] gamma LDR in [0,1], exposures [B,N]) -> linear HDR
[B,h,w,3].
"""

import numpy as np

from hdrkeras.errors import ConfigError, DataError

PAD_MODES = ("reflect", "ones")


def tile_starts(length, tile, overlap):
    """Start offsets of tiles of `tile` pixels covering [0, length) with at least `overlap`
    pixels shared by neighbours; the last tile ends at `length` (so it may overlap more).
    A length <= tile gives one tile at 0."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def _ramp(overlap):
    """Raised-cosine ramp sin^2(pi/2 (i+0.5)/overlap): rising, and ramp + ramp[::-1] == 1."""
    i = np.arange(overlap, dtype=np.float64)
    return np.sin(0.5 * np.pi * (i + 0.5) / overlap) ** 2


def blend_window(start, tile, length, overlap):
    """1-D blending weights [tile] of the tile at `start`: 1 inside, a raised-cosine ramp
    over the `overlap` pixels at each side that has a neighbour. Where neighbours overlap
    by exactly `overlap` pixels the windows sum to 1 (a partition of unity); elsewhere
    run_tiled normalises by the summed weights. Always > 0."""
    w = np.ones(tile, dtype=np.float64)
    if overlap <= 0:
        return w
    n = min(overlap, tile)
    ramp = _ramp(overlap)[:n]
    if start > 0:
        w[:n] *= ramp
    if start + tile < length:
        w[tile - n:] *= ramp[::-1]
    return w


def blend_weights(length, tile, overlap):
    """Per-tile normalised 1-D weights: list of (start, weights [tile]) whose sums over the
    tiles covering each pixel are exactly 1 (what run_tiled applies along one axis)."""
    starts = tile_starts(length, tile, overlap)
    span = max(length, tile)
    windows = [blend_window(s, tile, span, overlap) for s in starts]
    total = np.zeros(span, dtype=np.float64)
    for s, w in zip(starts, windows):
        total[s:s + tile] += w
    return [(s, w / total[s:s + tile]) for s, w in zip(starts, windows)]


def _pad_hw(x, pad_h, pad_w, mode):
    """Pads [B,N,H,W,C] at the bottom/right."""
    if pad_h == 0 and pad_w == 0:
        return x
    widths = [(0, 0), (0, 0), (0, pad_h), (0, pad_w), (0, 0)]
    if mode == "ones":
        return np.pad(x, widths, mode="constant", constant_values=1.0)
    if min(x.shape[2], x.shape[3]) < 2:
        return np.pad(x, widths, mode="edge")
    return np.pad(x, widths, mode="reflect")


def run_tiled(fn, ldr, exposures, tile=None, overlap=32, pad_mode="reflect", progress=None):
    """Runs `fn` on tiles of `ldr` and blends the results into one image.

    Args:
      fn: callable (ldr [B,N,h,w,3], exposures [B,N]) -> linear HDR [B,h,w,3].
      ldr: float32 [B, N, H, W, 3] gamma LDR in [0,1].
      exposures: float32 [B, N] relative exposure times.
      tile: int. Square tile size; None runs the whole image in one call.
      overlap: int. Pixels shared by neighbouring tiles, blended with a raised-cosine
        window (0 = hard seams). Must be < tile.
      pad_mode: "reflect": tiles lie inside the image (the last one shifted back), an image
        smaller than a tile is reflect-padded at the bottom/right to the tile size.
        "ones": SCTNet's protocol (official test_sct.py): the LDR frames are padded with
        ones at the bottom/right to (H // tile + 1) * tile by (W // tile + 1) * tile (a
        whole extra row/column of tiles even when H or W is a multiple), then cut into
        non-overlapping tiles; requires overlap == 0.
      progress: optional callable(done, total) after each tile.

    Returns:
      float32 [B, H, W, 3] linear HDR. Memory beyond the inputs and the output is one tile.
    """
    ldr = np.asarray(ldr, dtype=np.float32)
    exposures = np.asarray(exposures, dtype=np.float32)
    if ldr.ndim != 5:
        raise DataError(f"ldr must be [B, N, H, W, 3], got shape {ldr.shape}")
    if tile is None:
        out = np.asarray(fn(ldr, exposures), dtype=np.float32)
        if progress:
            progress(1, 1)
        return out
    tile, overlap = int(tile), int(overlap)
    if tile < 1:
        raise ConfigError(f"tile must be a positive integer, got {tile}")
    if not 0 <= overlap < tile:
        raise ConfigError(f"overlap must be in [0, tile={tile}), got {overlap}")
    if pad_mode not in PAD_MODES:
        raise ConfigError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")
    b, _, h, w, _ = ldr.shape

    if pad_mode == "ones":
        if overlap != 0:
            raise ConfigError("pad_mode='ones' (SCTNet protocol) uses overlap=0")
        ph, pw = (h // tile + 1) * tile, (w // tile + 1) * tile
    else:
        ph, pw = max(h, tile), max(w, tile)
    padded = _pad_hw(ldr, ph - h, pw - w, pad_mode)

    if pad_mode == "ones":
        rows = [(s, np.ones(tile)) for s in range(0, ph, tile)]
        cols = [(s, np.ones(tile)) for s in range(0, pw, tile)]
    else:
        rows = blend_weights(ph, tile, overlap)
        cols = blend_weights(pw, tile, overlap)

    out = np.zeros((b, ph, pw, 3), dtype=np.float32)
    total = len(rows) * len(cols)
    done = 0
    for y0, wy in rows:
        for x0, wx in cols:
            piece = np.ascontiguousarray(padded[:, :, y0:y0 + tile, x0:x0 + tile])
            result = np.asarray(fn(piece, exposures), dtype=np.float32)
            if result.shape != (b, tile, tile, 3):
                raise DataError(
                    f"model returned shape {result.shape} for a {tile}x{tile} tile; "
                    f"expected {(b, tile, tile, 3)}")
            weight = (wy[:, None] * wx[None, :]).astype(np.float32)[None, :, :, None]
            out[:, y0:y0 + tile, x0:x0 + tile] += result * weight
            done += 1
            if progress:
                progress(done, total)
    return out[:, :h, :w]


def num_tiles(height, width, tile, overlap=32, pad_mode="reflect"):
    """How many model calls run_tiled makes for an image of this size."""
    if tile is None:
        return 1
    if pad_mode == "ones":
        return (height // tile + 1) * (width // tile + 1)
    return (len(tile_starts(max(height, tile), tile, overlap))
            * len(tile_starts(max(width, tile), tile, overlap)))
