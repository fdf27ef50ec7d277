"""Generic frame folders -> VideoSequence: any folder of alternating-exposure frames, and
DeAltHDR's `gt/` + `blur/` training tree.

Generic folder: the LDR frames (.png/.tif/.jpg) in natural file-name order; exposures from
(in this order of preference) an explicit list ("1,4" or [1, 4, 16]: relative exposure
TIMES, one per frame or one period tiled over the frames), a given text file, the folder's
own `exposures.txt` / `Exposures.txt` / `exposure.txt`, or EXIF. Text files hold EV stops
(like Kalantari's exposure.txt and DeepHDRVideo's Exposures.txt), one per frame or one
period. Optional ground truth: a folder of .hdr/.exr files with the frames' stems.

DeAltHDR tree (github Goodenough8216/DeAltHDR v1.4.2, basicsr/data/video_image_dataset.py)::

    ROOT/blur/<video>/<frame>.png     8-bit LDR frames, EV-2 / EV+1 alternating
    ROOT/gt/<video>/<frame>.<ext>     ground truth, same file names in the same order

The official loader has no exposure file: frame k of a video is short when k is even and
long (ratio 8) when odd. It reads ground truth as 8-bit images scaled to [0,1]; we read
such files the same way, and also accept linear .hdr/.exr ground truth (what our
synthesiser writes, docs/video_data.md).
"""

import os
import re

import numpy as np

from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import DataError
from hdrkeras.io.exposures import exposures_from_exif, read_exposure_txt
from hdrkeras.io.hdr import HDR_EXTENSIONS
from hdrkeras.io.images import LDR_EXTENSIONS

EXPOSURE_FILES = ("exposures.txt", "Exposures.txt", "exposure.txt")
DEALTHDR_RATIO = 8.0


def natural_key(name):
    """Sort key that orders frame2 before frame10."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def list_images(folder, extensions):
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise DataError(f"frame folder {folder} does not exist")
    names = [f for f in os.listdir(folder)
             if f.lower().endswith(extensions) and not f.startswith(".")]
    return [os.path.join(folder, f) for f in sorted(names, key=natural_key)]


def parse_exposures(spec, source="--exposures"):
    """'1,4' / '1 4 16' / [1, 4] -> float64 [n] relative exposure times (positive)."""
    if isinstance(spec, str):
        try:
            values = [float(v) for v in re.split(r"[,\s]+", spec.strip()) if v]
        except ValueError:
            raise DataError(f"{source}: exposures must be numbers like '1,4', got {spec!r}") \
                from None
    else:
        values = [float(v) for v in spec]
    t = np.asarray(values, np.float64)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise DataError(f"{source}: exposures must be positive numbers, got {spec!r}")
    return t


def tile_exposures(t, num_frames, source):
    """One per frame, or one period (shorter than the sequence) tiled; else DataError."""
    t = np.asarray(t, np.float64).reshape(-1)
    if t.size == num_frames:
        return t
    if t.size < num_frames and t.size in (2, 3):
        return np.resize(t, num_frames)
    raise DataError(f"{source}: {t.size} exposures for {num_frames} frames (give one per "
                    f"frame or one alternation period of 2 or 3)")


def folder_sequence(folder, exposures=None, ground_truth=None, name=None, check=True):
    """A folder of alternating-exposure frames -> VideoSequence.

    Args:
      folder: str. Folder with the LDR frames.
      exposures: None (the folder's exposure file, else EXIF), "exif", a path to an EV text
        file, or relative exposure times ("1,4" or a list; one per frame or one period).
      ground_truth: str or None. Folder of linear .hdr/.exr ground truth named like the
        frames (a missing file is a DataError).
      name: str or None. Sequence name; defaults to the folder name.
      check: bool. Check every file's header now.
    """
    folder = os.fspath(folder)
    name = name or os.path.basename(os.path.normpath(folder))
    frames = list_images(folder, LDR_EXTENSIONS)
    if not frames:
        raise DataError(f"sequence {name}: no frames ({', '.join(LDR_EXTENSIONS)}) in {folder}")
    n = len(frames)
    if exposures is None:
        found = [os.path.join(folder, f) for f in EXPOSURE_FILES
                 if os.path.isfile(os.path.join(folder, f))]
        exposures = found[0] if found else "exif"
    if isinstance(exposures, str) and exposures == "exif":
        t = exposures_from_exif(frames)
    elif isinstance(exposures, (str, os.PathLike)) and os.path.splitext(
            os.fspath(exposures))[1].lower() == ".txt":
        path = os.fspath(exposures)
        t = tile_exposures(read_exposure_txt(path), n, path)
    else:
        t = tile_exposures(parse_exposures(exposures), n, f"sequence {name} exposures")
    gt = None
    if ground_truth is not None:
        gt = []
        for f in frames:
            stem = os.path.splitext(os.path.basename(f))[0]
            cands = [os.path.join(ground_truth, stem + e) for e in HDR_EXTENSIONS]
            hit = next((c for c in cands if os.path.isfile(c)), None)
            if hit is None:
                raise DataError(f"sequence {name}: ground-truth file {cands[0]} (or .exr) for "
                                f"frame {f} is missing")
            gt.append(hit)
    seq = VideoSequence(name, frames, t, gt, source=folder)
    if check:
        seq.check_files()
    return seq


def _subdirs(folder):
    return sorted((d for d in os.listdir(folder)
                   if os.path.isdir(os.path.join(folder, d)) and not d.startswith(".")),
                  key=natural_key)


def dealthdr_sequences(root, ratio=DEALTHDR_RATIO, check=True):
    """DeAltHDR's training tree (module docstring) -> list[VideoSequence], one per video.

    Frame k has exposure 1 (EV-2) when k is even and `ratio` (EV+1: 8) when odd, as the
    official loader assumes. A video whose gt/ and blur/ folders differ in file names is a
    DataError naming the missing file (officially: silently paired by position).
    """
    root = os.fspath(root)
    blur, gtdir = os.path.join(root, "blur"), os.path.join(root, "gt")
    for d in (blur, gtdir):
        if not os.path.isdir(d):
            raise DataError(f"DeAltHDR dataset {root}: folder {d} is missing "
                            f"(expected ROOT/blur/<video>/ and ROOT/gt/<video>/)")
    videos = _subdirs(blur)
    if not videos:
        raise DataError(f"DeAltHDR dataset {root}: no video folders in {blur}")
    out = []
    for v in videos:
        frames = list_images(os.path.join(blur, v), LDR_EXTENSIONS)
        if not frames:
            raise DataError(f"sequence {v}: no frames in {os.path.join(blur, v)}")
        gts = {os.path.splitext(os.path.basename(p))[0]: p
               for p in list_images(os.path.join(gtdir, v), LDR_EXTENSIONS + HDR_EXTENSIONS)}
        gt = []
        for f in frames:
            stem = os.path.splitext(os.path.basename(f))[0]
            if stem not in gts:
                raise DataError(f"sequence {v}: ground-truth file for frame {f} is missing "
                                f"in {os.path.join(gtdir, v)}")
            gt.append(gts[stem])
        t = np.where(np.arange(len(frames)) % 2 == 0, 1.0, float(ratio))
        seq = VideoSequence(v, frames, t, gt, source=os.path.join(blur, v))
        if check:
            seq.check_files()
        out.append(seq)
    return out
