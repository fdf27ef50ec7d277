"""DeepHDRVideo (Chen et al., ICCV 2021) dataset layouts -> VideoSequence.

Layouts, as the official loaders (github guanyingc/DeepHDRVideo, datasets/) read them:

* synthetic test set (`HDR_Synthetic_Test_Dataset`, also what
  `python -m hdrkeras.data.synthesize_video` writes)::

    ROOT/scenes_2expo.txt | scenes_3expo.txt     scene names, one per line
    ROOT/Images/<scene>/img_list.txt             frame names without extension
    ROOT/Images/<scene>/<name>.tif               8- or 16-bit LDR frame
    ROOT/Images/<scene>/<name>.hdr               its linear ground truth (frames without
                                                 one have no ground truth, as officially)
    ROOT/Images/<scene>/Exposures.txt            EV stops of one alternation period

* captured real sets (`static_RGB_data_*`, `dynamic_RGB_data_*`, `dynamic_data_noGT_*`)::

    ROOT/scene_all.txt
    ROOT/<scene>/img_hdr_list.txt                "<frame file> <hdr file>" per line, or
    ROOT/<scene>/img_list.txt                    "<frame file>" per line (no ground truth)
    ROOT/<scene>/Exposures.txt

* TOG13 (Kalantari et al. 2013, `TOG13_Dynamic_Dataset`): like the real sets, listed by
  `2Exp_scenes.txt` / `3Exp_scenes.txt`, without ground truth, 16-bit frames linearised by
  the measured camera curve `ROOT/BaslerCRF.mat` (a [codes, 3] table, RGB columns).

Exposures.txt holds the EV stops of ONE period in capture order; frame k has entry
k mod period (`hdrkeras.io.read_deephdrvideo_exposures`). Differences from the official
loaders, on purpose: an `img_hdr_list.txt` entry naming a ground-truth file that does not
exist is a DataError (officially a silent fallback to the linearised LDR frame); the
literal entry "None" means "no ground truth for this frame". The official real-set loader
divides ground truth by its maximum when above 1; that is an evaluation protocol
(`reconstruct/evaluate.py`), not done here.
"""

import os

import numpy as np

from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import DataError
from hdrkeras.io.exposures import read_deephdrvideo_exposures

EXPOSURE_FILE = "Exposures.txt"
SYNTHETIC_LISTS = {2: "scenes_2expo.txt", 3: "scenes_3expo.txt"}
REAL_LIST = "scene_all.txt"
TOG13_LISTS = {2: "2Exp_scenes.txt", 3: "3Exp_scenes.txt"}
TOG13_CURVE = "BaslerCRF.mat"
NO_GT = "None"


