"""One alternating-exposure LDR video: the type every video reader returns.

Frames and ground truth are loaded on demand, one frame at a time: a 1080p sequence of
hundreds of frames must never sit in memory whole (video inference keeps memory constant
in the sequence length). Each per-frame entry is either a file path or an in-memory array
(synthetic sequences, tests).

Conventions (DESIGN.md, "Video"): frames in time order; one relative exposure time per
frame (shortest = 1; exposures may alternate 1,4,1,4,... or 1,4,16,1,4,16,...); per-frame
linear ground truth in that frame's own coordinates where the dataset has it, and a
per-frame validity flag (`valid`) that says where it does. The reference of a window is its
centre frame.
"""

import dataclasses
import os
from typing import Any, Callable, Optional, Sequence

import numpy as np

from hdrkeras.errors import DataError

# Two exposures are the same level when their ratio is within this factor (EXIF rounding).
_SAME_LEVEL_RTOL = 0.02


def _describe(entry):
    return entry if isinstance(entry, (str, os.PathLike)) else "<array>"


def _radiance_size(path):
    with open(path, "rb") as f:
        head = f.read(4096)
    for line in head.split(b"\n")[1:]:
        parts = line.split()
        if len(parts) == 4 and parts[0] in (b"-Y", b"+Y") and parts[2] in (b"+X", b"-X"):
            return int(parts[1]), int(parts[3])
    return None


def _exr_size(path):
    import OpenEXR
    with OpenEXR.File(path, header_only=True) as f:
        lo, hi = f.header()["dataWindow"]
    return int(hi[1] - lo[1] + 1), int(hi[0] - lo[0] + 1)


def file_size(path):
    """(height, width) of an LDR or HDR image from its header only, or None when the header
    cannot be parsed (corrupt or truncated file)."""
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".hdr":
            return _radiance_size(path)
        if ext == ".exr":
            return _exr_size(path)
    except Exception:  # a corrupt header of any kind means "unreadable", reported by the caller
        return None
    from hdrkeras.data.scenes import image_size
    return image_size(path)


