"""Scene lists for the Kalantari SIGGRAPH'17 layout and SCTNet's (ICCV'23) dataset.

Kalantari17:   ROOT/Training/<scene>/  and  ROOT/Test/<scene>/  or  ROOT/Test/{EXTRA,PAPER}/<scene>/
SCTNet:        the same layout (its loader, dataset/dataset_sig17.py, is SIG17's), plus the
               cropped training sets of its gen_crop_data.py,
               ROOT/sig17_training_crop128_stride64[...]/<id>/{0,1,2}.tif + label.hdr.

Each scene folder holds N 16-bit .tif frames whose sorted names are in increasing
exposure (short, reference, long), `exposure.txt` (one EV per line) and the ground truth
`HDRImg.hdr` (`label.hdr` in SCTNet's cropped sets). Test scenes of SCTNet's dataset may
be 1496x1000 instead of Kalantari's 1500x1000; sizes are taken from the files.
"""

import os

from hdrkeras.data.scenes import Scene
from hdrkeras.errors import ConfigError, DataError

DATASETS = ("auto", "kalantari", "sctnet")
SPLIT_DIRS = {"train": ("Training", "training", "Train", "train"),
              "test": ("Test", "test", "Testing", "testing")}
FRAME_EXTENSIONS = (".tif", ".tiff")
EXPOSURE_FILE = "exposure.txt"
GT_NAMES = {"kalantari": ("HDRImg.hdr",), "sctnet": ("HDRImg.hdr", "label.hdr"),
            "auto": ("HDRImg.hdr", "label.hdr")}


def _frames(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(FRAME_EXTENSIONS) and not f.startswith("."))


def _is_scene_dir(folder):
    return (os.path.isfile(os.path.join(folder, EXPOSURE_FILE))
            or any(f.lower().endswith(FRAME_EXTENSIONS) for f in os.listdir(folder)))


def _subdirs(folder):
    return sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))


def scene_from_folder(folder, name, split, num_frames=3, dataset="auto", ground_truth=True):
    """One Kalantari-layout scene folder -> Scene; DataError naming a missing file.

    ground_truth=False never looks at the GT file (GT-free training such as SelfHDR).
    """
    frames = _frames(folder)
    if not frames:
        raise DataError(f"scene {name}: no .tif frames in {folder}")
    if num_frames is not None and len(frames) != num_frames:
        raise DataError(f"scene {name}: expected {num_frames} .tif frames in {folder}, "
                        f"found {len(frames)}")
    exposure_path = os.path.join(folder, EXPOSURE_FILE)
    if not os.path.isfile(exposure_path):
        raise DataError(f"scene {name}: {exposure_path} is missing")
    if not ground_truth:
        return Scene(name=name, split=split, frame_paths=frames, exposure_path=exposure_path,
                     hdr_path=None, num_frames=num_frames)
    gt_names = GT_NAMES[dataset]
    hdr_path = next((os.path.join(folder, g) for g in gt_names
                     if os.path.isfile(os.path.join(folder, g))), None)
    if hdr_path is None:
        raise DataError(f"scene {name}: ground truth {' or '.join(gt_names)} is missing "
                        f"in {folder}")
    return Scene(name=name, split=split, frame_paths=frames, exposure_path=exposure_path,
                 hdr_path=hdr_path, num_frames=num_frames)


def split_dir(root, split):
    """The folder of a split under ROOT (Training/ or Test/), DataError if absent."""
    if split not in SPLIT_DIRS:
        raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"dataset root {root} does not exist")
    for d in SPLIT_DIRS[split]:
        if os.path.isdir(os.path.join(root, d)):
            return os.path.join(root, d)
    raise DataError(f"dataset root {root} has no {SPLIT_DIRS[split][0]}/ folder "
                    f"(expected the Kalantari layout ROOT/Training, ROOT/Test)")


def list_scenes(root, split="train", num_frames=3, dataset="auto", subset=None,
                ground_truth=True):
    """Scenes of one split of a Kalantari17 / SCTNet dataset root.

    Args:
      root: str. Dataset root holding Training/ and Test/.
      split: str. "train" or "test".
      num_frames: int or None. Frames per scene (3 for both datasets).
      dataset: str. "kalantari" (GT must be HDRImg.hdr), "sctnet" (HDRImg.hdr or the
        label.hdr of its cropped sets) or "auto" (either). Defaults to "auto".
      subset: str or None. A folder under ROOT used instead of the split folder, e.g.
        SCTNet's "sig17_training_crop128_stride64".
      ground_truth: bool. False lists scenes without their GT (never opened).

    Returns:
      list[Scene] sorted by name; Test/EXTRA and Test/PAPER scenes are named "EXTRA/<scene>".
    """
    if dataset not in DATASETS:
        raise ConfigError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if subset is not None:
        base = os.path.join(os.fspath(root), subset)
        if not os.path.isdir(base):
            raise DataError(f"dataset subset folder {base} does not exist")
    else:
        base = split_dir(root, split)
    scenes = []
    for d in _subdirs(base):
        folder = os.path.join(base, d)
        if _is_scene_dir(folder):
            scenes.append(scene_from_folder(folder, d, split, num_frames, dataset, ground_truth))
            continue
        # Test/EXTRA/<scene>, Test/PAPER/<scene>
        for s in _subdirs(folder):
            sub = os.path.join(folder, s)
            if _is_scene_dir(sub):
                scenes.append(scene_from_folder(sub, f"{d}/{s}", split, num_frames, dataset,
                                                ground_truth))
    if not scenes:
        raise DataError(f"no scenes found in {base} (expected <scene>/ folders with .tif "
                        f"frames, exposure.txt and HDRImg.hdr)")
    return scenes
