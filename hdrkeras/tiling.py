"""Bounded-memory inference: run a model on tiles and blend them into one image.

`run_tiled(fn, ldr, exposures, tile, overlap, pad_mode)` bounds memory by the tile size:
tiles are run one at a time and blended with a raised-cosine window, so a pointwise model
gives exactly the untiled result and a convolutional one shows no seams.
`pad_mode="ones", overlap=0` is SCTNet's published evaluation protocol. Pure numpy: `fn`
is any callable (ldr [B,N,h,w,3] gamma LDR in [0,1], exposures [B,N]) -> linear HDR
[B,h,w,3].

`resolve_tile(AUTO, H, W, model)` picks the tile the tools use by default: the whole image
when a measured per-pixel memory model of the method says it fits under the budget
(--max_memory_gb, 4 GB, lowered to the machine's or cgroup's available memory), else the
largest tile that does, so a 24-megapixel bracket runs in bounded memory without the user
knowing the model's appetite.
"""

import os

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


# ------------------------------------------------------------------ automatic tile size
#
# The tools choose the tile from a memory budget (--max_memory_gb, default 4 GB, and what
# the machine has free) and a linear model of the model call's peak memory:
#   peak bytes above the process's resident memory before the call
#       = FIXED + PER_PIXEL * batch * pixels of the call's input (H*W of a tile or image).
# Tiled, the full-size output buffer of run_tiled (12 bytes per pixel) comes on top.

AUTO = "auto"
DEFAULT_MAX_MEMORY_GB = 4.0
MIN_TILE = 64      # smaller tiles are mostly overlap and border: the floor of the chooser
TILE_MULTIPLE = 8  # ESBN's and the U-Nets' size multiple: no padding inside the model
GIB = 2 ** 30
MB = 2 ** 20

# (FIXED bytes, PER_PIXEL bytes) per method. Measured with
#   python -m hdrkeras.bench --method esbn --size 96x96,192x192,256x384,512x768 \
#       --runs 1 --warmup 0 --threads 2 --json
# (peak_delta_mb: VmHWM during the first call, tracing included, minus VmRSS before it;
# 2026-12-02, CPU, 2 threads, TF 2 / Keras 3, whole images, 3 frames):
#   pixels   9216  36864  98304  196608  393216
#   MB       67.4  149.5  374.4   632.4  1346.3
# A least-squares line gives 28.5 MB + 3467 B/pixel, the steepest segment (the two largest
# sizes) 3808 B/pixel. At 1000x1500 (1.5 MP, `--warmup 1`) the whole-image call peaked at
# 6490 MB RSS; less the ~0.75-0.8 GB the process holds before its first call at every size
# above, that is ~3.9 KB/pixel. We keep 64 MB + 4000 B/pixel: above every point, and
# it predicts the 2.9 GB peak reported for a 900x600 bracket through reconstruct.py
# (0.75 GB resident + 64 MB + 540000 * 4000 B = 2.9 GB).
# The other image methods the same way at 192x192 and 384x512 (36864 / 196608 pixels),
# the slope of the two points rounded up by ~5 %, a constant that keeps both below the line:
#   classical_merge  19.8 /   62.6 MB (281 B/pixel)   reference_only  10.2 /  23.7 MB (85)
#   ahdrnet         138.2 /  660.1 MB (3427)          fshdr          305.9 / 1765.1 MB (9578)
#   selfhdr         163.1 /  710.9 MB (3596)
# and at 128x128 and 256x384 (16384 / 98304 pixels; tracing makes its constant large):
#   sctnet          529.4 /  771.9 MB (3104)   hdr_transformer 560.9 /  845.2 MB (3639)
MEMORY_MODELS = {
    "esbn": (64 * MB, 4000),
    "ahdrnet": (32 * MB, 3600),
    "fshdr": (32 * MB, 10000),
    "selfhdr": (48 * MB, 3800),
    "sctnet": (512 * MB, 3300),
    "hdr_transformer": (512 * MB, 3800),
    "classical_merge": (16 * MB, 300),
    "reference_only": (16 * MB, 100),
}
# Where compiled CPU inference runs the backbones' 3x3 convs as Winograd (CPUs without
# AVX-512, hdrkeras.layers.cpu_inference.winograd_at_inference), each conv holds its input
# four times over as transformed tiles, inside an XLA cluster. Measured as above with
# `--isolate --warmup 0 --runs 1` and ONEDNN_MAX_CPU_ISA=AVX2 (2026-12-02):
#   fshdr    1755.5 / 6849.5 MB at 36864 / 196608 pixels (33,437 B/pixel)
#   ahdrnet   663.0 / 3183.5 MB at 36864 / 196608 pixels (16,545)
#   hdr_transformer 760.9 / 1954.3 MB, sctnet 607.9 / 969.0 MB at 16384 / 98304 pixels
#   (15,276 and 4,622)
# with the same rounding.
WINOGRAD_MEMORY_MODELS = {
    "fshdr": (544 * MB, 35100),
    "ahdrnet": (64 * MB, 17400),
    "selfhdr": (544 * MB, 35100),  # its backbone may be any of the four: the largest
    "hdr_transformer": (512 * MB, 16100),
    "sctnet": (544 * MB, 4900),
}
# A model without a measurement of its own (the video methods, a model from elsewhere) is
# assumed to need as much as the most demanding measured one.
DEFAULT_MEMORY_MODEL = max(MEMORY_MODELS.values(), key=lambda m: m[1])


