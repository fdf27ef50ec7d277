"""A scene: the files of one exposure stack, loaded and validated in one place."""

import dataclasses
import os
from typing import Optional, Sequence

import numpy as np

from hdrkeras.errors import DataError

# Linear HDR ground truth is relative to the shortest exposure (Kalantari's peaks near 1;
# absolute-luminance data reaches 1e5). Beyond this a value is damage, not light: squared
# in a loss or a PSNR it overflows float32 and training dies with "loss became inf".
MAX_HDR_VALUE = 1e8


def image_size(path):
    """(height, width) from the file header without decoding the pixels (None if unknown)."""
    try:
        from PIL import Image
        with Image.open(path) as im:
            w, h = im.size
        return int(h), int(w)
    except Exception:  # PIL cannot parse every TIFF/HDR variant; caller falls back to loading
        return None


def _named(scene, fn, path):
    """Runs an io reader; its DataError (which names the file) also names the scene."""
    try:
        return fn(path)
    except DataError as e:
        if str(e).startswith("scene "):
            raise
        raise DataError(f"scene {scene}: {e}") from None


@dataclasses.dataclass
class Scene:
    """One exposure stack on disk.

    Attributes:
      name: scene name as shown in errors, records and reports (e.g. "001", "EXTRA/003").
      split: "train" or "test".
      frame_paths: LDR frames in increasing exposure (short, reference, long for 3 frames).
      exposures: relative exposure times per frame (any scale; normalised to shortest = 1),
        or None to read `exposure_path`.
      exposure_path: exposure.txt with one EV per line, in frame order.
      hdr_path: ground truth HDR aligned to the reference frame, or None (GT-free data).
      num_frames: expected number of frames, or None to accept any count >= 2.
    """

    name: str
    split: str
    frame_paths: Sequence[str]
    exposures: Optional[Sequence[float]] = None
    exposure_path: Optional[str] = None
    hdr_path: Optional[str] = None
    num_frames: Optional[int] = None

    def __post_init__(self):
        self.frame_paths = [os.fspath(p) for p in self.frame_paths]
        if self.exposures is None and self.exposure_path is None:
            raise DataError(f"scene {self.name}: no exposures and no exposure file given")

    def frame_size(self):
        """(height, width) of the first frame from its header, or by loading it."""
        size = image_size(self.frame_paths[0]) if self.frame_paths else None
        if size is None:
            from hdrkeras import io
            size = io.read_ldr(self.frame_paths[0]).shape[:2]
        return size

    def load_exposures(self):
        """float32 [N] relative exposure times (shortest = 1), validated against the frames."""
        n = len(self.frame_paths)
        if self.exposures is not None:
            t = np.asarray(self.exposures, np.float64).reshape(-1)
            source = f"scene {self.name}"
        else:
            if not os.path.isfile(self.exposure_path):
                raise DataError(f"scene {self.name}: exposure file {self.exposure_path} is missing")
            from hdrkeras import io
            t = np.asarray(_named(self.name, io.read_exposure_txt, self.exposure_path),
                           np.float64).reshape(-1)
            source = f"scene {self.name} ({self.exposure_path})"
        if t.shape[0] != n:
            raise DataError(f"{source}: {t.shape[0]} exposures for {n} frames")
        if not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise DataError(f"{source}: exposures must be finite and positive, got {t.tolist()}")
        if np.any(np.diff(t) <= 0):
            raise DataError(f"{source}: exposures must be strictly increasing in frame order, "
                            f"got {t.tolist()}")
        return (t / t.min()).astype(np.float32)

    def load(self):
        """Reads and validates the stack.

        Returns:
          ldr: float32 [N,H,W,3] gamma LDR in [0,1], RGB, increasing exposure.
          exposures: float32 [N] relative exposure times, shortest = 1.
          hdr: float32 [H,W,3] linear HDR (RGB), or None when the scene has no GT.
        """
        from hdrkeras import io
        n = len(self.frame_paths)
        if self.num_frames is not None and n != self.num_frames:
            raise DataError(f"scene {self.name}: expected {self.num_frames} frames, found {n}")
        if n < 2:
            raise DataError(f"scene {self.name}: an exposure stack needs at least 2 frames, "
                            f"found {n}")
        exposures = self.load_exposures()
        frames = []
        for p in self.frame_paths:
            if not os.path.isfile(p):
                raise DataError(f"scene {self.name}: frame {p} is missing")
            img = np.asarray(_named(self.name, io.read_ldr, p), np.float32)
            if frames and img.shape != frames[0].shape:
                raise DataError(f"scene {self.name}: frame {p} is {img.shape[1]}x{img.shape[0]} "
                                f"but {self.frame_paths[0]} is "
                                f"{frames[0].shape[1]}x{frames[0].shape[0]}")
            frames.append(img)
        ldr = np.stack(frames)
        hdr = None
        if self.hdr_path is not None:
            if not os.path.isfile(self.hdr_path):
                raise DataError(f"scene {self.name}: ground truth {self.hdr_path} is missing")
            hdr = np.asarray(_named(self.name, io.read_hdr, self.hdr_path), np.float32)
            if hdr.shape != ldr.shape[1:]:
                raise DataError(f"scene {self.name}: ground truth {self.hdr_path} is "
                                f"{hdr.shape[1]}x{hdr.shape[0]} but the frames are "
                                f"{ldr.shape[2]}x{ldr.shape[1]}")
            check_hdr_values(hdr, f"scene {self.name}: ground truth {self.hdr_path}")
        return ldr, exposures, hdr


def check_hdr_values(hdr, what):
    """DataError naming `what` when linear HDR holds non-finite or absurd values."""
    finite = np.isfinite(hdr)
    if not np.all(finite):
        bad = int(np.size(hdr) - np.count_nonzero(finite))
        raise DataError(f"{what} has {bad} non-finite values")
    peak = float(np.max(np.abs(hdr))) if np.size(hdr) else 0.0
    if peak > MAX_HDR_VALUE:
        idx = np.unravel_index(int(np.argmax(np.abs(hdr))), np.shape(hdr))
        at = f" at pixel y={idx[0]}, x={idx[1]}" if np.ndim(hdr) == 3 else ""
        raise DataError(f"{what} has the value {peak:.3g}{at}; linear HDR beyond "
                        f"{MAX_HDR_VALUE:.0e} is not a radiance (damaged file?)")
