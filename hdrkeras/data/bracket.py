"""A bracket given by the user: N photos of one scene, no ground truth.

`bracket_scene(folder)`: exposures come from `exposure.txt` (one EV per line, in
sorted-file-name order) when the folder has one, otherwise from the EXIF exposure time
(and ISO / aperture) of each photo. `input_scene(spec, exposures)` also takes a list of
files or a glob pattern, and exposure times given on the command line. Either way frames
are ordered by increasing exposure, as every method expects.
"""

import glob
import os

import numpy as np

from hdrkeras import io
from hdrkeras.data.scenes import Scene
from hdrkeras.errors import DataError

BRACKET_EXTENSIONS = (".jpg", ".jpeg", ".tif", ".tiff", ".png")


def bracket_scene(folder, num_frames=None, name=None):
    """Folder of bracketed photos -> Scene with frames sorted by exposure (hdr_path None).

    Args:
      folder: str. Folder with the photos (JPEG/TIFF/PNG) and optionally exposure.txt.
      num_frames: int or None. Required number of frames.
      name: str or None. Scene name; defaults to the folder name.
    """
    folder = os.fspath(folder)
    name = name or os.path.basename(os.path.normpath(folder))
    if not os.path.isdir(folder):
        raise DataError(f"bracket folder {folder} does not exist")
    paths = _image_files(folder)
    if len(paths) < 2:
        raise DataError(f"scene {name}: a bracket needs at least 2 images "
                        f"({', '.join(BRACKET_EXTENSIONS)}) in {folder}, found {len(paths)}")
    if num_frames is not None and len(paths) != num_frames:
        raise DataError(f"scene {name}: expected {num_frames} images in {folder}, "
                        f"found {len(paths)}")
    txt = os.path.join(folder, "exposure.txt")
    if os.path.isfile(txt):
        t = np.asarray(io.read_exposure_txt(txt), np.float64).reshape(-1)
        if t.shape[0] != len(paths):
            raise DataError(f"scene {name}: {txt} has {t.shape[0]} exposures for "
                            f"{len(paths)} images")
    else:
        t = np.asarray(io.exposures_from_exif(paths), np.float64).reshape(-1)
    return _sorted_scene(name, paths, t, num_frames,
                         f"scene {name}: two images of {folder} have the same exposure")


def _sorted_scene(name, paths, t, num_frames, duplicate_message):
    """Frames sorted by exposure time `t` -> Scene with exposures relative to the shortest."""
    order = np.argsort(t, kind="stable")
    t = t[order]
    if np.any(np.diff(t) <= 0):
        raise DataError(f"{duplicate_message} ({t.tolist()}); a bracket needs distinct "
                        "exposures")
    return Scene(name=name, split="test", frame_paths=[paths[i] for i in order],
                 exposures=(t / t.min()).tolist(), hdr_path=None, num_frames=num_frames)


def _image_files(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(BRACKET_EXTENSIONS) and not f.startswith("."))


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
      Scene, frames ordered by increasing exposure (hdr_path None).
    """
    spec = os.fspath(spec)
    if os.path.isdir(spec) and exposures is None:
        return bracket_scene(spec, num_frames=num_frames)
    if os.path.isdir(spec):
        name = os.path.basename(os.path.normpath(spec))
        paths = _image_files(spec)
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
        t = np.asarray(io.exposures_from_exif(paths), np.float64)
    else:
        t = np.asarray(exposures, np.float64).reshape(-1)
        if t.shape[0] != len(paths):
            raise DataError(f"{spec}: {t.shape[0]} exposures given for {len(paths)} images")
        if not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise DataError(f"{spec}: exposures must be finite and positive, got {t.tolist()}")
    return _sorted_scene(name, paths, t, num_frames, f"{spec}: two images have the same exposure")
