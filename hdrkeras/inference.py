"""The inference path: load an exported/saved model, run it whole or in blended tiles.

`load_model(path)` and `from_method(name)` return a `Predictor`: a callable
`(ldr [B,N,H,W,3] gamma LDR in [0,1], exposures [B,N] relative times) -> hdr [B,H,W,3]`
(linear HDR, numpy float32) whatever produced it: a SavedModel from hdrkeras.export, a
`.keras` inference model, or a zero-training baseline.

`run_tiled(fn, ldr, exposures, tile, overlap, pad_mode)` bounds memory by the tile size:
tiles are run one at a time and blended with a raised-cosine window, so a pointwise model
gives exactly the untiled result and a convolutional one shows no seams.
`pad_mode="ones", overlap=0` is SCTNet's published evaluation protocol.
"""

import os

import numpy as np

from hdrkeras.errors import ConfigError, DataError, HDRKerasError

PAD_MODES = ("reflect", "ones")


class Predictor:
    """Callable (ldr [B,N,H,W,3], exposures [B,N]) -> linear HDR [B,H,W,3] numpy float32.

    Attributes:
      source: str. Path or method name the predictor came from.
      num_frames: int or None. N the model takes (None: any).
      name: str. Short label for reports (method name, or the path's base name).
    """

    def __init__(self, fn, source, num_frames, name):
        self._fn = fn
        self.source = source
        self.num_frames = num_frames
        self.name = name

    def __call__(self, ldr, exposures):
        ldr = np.asarray(ldr, dtype=np.float32)
        exposures = np.asarray(exposures, dtype=np.float32)
        if ldr.ndim != 5 or ldr.shape[-1] != 3:
            raise DataError(f"{self.name}: ldr must be [B, N, H, W, 3], got shape {ldr.shape}")
        if exposures.shape != ldr.shape[:2]:
            raise DataError(
                f"{self.name}: exposures shape {exposures.shape} does not match ldr frames "
                f"{ldr.shape[:2]}")
        if self.num_frames is not None and ldr.shape[1] != self.num_frames:
            raise DataError(
                f"{self.name}: model takes {self.num_frames} frames, got {ldr.shape[1]}")
        return np.asarray(self._fn(ldr, exposures), dtype=np.float32)

    def __repr__(self):
        return f"Predictor({self.name!r}, source={self.source!r}, num_frames={self.num_frames})"


def _saved_model_dir(path):
    """`path` itself if it holds saved_model.pb, else its highest numeric version subdir."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    from hdrkeras.export import list_versions

    versions = list_versions(path)
    if versions:
        return os.path.join(path, str(versions[-1]))
    return None


def keras_predictor(model, source, name, xla=False):
    """A `Predictor` around an in-memory Keras model; `xla` compiles it with XLA (on CPU
    the transformers run 1.4-1.6x faster after a one-off compile per input shape)."""
    import tensorflow as tf

    from hdrkeras.export import model_num_frames

    num_frames = model_num_frames(model)

    @tf.function(reduce_retracing=True, jit_compile=bool(xla))
    def run(ldr, exposures):
        return model({"ldr": ldr, "exposures": exposures}, training=False)

    def fn(ldr, exposures):
        return run(tf.constant(ldr), tf.constant(exposures)).numpy()

    return Predictor(fn, source, num_frames, name)


def load_model(path):
    """Loads a SavedModel directory (or TF Serving base dir -> highest version) or a
    `.keras` file (or a run directory holding model.keras) as a `Predictor`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"{path}: model path does not exist")
    if os.path.isdir(path):
        sm_dir = _saved_model_dir(path)
        if sm_dir is not None:
            return _load_saved_model(sm_dir)
        if os.path.isfile(os.path.join(path, "model.keras")):
            path = os.path.join(path, "model.keras")
    if os.path.isfile(path) and path.endswith(".keras"):
        from hdrkeras.export import load_keras

        model = load_keras(path)
        return keras_predictor(model, path, os.path.splitext(os.path.basename(path))[0])
    raise HDRKerasError(f"{path} is not a SavedModel (no saved_model.pb) or .keras file")


def _load_saved_model(sm_dir):
    import tensorflow as tf

    from hdrkeras.export import SIGNATURE, read_metadata

    try:
        loaded = tf.saved_model.load(sm_dir)
    except Exception as e:
        raise DataError(f"{sm_dir}: cannot load SavedModel ({type(e).__name__}: {e})") from e
    if SIGNATURE not in loaded.signatures:
        raise DataError(f"{sm_dir}: SavedModel has no {SIGNATURE!r} signature "
                        f"(has {sorted(loaded.signatures)})")
    signature = loaded.signatures[SIGNATURE]
    spec = signature.structured_input_signature[1].get("ldr")
    if spec is None or "exposures" not in signature.structured_input_signature[1]:
        raise DataError(f"{sm_dir}: {SIGNATURE} does not take ldr and exposures")
    num_frames = spec.shape[1]
    meta = read_metadata(sm_dir)
    name = meta.get("method") or os.path.basename(os.path.dirname(os.path.abspath(sm_dir)))

    def fn(ldr, exposures):
        out = signature(ldr=tf.constant(ldr), exposures=tf.constant(exposures))
        return out["hdr"].numpy()

    predictor = Predictor(fn, sm_dir, num_frames, name)
    predictor._loaded = loaded  # keeps the restored variables alive
    return predictor