def read_list(path, what="list"):
    """Non-empty stripped lines of a text file; DataError naming the file when absent/empty."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: {what} file is missing")
    try:
        with open(path, "r", encoding="utf-8") as f:
            lines = [ln.strip() for ln in f.read().splitlines()]
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read {what} file ({e})") from None
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise DataError(f"{path}: {what} file is empty")
    return lines


def _check_num_exposures(num_exposures):
    if num_exposures not in (2, 3):
        raise DataError(f"num_exposures must be 2 or 3, got {num_exposures!r}")


def sequence_exposures(path, num_frames, num_exposures=None):
    """float32 [num_frames] per-frame exposures from an Exposures.txt (one period, tiled).

    The file must hold 2 or 3 EV stops (or exactly `num_exposures` when given); any other
    count is a DataError naming the file.
    """
    period = read_deephdrvideo_exposures(path)
    n = period.shape[0]
    if (num_exposures is not None and n != num_exposures) or n not in (2, 3):
        want = num_exposures if num_exposures is not None else "2 or 3"
        raise DataError(f"{os.fspath(path)}: {n} exposures, expected {want} (the EV stops of "
                        f"one alternation period)")
    if num_frames < n:
        raise DataError(f"{os.fspath(path)}: {n} exposures for only {num_frames} frames")
    return read_deephdrvideo_exposures(path, num_frames)


def _scene_list(root, list_name, scenes):
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"dataset root {root} does not exist")
    if scenes is not None:
        return [scenes] if isinstance(scenes, str) else list(scenes)
    return read_list(os.path.join(root, list_name), "scene list")


def _finish(seq, check):
    if check:
        seq.check_files()
    return seq


def synthetic_sequences(root, num_exposures=2, scenes=None, check=True):
    """The DeepHDRVideo synthetic test layout (module docstring) -> list[VideoSequence].

    Args:
      root: str. Dataset root holding scenes_{2,3}expo.txt and Images/.
      num_exposures: int. 2 or 3: picks the scene list and the Exposures.txt length.
      scenes: str, list or None. Scene names to read instead of the scene list.
      check: bool. Check every file's header (existence, readability, sizes) now.
    """
    _check_num_exposures(num_exposures)
    out = []
    for scene in _scene_list(root, SYNTHETIC_LISTS[num_exposures], scenes):
        folder = os.path.join(os.fspath(root), "Images", scene)
        if not os.path.isdir(folder):
            raise DataError(f"scene {scene}: folder {folder} is missing")
        names = read_list(os.path.join(folder, "img_list.txt"), "frame list")
        frames = [os.path.join(folder, f"{n}.tif") for n in names]
        gt = [os.path.join(folder, f"{n}.hdr") for n in names]
        gt = [g if os.path.isfile(g) else None for g in gt]
        t = sequence_exposures(os.path.join(folder, EXPOSURE_FILE), len(frames), num_exposures)
        out.append(_finish(VideoSequence(scene, frames, t, gt, source=folder), check))
    return out


def _frame_and_gt_lists(folder, ground_truth=True):
    pairs = os.path.join(folder, "img_hdr_list.txt")
    if ground_truth and os.path.isfile(pairs):
        frames, gt = [], []
        for k, line in enumerate(read_list(pairs, "frame/ground-truth list"), 1):
            parts = line.split()
            if len(parts) != 2:
                raise DataError(f"{pairs}: line {k} must be '<frame> <hdr>' (or '<frame> None'),"
                                f" got {line!r}")
            frames.append(os.path.join(folder, parts[0]))
            gt.append(None if parts[1] == NO_GT else os.path.join(folder, parts[1]))
        return frames, gt
    single = os.path.join(folder, "img_list.txt")
    if not os.path.isfile(single) and os.path.isfile(pairs):
        single = pairs  # ground truth not wanted: first column of the pair list
    names = [ln.split()[0] for ln in read_list(single, "frame list")]
    return [os.path.join(folder, n) for n in names], None


def real_sequences(root, scenes=None, num_exposures=None, ground_truth=True, check=True,
                   list_name=REAL_LIST):
    """The captured DeepHDRVideo sets (static / dynamic, with or without ground truth).

    Args:
      root: str. Dataset root holding scene_all.txt and one folder per scene.
      scenes: str, list or None. Scene names to read instead of the scene list.
      num_exposures: int or None. Required Exposures.txt length (2 or 3), None for either.
      ground_truth: bool. False ignores img_hdr_list.txt's ground-truth column.
      check: bool. Check every file's header now.
      list_name: str. The scene list file under ROOT.
    """
    if num_exposures is not None:
        _check_num_exposures(num_exposures)
    out = []
    for scene in _scene_list(root, list_name, scenes):
        folder = os.path.join(os.fspath(root), scene)
        if not os.path.isdir(folder):
            raise DataError(f"scene {scene}: folder {folder} is missing")
        frames, gt = _frame_and_gt_lists(folder, ground_truth)
        t = sequence_exposures(os.path.join(folder, EXPOSURE_FILE), len(frames), num_exposures)
        out.append(_finish(VideoSequence(scene, frames, t, gt, source=folder), check))
    return out


def read_camera_curve(path):
    """A measured inverse camera response: float64 [codes, 3] table (RGB columns) mapping a
    16-bit code value to linear irradiance, normalised so its maximum is 1.

    Reads TOG13's BaslerCRF.mat (MATLAB variable `BaslerCRF`, needs scipy) or the same
    table as .npy / whitespace text. DataError naming the file when absent or malformed.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: camera curve file is missing (TOG13 ships it as "
                        f"{TOG13_CURVE} in the dataset root; pass camera_curve='gamma' to "
                        f"assume gamma 2.2 instead)")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".mat":
            try:
                from scipy.io import loadmat
            except ImportError:
                raise DataError(f"{path}: reading a .mat camera curve needs scipy "
                                f"(pip install scipy), or save the table as .npy") from None
            mat = loadmat(path)
            keys = [k for k in mat if not k.startswith("__")]
            key = "BaslerCRF" if "BaslerCRF" in mat else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise DataError(f"{path}: no BaslerCRF variable (found {keys})")
            crf = np.asarray(mat[key], np.float64)
        elif ext == ".npy":
            crf = np.load(path).astype(np.float64)
        else:
            crf = np.loadtxt(path, dtype=np.float64)
    except DataError:
        raise
    except Exception as e:  # scipy / numpy parse errors of any kind
        raise DataError(f"{path}: cannot read camera curve ({e})") from None
    if crf.ndim != 2 or crf.shape[1] != 3 or crf.shape[0] < 2:
        raise DataError(f"{path}: camera curve must be a [codes, 3] table, got {crf.shape}")
    if not np.all(np.isfinite(crf)) or crf.max() <= 0:
        raise DataError(f"{path}: camera curve has non-finite or no positive values")
    return crf / crf.max()


class CurveLinearizer:
    """LDR [H,W,3] in [0,1] (stored 16-bit codes / 65535) -> linear via a measured curve,
    as the official TOG13 loader does (table lookup per RGB channel, divided by the max)."""

    def __init__(self, curve):
        self.curve = np.asarray(curve, np.float64)

    def __call__(self, ldr):
        codes = np.clip(np.rint(np.asarray(ldr, np.float64) * 65535.0), 0,
                        self.curve.shape[0] - 1).astype(np.int64)
        out = np.stack([self.curve[codes[..., c], c] for c in range(3)], axis=-1)
        return out.astype(np.float32)


def tog13_sequences(root, num_exposures=2, scenes=None, camera_curve=None, check=True):
    """The TOG13 dynamic set: sequences without ground truth, linearised by BaslerCRF.mat.

    Args:
      root: str. Dataset root holding 2Exp_scenes.txt / 3Exp_scenes.txt and the scenes.
      num_exposures: int. 2 or 3: picks the scene list.
      scenes: str, list or None. Scene names to read instead of the scene list.
      camera_curve: str or None. Curve file; None means ROOT/BaslerCRF.mat (a DataError
        names it when absent); "gamma" assumes the package-wide gamma 2.2.
      check: bool. Check every file's header now.
    """
    _check_num_exposures(num_exposures)
    root = os.fspath(root)
    if camera_curve == "gamma":
        linearize = None
    else:
        path = camera_curve if camera_curve is not None else os.path.join(root, TOG13_CURVE)
        linearize = CurveLinearizer(read_camera_curve(path))
    seqs = real_sequences(root, scenes, None, ground_truth=False, check=check,
                          list_name=TOG13_LISTS[num_exposures])
    return [VideoSequence(s.name, s.frames, s.exposures, None, linearize, s.source)
            for s in seqs]
