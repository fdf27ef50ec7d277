"""Model files: `.keras` save/load and the layout of exported SavedModel versions.

Every `.keras` file hdrkeras writes goes through `save_keras` (atomic: the old file or the
new one, never half of one) and every one it reads through `load_keras`. Importing this
module imports hdrkeras.layers and hdrkeras.models, whose modules register their classes
where they are defined, so any hdrkeras model loads in a fresh process.

An inference model is named after its method (hdrkeras.methods.base): `model.name` is how
a `.keras` file records which method it belongs to.

Exports follow TF Serving's layout, `<base>/<version>/saved_model.pb` with positive
integer versions; `assets.extra/hdrkeras.json` beside it records the method and inputs.
"""

import json
import os
import zipfile

import keras

from hdrkeras import layers, models  # noqa: F401  (registers every serializable class)
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.io.atomic import atomic_path

KERAS_MODEL_FILE = "model.keras"
SIGNATURE = "serving_default"
METADATA_FILE = os.path.join("assets.extra", "hdrkeras.json")


# ----------------------------------------------------------------------------- .keras files

def save_keras(model, path):
    """Saves `model` to a `.keras` file atomically; returns the path."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ConfigError(f"{path}: a Keras model file must end in .keras")
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


def resolve_checkpoint(path):
    """A `.keras` file, or a run directory holding `model.keras` -> the `.keras` file path."""
    path = os.fspath(path)
    if os.path.isdir(path):
        candidate = os.path.join(path, KERAS_MODEL_FILE)
        if not os.path.isfile(candidate):
            raise DataError(f"{path}: run directory has no {KERAS_MODEL_FILE}")
        return candidate
    if not os.path.exists(path):
        raise DataError(f"{path}: checkpoint does not exist")
    if not path.endswith(".keras"):
        raise DataError(f"{path}: checkpoint is not a .keras file or a run directory")
    return path


def load_keras(path):
    """Loads a `.keras` model (a file, or a run directory holding model.keras)."""
    path = resolve_checkpoint(path)
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a readable .keras file (a .keras file is a zip "
                        "archive; this one is corrupt or truncated)")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as e:  # damaged member, unknown layer, ...
        first = (str(e).strip().splitlines() or [""])[0][:300]
        raise DataError(f"{path}: cannot load Keras model ({type(e).__name__}: {first})") from e


def check_model_method(model, method_name, source):
    """Raises ConfigError when `model` (loaded from `source`) is not `method_name`'s."""
    if model.name != method_name:
        raise ConfigError(f"{source}: holds a {model.name!r} model, not a {method_name!r} "
                          f"one; use --method {model.name}")
    return model


def model_num_frames(model):
    """Number of frames N of a standard-signature model's `ldr` input, or None if dynamic."""
    for tensor in model.inputs:
        name = getattr(tensor, "name", "")
        if name == "ldr" or name.startswith("ldr"):
            return tensor.shape[1]
    return None


# ----------------------------------------------------------------------------- exports

def list_versions(out_dir):
    """Integer-named subdirectories of `out_dir` holding a saved_model.pb, ascending."""
    if not os.path.isdir(out_dir):
        return []
    out = []
    for entry in os.listdir(out_dir):
        if entry.isdigit() and os.path.isfile(os.path.join(out_dir, entry, "saved_model.pb")):
            out.append(int(entry))
    return sorted(out)


def next_version(out_dir):
    """1 + the highest integer-named subdirectory of `out_dir` (1 if there is none)."""
    versions = list_versions(out_dir)
    return (max(versions) + 1) if versions else 1


def read_metadata(version_dir):
    """The hdrkeras.json written beside a SavedModel, or {} if absent."""
    path = os.path.join(version_dir, METADATA_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)
