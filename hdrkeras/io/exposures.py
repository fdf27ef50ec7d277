"""Relative exposure times of a bracket: from EV text files or from EXIF.

Convention (DESIGN.md): float32 relative times `t`, shortest = 1, so `H_i = L_i**2.2 / t_i`.
"""

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from hdrkeras.errors import DataError

_EXIF_IFD = 0x8769
_TAGS = {"ExposureTime": 0x829A, "FNumber": 0x829D, "ISOSpeedRatings": 0x8827}


def _read_evs(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: exposure file not found")
    try:
        with open(path, "r", encoding="utf-8") as f:
            tokens = f.read().split()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read exposure file ({e})") from None
    try:
        evs = np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError as e:
        raise DataError(f"{path}: exposure file must hold one number (EV stop) per line: {e}") from None
    if evs.size == 0:
        raise DataError(f"{path}: exposure file is empty")
    if not np.all(np.isfinite(evs)):
        raise DataError(f"{path}: exposure file holds non-finite values {evs.tolist()}")
    return evs


def _evs_to_times(evs):
    return np.power(2.0, evs - evs.min()).astype(np.float32)


def read_exposure_txt(path):
    """Kalantari-style `exposure.txt` (one EV stop per line, e.g. "0 2 4" or "-2 0 2").

    Returns float32 [N] relative times `2 ** (ev - min(ev))` in file (= frame) order.
    Order and count are checked by `validate_exposures`, not here.
    """
    return _evs_to_times(_read_evs(path))


def read_deephdrvideo_exposures(path, num_frames=None):
    """DeepHDRVideo (Chen et al., ICCV 2021) per-scene `Exposures.txt`.

    The file holds the EV stops of ONE alternation period (2 or 3 numbers, whitespace or
    newline separated) in capture order, e.g. "0\\n3" for low/high alternating. As in the
    official loader, times are `2 ** (ev - min(ev))` and frame k has the exposure of
    entry `k mod period`.

    Returns float32 [period], or [num_frames] (the period tiled) if num_frames is given.
    """
    times = _evs_to_times(_read_evs(path))
    if num_frames is None:
        return times
    if int(num_frames) < 1:
        raise DataError(f"{os.fspath(path)}: num_frames must be >= 1, got {num_frames!r}")
    return np.resize(times, int(num_frames)).astype(np.float32)


def _rational(value):
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and not isinstance(value[0], (tuple, list)):
            num, den = value
            return float(num) / float(den) if den else float("nan")
        value = value[0]
    return float(value)


def _exif_values(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: image not found")
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            # TIFF sub-IFDs are read lazily from the open file: fetch inside the block
            tags = dict(exif)
            tags.update(exif.get_ifd(_EXIF_IFD))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise DataError(f"{path}: cannot read EXIF ({e})") from None
    values = {}
    for name, tag in _TAGS.items():
        raw = tags.get(tag)
        if raw is None:
            raise DataError(f"{path}: EXIF tag {name} is missing; cannot derive the exposure")
        try:
            v = _rational(raw)
        except (TypeError, ValueError, ZeroDivisionError):
            raise DataError(f"{path}: EXIF tag {name} has unusable value {raw!r}") from None
        if not np.isfinite(v) or v <= 0:
            raise DataError(f"{path}: EXIF tag {name} must be positive, got {v!r}")
        values[name] = v
    return values


def exposures_from_exif(paths):
    """Relative exposures of a bracket from EXIF ExposureTime, FNumber and ISO (Pillow).

    Exposure of image i is `t_i * ISO_i / N_i**2` (sensor irradiance x time x gain),
    normalised so the smallest is 1. Returns float32 [len(paths)] in the given order.
    Raises DataError naming the file and tag when a tag is missing or invalid.
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise DataError("exposures_from_exif: no image paths given")
    raw = []
    for p in paths:
        v = _exif_values(p)
        raw.append(v["ExposureTime"] * v["ISOSpeedRatings"] / v["FNumber"] ** 2)
    raw = np.asarray(raw, dtype=np.float64)
    return (raw / raw.min()).astype(np.float32)


def validate_exposures(exposures, source, expected_count=None):
    """Checks a bracket's relative exposures: finite, positive, strictly increasing, count.

    Args:
      exposures: 1-D sequence of relative exposure times (frame order of an image stack).
      source: what they came from (file or scene name), quoted in the error.
      expected_count: number of frames they must match, or None.

    Returns the exposures as float32 [N]. Raises DataError naming `source` otherwise.
    """
    e = np.asarray(exposures, dtype=np.float64)
    if e.ndim != 1 or e.size == 0:
        raise DataError(f"{source}: exposures must be a non-empty 1-D list, got shape {e.shape}")
    if expected_count is not None and e.size != int(expected_count):
        raise DataError(f"{source}: {e.size} exposures for {int(expected_count)} frames")
    if not np.all(np.isfinite(e)):
        raise DataError(f"{source}: exposures contain non-finite values {e.tolist()}")
    if np.any(e <= 0):
        raise DataError(f"{source}: exposures must be positive, got {e.tolist()}")
    if np.any(np.diff(e) <= 0):
        raise DataError(f"{source}: exposures must be strictly increasing, got {e.tolist()}")
    return e.astype(np.float32)