@dataclasses.dataclass(frozen=True)
class VideoSequence:
    """An LDR video with one exposure time per frame.

    Attributes:
      name: sequence id, unique within its dataset (records, reports, error messages).
      frames: per-frame LDR source in time order: a path, or a float32 [H,W,3] array of
        gamma-encoded LDR in [0,1] (RGB).
      exposures: relative exposure time of each frame (any positive scale; stored
        normalised so the shortest is 1).
      ground_truth: per-frame linear HDR source (path or float32 [H,W,3] array, RGB, in
        that frame's coordinates and on the scale of `exposures`), or None where the
        dataset has none. Defaults to no ground truth. An LDR-image path (.png/.tif/.jpg)
        is read as code/255 (or /65535), as DeAltHDR's official loader does.
      linearize: optional callable(ldr float32 [H,W,3] in [0,1]) -> linear float32 for
        data captured with a measured camera curve (TOG13); None means the package-wide
        gamma 2.2 (`hdrkeras.ops.response`).
      source: dataset folder the sequence came from (for messages).
    """

    name: str
    frames: Sequence[Any]
    exposures: Sequence[float]
    ground_truth: Optional[Sequence[Any]] = None
    linearize: Optional[Callable[[np.ndarray], np.ndarray]] = None
    source: str = ""

    def __post_init__(self):
        frames = tuple(os.fspath(f) if isinstance(f, os.PathLike) else f for f in self.frames)
        where = self._where()
        if not frames:
            raise DataError(f"{where}: the sequence has no frames")
        t = np.asarray(self.exposures, np.float64).reshape(-1)
        if t.shape[0] != len(frames):
            raise DataError(f"{where}: {t.shape[0]} exposures for {len(frames)} frames")
        if not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise DataError(f"{where}: exposures must be finite and positive, got {t.tolist()}")
        gt = self.ground_truth
        if gt is None:
            gt = (None,) * len(frames)
        gt = tuple(os.fspath(g) if isinstance(g, os.PathLike) else g for g in gt)
        if len(gt) != len(frames):
            raise DataError(f"{where}: {len(gt)} ground-truth entries for {len(frames)} frames")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "exposures", (t / t.min()).astype(np.float32))
        object.__setattr__(self, "ground_truth", gt)

    def _where(self):
        return f"sequence {self.name}" + (f" ({self.source})" if self.source else "")

    def __len__(self):
        return len(self.frames)

    def check_files(self):
        """Checks, from file headers only, that every frame and ground-truth file exists, is
        readable and has the size of the first frame; readers call it so a bad dataset fails
        when it is listed, not half-way through writing records.

        Returns (height, width). Raises DataError naming the file and the problem.
        """
        size = None
        first = None
        for kind, entries in (("frame", self.frames), ("ground truth", self.ground_truth)):
            for entry in entries:
                if entry is None:
                    continue
                if isinstance(entry, str):
                    if not os.path.isfile(entry):
                        raise DataError(f"{self._where()}: {kind} {entry} is missing")
                    hw = file_size(entry)
                    if hw is None:
                        raise DataError(f"{self._where()}: {kind} {entry} is unreadable "
                                        f"(corrupt or truncated image)")
                else:
                    hw = tuple(np.shape(entry)[:2])
                if size is None:
                    size, first = hw, _describe(entry)
                elif hw != size:
                    raise DataError(f"{self._where()}: {kind} {_describe(entry)} is "
                                    f"{hw[1]}x{hw[0]} but {first} is {size[1]}x{size[0]}")
        return size

    @property
    def valid(self):
        """bool [T]: True where the frame has ground truth."""
        return np.array([g is not None for g in self.ground_truth], bool)

    @property
    def levels(self):
        """Sorted distinct exposure levels (e.g. [1, 4] for a two-exposure video)."""
        out = []
        for t in np.sort(self.exposures):
            if not out or t > out[-1] * (1 + _SAME_LEVEL_RTOL):
                out.append(float(t))
        return np.asarray(out, np.float32)

    @property
    def period(self):
        """Length of the repeating exposure pattern (2 for 1,4,1,4; 3 for 1,4,16,...);
        the sequence length when the exposures do not repeat."""
        t = self.exposures
        n = len(t)
        for p in range(1, n):
            if np.allclose(t[p:], t[:-p], rtol=_SAME_LEVEL_RTOL):
                return p
        return n

    def ldr(self, i):
        """float32 [H,W,3] gamma LDR in [0,1] of frame `i`."""
        entry = self.frames[i]
        if isinstance(entry, str):
            from hdrkeras.io.images import read_ldr
            if not os.path.isfile(entry):
                raise DataError(f"{self._where()}: frame {entry} is missing")
            try:
                img = read_ldr(entry)
            except DataError as e:
                raise DataError(f"{self._where()}: {e}") from None
        else:
            img = entry
        return np.asarray(img, np.float32)

    def hdr(self, i):
        """float32 [H,W,3] linear ground truth of frame `i`, or None where there is none."""
        entry = self.ground_truth[i]
        if entry is None:
            return None
        if isinstance(entry, str):
            from hdrkeras.io.hdr import read_hdr
            from hdrkeras.io.images import LDR_EXTENSIONS, read_ldr
            if not os.path.isfile(entry):
                raise DataError(f"{self._where()}: ground truth {entry} is missing")
            # DeAltHDR's official tree stores ground truth as 8-bit images, read as code/255
            reader = read_ldr if entry.lower().endswith(LDR_EXTENSIONS) else read_hdr
            try:
                img = reader(entry)
            except DataError as e:
                raise DataError(f"{self._where()}: {e}") from None
        else:
            img = entry
        img = np.asarray(img, np.float32)
        if not np.all(np.isfinite(img)):
            raise DataError(f"{self._where()}: ground truth {_describe(entry)} of frame {i} has "
                            f"non-finite values")
        return img

    def window(self, centre, size):
        """Frame indices of the `size`-frame window centred on frame `centre`.

        Edge policy: a position outside the sequence takes the nearest frame inside it
        with the exposure that position would have had (the pattern shifted by whole
        periods), so a window at the edge still alternates exposures exactly like one in
        the middle. Raises DataError when the sequence is shorter than the window.
        """
        n = len(self)
        if size < 1 or size % 2 == 0:
            raise ValueError(f"window size must be odd and positive, got {size}")
        if n < size:
            raise DataError(f"{self._where()}: {n} frames, shorter than the {size}-frame window")
        if not 0 <= centre < n:
            raise IndexError(f"centre {centre} outside {self.name} ({n} frames)")
        p = self.period
        half = size // 2
        out = []
        for j in range(centre - half, centre + half + 1):
            if j < 0:
                j += p * -(-(-j) // p)
            elif j >= n:
                j -= p * -(-(j - n + 1) // p)
            out.append(min(max(j, 0), n - 1))
        return out
