"""Vimeo-90K septuplet tree -> VideoSequence: LAN-HDR's training source.

Layout (as LAN-HDR's datasets/syn_vimeo_dataset.py reads it)::

    ROOT/sep_trainlist.txt | sep_testlist.txt     "<clip>/<septuplet>" per line
    ROOT/sequences/<clip>/<septuplet>/im1.png ... im7.png

The frames are ordinary 8-bit video frames: no exposures, no ground truth. Every
sequence gets exposures of 1 and no ground truth; LAN-HDR's recipe linearises them with a
random inverse camera curve and re-exposes them into alternating exposures at every step
(the video pipeline's synthesis hook), so nothing here pretends they are HDR.
"""

import os

from hdrkeras.data.deephdrvideo import read_list
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import ConfigError, DataError

LISTS = {"train": "sep_trainlist.txt", "test": "sep_testlist.txt", "val": "sep_testlist.txt"}
NUM_FRAMES = 7


def vimeo_sequences(root, split="train", limit=None, check=True):
    """Septuplets of one split -> list[VideoSequence] (7 frames, exposures 1, no GT).

    Args:
      root: str. Vimeo septuplet root holding sep_*list.txt and sequences/.
      split: str. "train" or "test" ("val" reads the test list, as LAN-HDR does).
      limit: int or None. Read only the first `limit` list entries.
      check: bool. Check every frame's header now (existence, readability, sizes).
    """
    if split not in LISTS:
        raise ConfigError(f"split must be one of {sorted(LISTS)}, got {split!r}")
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"dataset root {root} does not exist")
    entries = read_list(os.path.join(root, LISTS[split]), "septuplet list")
    if limit is not None:
        entries = entries[:int(limit)]
    out = []
    for entry in entries:
        folder = os.path.join(root, "sequences", entry)
        if not os.path.isdir(folder):
            raise DataError(f"septuplet {entry}: folder {folder} is missing")
        frames = [os.path.join(folder, f"im{i}.png") for i in range(1, NUM_FRAMES + 1)]
        seq = VideoSequence(entry, frames, [1.0] * NUM_FRAMES, source=folder)
        if check:
            seq.check_files()
        out.append(seq)
    return out
