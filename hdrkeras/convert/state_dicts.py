"""Reading an official checkpoint file into a state dict: {official name: numpy array}.

Three formats, chosen by the path:
  *.pth, *.pt  PyTorch (SCTNet, HDR-Transformer, AHDRNet, FSHDR); needs torch, an optional
               extra (`pip install hdrkeras[convert]`).
  *.npz        the same state dict saved with numpy (`np.savez(path, **state_dict)`), for
               machines without torch.
  otherwise    a TF1 checkpoint (ESBN): a prefix (PREFIX.index beside PREFIX.data-*) or a
               directory holding a `checkpoint` index file.
DataParallel's `module.` prefix is dropped. Values that are not numbers (a TF2
checkpoint's serialized object graph) are dropped too: they are never weights.
"""

import os
import zipfile

import numpy as np
import tensorflow as tf

from hdrkeras.convert.torch_checkpoint import read_torch_checkpoint, strip_module_prefix
from hdrkeras.errors import DataError

TORCH_EXTENSIONS = (".pth", ".pt")


def read_state_dict(path):
    """An official checkpoint file -> {name: numpy array} (see module docstring)."""
    path = os.fspath(path)
    if path.endswith(TORCH_EXTENSIONS):
        return read_torch_checkpoint(path)
    if path.endswith(".npz"):
        return read_npz(path)
    return read_tf_checkpoint(path)


def read_npz(path):
    if not os.path.isfile(path):
        raise DataError(f"{path}: checkpoint file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            state = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: cannot read .npz state dict ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''})") from None
    if not state:
        raise DataError(f"{path}: the .npz holds no arrays")
    return strip_module_prefix(state)


def resolve_tf_checkpoint(path):
    """A checkpoint directory (uses its `checkpoint` file) or prefix -> the prefix."""
    path = os.fspath(path)
    if os.path.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise DataError(f"{path}: directory holds no TF checkpoint "
                            "(no 'checkpoint' index file); pass the prefix, e.g. DIR/iter_250000")
        return prefix
    if path.endswith(".index") and os.path.exists(path):
        return path[:-len(".index")]
    if os.path.exists(path + ".index") or os.path.isfile(path):
        return path
    raise DataError(f"{path}: no such checkpoint (expected PREFIX.index beside "
                    "PREFIX.data-*, a directory with a 'checkpoint' file, or a .pth/.npz file)")


def read_tf_checkpoint(path):
    """Every numeric variable of a TF checkpoint -> dict (':0' suffixes kept)."""
    prefix = resolve_tf_checkpoint(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = reader.get_variable_to_dtype_map()
        return {k: reader.get_tensor(k) for k, dtype in names.items()
                if dtype.is_floating or dtype.is_integer or dtype.is_bool}
    except (tf.errors.OpError, ValueError, IndexError, OSError) as e:  # IndexError: truncated
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"{path}: cannot read TF checkpoint: {first[:300]}") from None