def memory_model(model):
    """(FIXED, PER_PIXEL) bytes of a model call: `model` is a method name or an object with
    `.method` or `.name` (a Predictor, a streaming model); DEFAULT_MEMORY_MODEL if unknown."""
    name = model if isinstance(model, str) else (getattr(model, "method", None)
                                                 or getattr(model, "name", None))
    if name in WINOGRAD_MEMORY_MODELS:
        from hdrkeras.layers.cpu_inference import winograd_at_inference

        if winograd_at_inference():
            return WINOGRAD_MEMORY_MODELS[name]
    return MEMORY_MODELS.get(name, DEFAULT_MEMORY_MODEL)


PROC_STATUS = "/proc/self/status"
PROC_MEMINFO = "/proc/meminfo"
CGROUP_ROOT = "/sys/fs/cgroup"


def _read_kb(path, field):
    """A `Field:  N kB` line of a /proc file, in bytes; None where absent (not Linux)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" for no limit


def resident_bytes():
    """This process's resident memory now (VmRSS), or None where /proc is absent."""
    return _read_kb(PROC_STATUS, "VmRSS")


def peak_resident_bytes():
    """This process's peak resident memory (VmHWM), or None where /proc is absent."""
    return _read_kb(PROC_STATUS, "VmHWM")


def available_bytes():
    """Memory this process can still take: the least of the machine's MemAvailable and the
    room left under a cgroup limit (v2 memory.max, v1 memory.limit_in_bytes), so a
    container's limit counts, not the host's RAM. None where none of these can be read."""
    found = [_read_kb(PROC_MEMINFO, "MemAvailable")]
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes",
                                    "memory/memory.usage_in_bytes")):
        limit = _read_int(os.path.join(CGROUP_ROOT, limit_file))
        usage = _read_int(os.path.join(CGROUP_ROOT, usage_file))
        if limit is not None and usage is not None and limit < 2 ** 60:
            found.append(max(limit - usage, 0))
    found = [v for v in found if v is not None]
    return min(found) if found else None


def choose_tile(height, width, headroom, model=None, batch=1, overlap=32):
    """The tile size whose model call fits in `headroom` bytes, or None (whole image).

    Args:
      height, width: image size.
      headroom: bytes the call may add to the process's resident memory.
      model: (FIXED, PER_PIXEL) bytes, see memory_model. Defaults to DEFAULT_MEMORY_MODEL.
      batch: images per call.
      overlap: run_tiled's overlap; the tile is kept at least 2 * overlap.

    Returns:
      (tile, fits): tile None (the whole image fits) or a multiple of TILE_MULTIPLE, at
      least MIN_TILE, whose call fits: of those, the one that runs the fewest pixels in all
      (tiles x tile^2: the largest fitting tile can cover a 1000x1500 image with 2x2 tiles
      of 912, 3.3 megapixels of work, where 6 tiles of 528 do 1.7), the larger on a tie.
      fits False when even the smallest tile exceeds the headroom (it is returned anyway:
      the least memory tiling can give).
    """
    fixed, per_pixel = model or DEFAULT_MEMORY_MODEL
    if fixed + per_pixel * batch * height * width <= headroom:
        return None, True
    smallest = max(MIN_TILE, -(-2 * overlap // TILE_MULTIPLE) * TILE_MULTIPLE)
    room = headroom - fixed - 12 * batch * height * width  # run_tiled's output buffer
    side = int(np.sqrt(max(room, 0) / (per_pixel * batch)))
    largest = min(side, max(height, width) + TILE_MULTIPLE) // TILE_MULTIPLE * TILE_MULTIPLE
    if largest < smallest:
        return smallest, False
    work = {t: num_tiles(height, width, t, overlap) * t * t
            for t in range(largest, smallest - 1, -TILE_MULTIPLE)}
    return min(work, key=lambda t: (work[t], -t)), True


def tool_tile(value):
    """A tool's --tile flag -> the `tile` of resolve_tile: not given (None) -> AUTO, 0 ->
    None (whole image / whole frames), N > 0 -> N."""
    if value is None:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"--tile must be 0 (whole image) or a positive integer, got {value}")
    return value or None


def resolve_tile(tile, height, width, model=None, batch=1, overlap=32,
                 max_memory_gb=DEFAULT_MAX_MEMORY_GB):
    """The tile for run_tiled from a tool's --tile, and a line saying why.

    Args:
      tile: AUTO (the tools' default): choose from the memory budget; None or 0: the whole
        image (the user's choice, --tile 0); a positive int: that tile.
      height, width, batch, overlap: the call, see choose_tile.
      model: what memory_model takes (method name, Predictor, streaming model).
      max_memory_gb: the bound on this process's resident memory, further lowered to what
        the machine (or its cgroup) has available.

    Returns:
      (tile or None, message).
    """
    if tile is None or (tile != AUTO and int(tile) == 0):
        return None, "whole image (--tile 0)"
    if tile != AUTO:
        return int(tile), f"tile {int(tile)} (--tile)"
    if not max_memory_gb or max_memory_gb <= 0:
        raise ConfigError(f"--max_memory_gb must be a positive number, got {max_memory_gb}")
    limit = float(max_memory_gb) * GIB
    resident = resident_bytes() or 0
    headroom = limit - resident
    available = available_bytes()
    if available is not None:
        headroom = min(headroom, available)
    chosen, fits = choose_tile(height, width, headroom, memory_model(model), batch, overlap)
    budget = (f"{max_memory_gb:g} GB budget, {resident / GIB:.2f} GB in use"
              + (f", {available / GIB:.1f} GB available" if available is not None else ""))
    if chosen is None:
        return None, f"whole image ({budget})"
    note = "" if fits else "; even this tile exceeds the budget: the smallest tile is used"
    return chosen, f"tile {chosen}, automatic ({budget}{note})"
