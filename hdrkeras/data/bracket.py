"""A generic bracket folder: N photos of one scene, no ground truth.

Exposures come from `exposure.txt` (one EV per line, in sorted-file-name order) when the
folder has one, otherwise from the EXIF exposure time (and ISO / aperture) of each photo.
Frames are then ordered by increasing exposure, as every method expects.
"""

import os

import numpy as np

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
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                   if f.lower().endswith(BRACKET_EXTENSIONS) and not f.startswith("."))
    if len(paths) < 2:
        raise DataError(f"scene {name}: a bracket needs at least 2 images "
                        f"({', '.join(BRACKET_EXTENSIONS)}) in {folder}, found {len(paths)}")
    if num_frames is not None and len(paths) != num_frames:
        raise DataError(f"scene {name}: expected {num_frames} images in {folder}, "
                        f"found {len(paths)}")
    from hdrkeras import io
    txt = os.path.join(folder, "exposure.txt")
    if os.path.isfile(txt):
        t = np.asarray(io.read_exposure_txt(txt), np.float64).reshape(-1)
        if t.shape[0] != len(paths):
            raise DataError(f"scene {name}: {txt} has {t.shape[0]} exposures for "
                            f"{len(paths)} images")
    else:
        t = np.asarray(io.exposures_from_exif(paths), np.float64).reshape(-1)
    order = np.argsort(t, kind="stable")
    t = t[order]
    if np.any(np.diff(t) <= 0):
        raise DataError(f"scene {name}: two images of {folder} have the same exposure "
                        f"({t.tolist()}); a bracket needs distinct exposures")
    return Scene(name=name, split="test", frame_paths=[paths[i] for i in order],
                 exposures=(t / t.min()).tolist(), hdr_path=None, num_frames=num_frames)