def from_method(name, config=None):
    """A `Predictor` for a method that needs no weights (the baselines)."""
    from hdrkeras import methods

    try:
        method = methods.get(name)
    except KeyError as e:
        raise ConfigError(str(e.args[0])) from None
    if method.stages:
        raise ConfigError(f"method {name!r} is trained; load its exported model with --model")
    model = method.build_inference_model(config)
    return keras_predictor(model, name, name)


# ----------------------------------------------------------------------------- tiling

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



# ----------------------------------------------------------------------------- tools

HDR_OUTPUTS = (".hdr", ".exr")


def get_predictor(model=None, method=None, config=None):
    """Exactly one of `model` (path, see load_model) or `method` (a baseline name)."""
    if bool(model) == bool(method):
        raise ConfigError("give exactly one of --model PATH or --method NAME")
    return load_model(model) if model else from_method(method, config)


def input_scene(spec, exposures=None, num_frames=None):
    """What reconstruct reads: a scene folder or a list of bracketed photos -> Scene.

    Args:
      spec: str. A folder (Kalantari-layout scene: .tif frames + exposure.txt, or any
        bracket of JPEG/TIFF/PNG photos with EXIF exposure data), or a comma-separated
        list of image files (or a glob pattern).
      exposures: sequence of float or None. Exposure times of the frames in file-name
        order (any scale); overrides exposure.txt / EXIF.
      num_frames: int or None. Frames the model takes.

    Returns:
      hdrkeras.data Scene, frames ordered by increasing exposure (hdr_path None).
    """
    import glob

    from hdrkeras.data.bracket import BRACKET_EXTENSIONS, bracket_scene
    from hdrkeras.data.scenes import Scene

    spec = os.fspath(spec)
    if os.path.isdir(spec) and exposures is None:
        return bracket_scene(spec, num_frames=num_frames)
    if os.path.isdir(spec):
        name = os.path.basename(os.path.normpath(spec))
        paths = sorted(os.path.join(spec, f) for f in os.listdir(spec)
                       if f.lower().endswith(BRACKET_EXTENSIONS) and not f.startswith("."))
    elif any(c in spec for c in "*?["):
        paths = sorted(glob.glob(spec))
        name = os.path.basename(os.path.dirname(os.path.abspath(spec))) or "input"
        if not paths:
            raise DataError(f"{spec}: no files match")
    else:
        paths = [p for p in spec.split(",") if p]
        name = os.path.splitext(os.path.basename(paths[0]))[0] if paths else "input"
    for p in paths:
        if not os.path.isfile(p):
            raise DataError(f"{p}: input image does not exist")
    if len(paths) < 2:
        raise DataError(f"{spec}: a bracket needs at least 2 images, found {len(paths)}")
    if num_frames is not None and len(paths) != num_frames:
        raise DataError(f"{spec}: the model takes {num_frames} frames, found {len(paths)} images")
    if exposures is None:
        from hdrkeras.io import exposures_from_exif

        t = np.asarray(exposures_from_exif(paths), np.float64)
    else:
        t = np.asarray(exposures, np.float64).reshape(-1)
        if t.shape[0] != len(paths):
            raise DataError(f"{spec}: {t.shape[0]} exposures given for {len(paths)} images")
        if not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise DataError(f"{spec}: exposures must be finite and positive, got {t.tolist()}")
    order = np.argsort(t, kind="stable")
    t = t[order]
    if np.any(np.diff(t) <= 0):
        raise DataError(f"{spec}: two images have the same exposure ({t.tolist()})")
    return Scene(name=name, split="test", frame_paths=[paths[i] for i in order],
                 exposures=(t / t.min()).tolist(), hdr_path=None, num_frames=num_frames)


def preview_path(out_path):
    """FILE.hdr -> FILE_preview.png (beside it)."""
    stem, _ = os.path.splitext(os.fspath(out_path))
    return stem + "_preview.png"


def check_output_path(out_path):
    ext = os.path.splitext(os.fspath(out_path))[1].lower()
    if ext not in HDR_OUTPUTS:
        raise ConfigError(f"{out_path}: output must end in .hdr or .exr")


def write_outputs(hdr, out_path):
    """Writes linear HDR [H,W,3] to `out_path` (.hdr/.exr) and its mu-law preview PNG.

    Both appear together or not at all: each is written to a temporary name and both are
    renamed into place only after both writes succeeded. Returns (hdr_path, preview_path).
    """
    from hdrkeras import io
    from hdrkeras.io.atomic import atomic_path
    from hdrkeras.ops import tonemap

    check_output_path(out_path)
    png = preview_path(out_path)
    hdr = np.asarray(hdr, np.float32)
    with atomic_path(out_path) as tmp_hdr, atomic_path(png) as tmp_png:
        io.write_hdr(tmp_hdr, hdr)
        io.write_ldr(tmp_png, tonemap.preview(hdr).astype(np.float32) / 255.0)
    return os.fspath(out_path), png
