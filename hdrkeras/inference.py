"""The inference path: load an exported/saved model, or build a baseline, as a `Predictor`.

`load_model(path)` and `from_method(name)` return a `Predictor` (hdrkeras.predictor): a
callable `(ldr [B,N,H,W,3] gamma LDR in [0,1], exposures [B,N] relative times) -> hdr
[B,H,W,3]` (linear HDR, numpy float32) whatever produced it: a SavedModel from
hdrkeras.export, a `.keras` inference model, or a zero-training baseline. Large images go
through hdrkeras.tiling.run_tiled; user input becomes a bracket through
hdrkeras.data.bracket.input_scene; `write_outputs` writes the result and its preview.
"""

import os

import numpy as np
import tensorflow as tf

from hdrkeras import io, methods
from hdrkeras.errors import ConfigError, DataError, HDRKerasError
from hdrkeras.io.atomic import atomic_path
from hdrkeras.ops import tonemap
from hdrkeras.predictor import Predictor, keras_predictor
from hdrkeras.saving import (KERAS_MODEL_FILE, SIGNATURE, list_versions, load_keras,
                             read_metadata)


def _saved_model_dir(path):
    """`path` itself if it holds saved_model.pb, else its highest numeric version subdir."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = list_versions(path)
    if versions:
        return os.path.join(path, str(versions[-1]))
    return None


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
        if os.path.isfile(os.path.join(path, KERAS_MODEL_FILE)):
            path = os.path.join(path, KERAS_MODEL_FILE)
    if os.path.isfile(path) and path.endswith(".keras"):
        model = load_keras(path)
        return keras_predictor(model, path, os.path.splitext(os.path.basename(path))[0])
    raise HDRKerasError(f"{path} is not a SavedModel (no saved_model.pb) or .keras file")


def _load_saved_model(sm_dir):
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

    def fn(ldr, exposures, **extra):
        feeds = {"ldr": ldr, "exposures": exposures, **extra}
        return signature(**{k: tf.constant(v) for k, v in feeds.items()})["hdr"].numpy()

    extra_names = [k for k in signature.structured_input_signature[1]
                   if k not in ("ldr", "exposures")]
    predictor = Predictor(fn, sm_dir, num_frames, name, extra_names)
    predictor._loaded = loaded  # keeps the restored variables alive
    return predictor


def from_method(name, config=None):
    """A `Predictor` for a method that needs no weights (the baselines)."""
    method = methods.get(name)
    if method.stages:
        raise ConfigError(f"method {name!r} is trained; load its exported model with --model")
    model = method.build_inference_model(config)
    return keras_predictor(model, name, name)


# ----------------------------------------------------------------------------- tools

HDR_OUTPUTS = (".hdr", ".exr")


def get_predictor(model=None, method=None, config=None):
    """Exactly one of `model` (path, see load_model) or `method` (a baseline name)."""
    if bool(model) == bool(method):
        raise ConfigError("give exactly one of --model PATH or --method NAME")
    return load_model(model) if model else from_method(method, config)


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
    check_output_path(out_path)
    png = preview_path(out_path)
    hdr = np.asarray(hdr, np.float32)
    with atomic_path(out_path) as tmp_hdr, atomic_path(png) as tmp_png:
        io.write_hdr(tmp_hdr, hdr)
        io.write_ldr(tmp_png, tonemap.preview(hdr).astype(np.float32) / 255.0)
    return os.fspath(out_path), png
