"""LDR image files (8/16-bit PNG, TIFF, JPEG) <-> float32 RGB arrays in [0,1]."""

import contextlib
import os
import threading

import cv2
import numpy as np

from hdrkeras.errors import DataError
from hdrkeras.io.atomic import atomic_path

LDR_EXTENSIONS = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


_quiet_lock = threading.Lock()
_quiet_users = [0, None]  # readers inside _opencv_quiet, OpenCV's log level before them


@contextlib.contextmanager
def _opencv_quiet():
    """Silences OpenCV's own log lines (libtiff's "TIFFReadDirectory: ..." and the like)
    while it decodes: a failure is reported once, by our DataError naming the file.
    Counted, so concurrent readers (make_tfrecord's workers) restore the level once."""
    log = cv2.utils.logging
    with _quiet_lock:
        if _quiet_users[0] == 0:
            _quiet_users[1] = log.getLogLevel()
            log.setLogLevel(log.LOG_LEVEL_SILENT)
        _quiet_users[0] += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users[0] -= 1
            if _quiet_users[0] == 0:
                log.setLogLevel(_quiet_users[1])


def _check_ext(path, allowed, what):
    ext = os.path.splitext(path)[1].lower()
    if ext not in allowed:
        raise DataError(f"{path}: unsupported {what} extension {ext or '(none)'!r}; "
                        f"expected one of {', '.join(allowed)}")
    return ext


def read_ldr(path):
    """Reads an 8- or 16-bit LDR image as float32 RGB [H, W, 3], gamma-encoded in [0,1].

    Values are divided by 255 or 65535 according to the stored bit depth (the official
    loaders do the same); grayscale is replicated to 3 channels and alpha is dropped.
    Raises DataError for a missing, truncated or unreadable file, or a wrong extension.
    """
    path = os.fspath(path)
    _check_ext(path, LDR_EXTENSIONS, "LDR image")
    if not os.path.isfile(path):
        raise DataError(f"{path}: LDR image not found")
    with _opencv_quiet():
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise DataError(f"{path}: cannot decode image (truncated or corrupt file?)")
    scale = _SCALE.get(img.dtype)
    if scale is None:
        raise DataError(f"{path}: unsupported LDR sample type {img.dtype}; "
                        "expected 8- or 16-bit integers")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    elif img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    elif img.shape[-1] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    elif img.shape[-1] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    else:
        raise DataError(f"{path}: unsupported channel count {img.shape[-1]}")
    return img.astype(np.float32) / np.float32(scale)


def write_ldr(path, img, bits=8):
    """Writes float RGB [H, W, 3] (or [H, W]) in [0,1] as an 8- or 16-bit image, atomically.

    Values are clipped to [0,1] and rounded to the nearest code value. 16 bits need PNG or
    TIFF. JPEG is written at quality 95 (lossy).
    """
    path = os.fspath(path)
    ext = _check_ext(path, LDR_EXTENSIONS, "LDR image")
    if bits not in (8, 16):
        raise DataError(f"{path}: bits must be 8 or 16, got {bits!r}")
    if bits == 16 and ext in (".jpg", ".jpeg"):
        raise DataError(f"{path}: JPEG cannot store 16-bit images; use .png or .tif")
    img = np.asarray(img, dtype=np.float32)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] not in (1, 3)):
        raise DataError(f"{path}: expected an image [H, W, 3] or [H, W], got shape {img.shape}")
    if not np.all(np.isfinite(img)):
        raise DataError(f"{path}: refusing to write non-finite LDR values")
    scale = 255.0 if bits == 8 else 65535.0
    q = np.round(np.clip(img, 0.0, 1.0) * scale).astype(np.uint8 if bits == 8 else np.uint16)
    if q.ndim == 3 and q.shape[-1] == 3:
        q = cv2.cvtColor(q, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext in (".jpg", ".jpeg") else []
    with atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, q, params):
            raise DataError(f"{path}: OpenCV could not write the image")
