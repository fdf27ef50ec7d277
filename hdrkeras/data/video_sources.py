"""A video dataset root of any supported layout -> list[VideoSequence], by its marker files.

One place decides which reader a path needs (make_tfrecord --kind video, evaluation):

  synthesis.json                  our synthetic video (synthesize_video; either layout)
  scenes_2expo.txt / _3expo.txt   DeepHDRVideo synthetic test set
  scene_all.txt                   DeepHDRVideo captured sets
  2Exp_scenes.txt / 3Exp_...      TOG13
  sep_trainlist.txt / _testlist   Vimeo septuplets
  blur/ + gt/                     DeAltHDR's training tree
  frames directly in the folder   one generic sequence (exposures from `exposures`)
"""

import os

from hdrkeras.data import deephdrvideo, synthesize_video, vimeo, video_folder
from hdrkeras.errors import DataError

LAYOUTS = ("synthetic_video", "deephdrvideo_synthetic", "deephdrvideo_real", "tog13", "vimeo",
           "dealthdr", "folder")


def detect_layout(root):
    """The layout name of a video dataset root (LAYOUTS); DataError when none fits."""
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"video dataset root {root} does not exist")

    def has(name):
        return os.path.exists(os.path.join(root, name))

    if has(synthesize_video.SUMMARY_NAME):
        return "synthetic_video"
    if any(has(n) for n in deephdrvideo.SYNTHETIC_LISTS.values()):
        return "deephdrvideo_synthetic"
    if has(deephdrvideo.REAL_LIST):
        return "deephdrvideo_real"
    if any(has(n) for n in deephdrvideo.TOG13_LISTS.values()):
        return "tog13"
    if any(has(n) for n in vimeo.LISTS.values()):
        return "vimeo"
    if os.path.isdir(os.path.join(root, "blur")) and os.path.isdir(os.path.join(root, "gt")):
        return "dealthdr"
    from hdrkeras.io.images import LDR_EXTENSIONS
    if video_folder.list_images(root, LDR_EXTENSIONS):
        return "folder"
    raise DataError(f"{root} is not a video dataset: none of synthesis.json, scenes_2expo.txt, "
                    f"scene_all.txt, 2Exp_scenes.txt, sep_trainlist.txt, blur/+gt/ or frame "
                    f"files found")


def video_sequences(root, *, split="train", num_exposures=None, exposures=None,
                    camera_curve=None):
    """All sequences of a video dataset root, whatever its layout (module docstring).

    Args:
      root: str. Dataset root (or one folder of frames).
      split: str. Vimeo: which list ("train" or "test"); ignored elsewhere.
      num_exposures: int or None. DeepHDRVideo synthetic / TOG13: which scene list
        (default 2); real sets: required Exposures.txt length.
      exposures: generic folder: as `video_folder.folder_sequence` (None: its exposure
        file, else EXIF).
      camera_curve: TOG13: as `deephdrvideo.tog13_sequences`.
    """
    layout = detect_layout(root)
    if layout == "synthetic_video":
        return synthesize_video.read_synthetic_video(root)
    if layout == "deephdrvideo_synthetic":
        n = num_exposures or (2 if os.path.exists(os.path.join(
            root, deephdrvideo.SYNTHETIC_LISTS[2])) else 3)
        return deephdrvideo.synthetic_sequences(root, n)
    if layout == "deephdrvideo_real":
        return deephdrvideo.real_sequences(root, num_exposures=num_exposures)
    if layout == "tog13":
        n = num_exposures or (2 if os.path.exists(os.path.join(
            root, deephdrvideo.TOG13_LISTS[2])) else 3)
        return deephdrvideo.tog13_sequences(root, n, camera_curve=camera_curve)
    if layout == "vimeo":
        return vimeo.vimeo_sequences(root, split)
    if layout == "dealthdr":
        return video_folder.dealthdr_sequences(root)
    return [video_folder.folder_sequence(root, exposures=exposures)]
