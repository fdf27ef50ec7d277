"""Linear HDR files: Radiance .hdr (RGBE, via OpenCV) and OpenEXR .exr (via OpenEXR)."""

import os

import cv2
import numpy as np
import OpenEXR

from hdrkeras.errors import DataError
from hdrkeras.io.atomic import atomic_path
from hdrkeras.io.images import _check_ext, _opencv_quiet

HDR_EXTENSIONS = (".hdr", ".exr")


def _ext(path):
    return _check_ext(path, HDR_EXTENSIONS, "HDR")


def _read_exr(path):
    try:
        with OpenEXR.File(path, separate_channels=True) as f:
            # copy the planes inside the block: closing the file releases them
            channels = {name: np.array(ch.pixels) for name, ch in f.channels().items()}
    except Exception as e:  # OpenEXR raises RuntimeError/Exception with a C++ message
        raise DataError(f"{path}: cannot read OpenEXR file ({e})") from None
    names = {n.split(".")[-1]: n for n in channels}  # accept layer-prefixed names
    if all(c in names for c in "RGB"):
        planes = [channels[names[c]] for c in "RGB"]
    elif "Y" in names:
        planes = [channels[names["Y"]]] * 3
    else:
        raise DataError(f"{path}: OpenEXR file has no R, G, B (or Y) channels; "
                        f"found {sorted(channels)}")
    return np.stack(planes, axis=-1).astype(np.float32)


def read_hdr(path):
    """Reads a linear HDR image as float32 RGB [H, W, 3] (.hdr or .exr by extension).

    Raises DataError for a missing/unreadable file, a wrong extension, or non-finite values
    (NaN/Inf would silently poison training and metrics).
    """
    path = os.fspath(path)
    ext = _ext(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: HDR image not found")
    if ext == ".exr":
        img = _read_exr(path)
    else:
        with _opencv_quiet():
            img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None or img.ndim != 3 or img.shape[-1] != 3:
            raise DataError(f"{path}: cannot decode Radiance HDR (truncated or corrupt file?)")
        img = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_BGR2RGB)
    if not np.all(np.isfinite(img)):
        bad = int(np.size(img) - np.count_nonzero(np.isfinite(img)))
        raise DataError(f"{path}: HDR image contains {bad} non-finite values (NaN/Inf)")
    return img


def write_hdr(path, img, half=False):
    """Writes float RGB [H, W, 3] linear HDR atomically; format by extension.

    .exr: ZIP-compressed, 32-bit FLOAT channels (lossless round trip) or HALF if
    `half=True`. .hdr: Radiance RGBE (about 1% relative precision; negatives become 0).
    Raises DataError for non-finite values, a bad shape or a wrong extension.
    """
    path = os.fspath(path)
    ext = _ext(path)
    img = np.asarray(img, dtype=np.float32)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise DataError(f"{path}: expected an HDR image [H, W, 3], got shape {img.shape}")
    if not np.all(np.isfinite(img)):
        raise DataError(f"{path}: refusing to write non-finite HDR values (NaN/Inf)")
    with atomic_path(path) as tmp:
        if ext == ".exr":
            dtype = np.float16 if half else np.float32
            channels = {c: np.ascontiguousarray(img[..., i].astype(dtype))
                        for i, c in enumerate("RGB")}
            header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
            with OpenEXR.File(header, channels) as f:
                f.write(tmp)
        else:
            if not cv2.imwrite(tmp, cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
                raise DataError(f"{path}: OpenCV could not write the Radiance HDR file")
