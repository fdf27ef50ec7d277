"""SelfHDR's colour component Y_color, built from the multi-exposure frames alone.

The SelfHDR authors ship Y_color precomputed (MATLAB optical flow); we build it: align the
short and long frames to the reference (hdrkeras.data.alignment), then merge the aligned
HDR-domain frames H_i = L_i**2.2 / t_i with the triangle weights of the reference value x:

  x < 0.5:  w_ref = 2x,       w_long = 1 - 2x,  w_short = 0
  x >= 0.5: w_short = 2x - 1, w_ref = 2 - 2x,   w_long = 0

(per channel; the weights sum to 1). Ground truth is never an input here.

On disk the result follows the layout the official loader reads: ROOT/Training_align/
<scene>/ holds the aligned 16-bit frames under the original names, Y_color as HDRImg.hdr
and a copy of exposure.txt; in records it travels as the "y_color" target with the
aligned frames beside the unaligned ones.
"""

import contextlib
import os
import shutil

import numpy as np

from hdrkeras.data.alignment import align_to_reference
from hdrkeras.data.schema import ALIGNED, Y_COLOR
from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import atomic_path
from hdrkeras.ops.response import ldr_to_hdr
from hdrkeras.ops.weights import triangle_weight

ALIGN_DIR = "Training_align"
COLOR_FILE = "HDRImg.hdr"


def merge_weights(reference_ldr):
    """(w_short, w_ref, w_long), each [H,W,3], from the reference gamma LDR."""
    x = np.clip(np.asarray(reference_ldr, np.float32), 0.0, 1.0)
    w_ref = triangle_weight(x)
    bright = x >= 0.5
    w_short = np.where(bright, 1.0 - w_ref, 0.0).astype(np.float32)
    w_long = np.where(bright, 0.0, 1.0 - w_ref).astype(np.float32)
    return w_short, w_ref, w_long


def color_component(aligned, exposures):
    """Y_color [H,W,3] linear HDR from aligned frames [3,H,W,3] (short, reference, long)."""
    aligned = np.asarray(aligned, np.float32)
    if aligned.shape[0] != 3:
        raise ConfigError(f"SelfHDR's colour component merges 3 frames, got {aligned.shape[0]}")
    t = np.asarray(exposures, np.float32).reshape(-1)
    weights = merge_weights(aligned[1])
    return sum(w * ldr_to_hdr(aligned[i], t[i]) for i, w in enumerate(weights)).astype(np.float32)


def build_targets(ldr, exposures, preset="medium"):
    """Unaligned stack [3,H,W,3] -> {"ldr_aligned" [3,H,W,3], "y_color" [H,W,3]}."""
    aligned, _ = align_to_reference(ldr, exposures, reference=1, preset=preset)
    return {ALIGNED: aligned, Y_COLOR: color_component(aligned, exposures)}


def color_target_examples(stacks, *, preset="medium", existing=None, after=None):
    """THE producer of SelfHDR colour-target records, for the training stage and the tool.

    Args:
      stacks: iterable of {"scene": str, "ldr": [3,H,W,3] gamma LDR, "exposures": [3]}
        (ground truth, if present, is ignored), consumed one at a time.
      preset: DIS optical-flow preset of the alignment.
      existing: callable(stack) -> {"ldr_aligned", "y_color"} that reuses targets made
        earlier (the official download) instead of computing them, or None.
      after: callable(stack, targets) run once per scene (e.g. writes the aligned tree).

    Yields:
      examples for hdrkeras.data.records.write_example_records: the unaligned frames,
      the "y_color" target and the aligned frames.
    """
    for stack in stacks:
        if existing is not None:
            targets = existing(stack)
        else:
            targets = build_targets(stack["ldr"], stack["exposures"], preset)
        if after is not None:
            after(stack, targets)
        yield {"scene": stack["scene"], "ldr": stack["ldr"], "exposures": stack["exposures"],
               "targets": {Y_COLOR: targets[Y_COLOR]}, ALIGNED: targets[ALIGNED]}


def write_align_scene(folder, scene, targets):
    """Writes one scene's Training_align folder atomically (built aside, renamed in).

    scene: the hdrkeras.data.scenes.Scene the frames came from (names and exposure.txt).
    """
    from hdrkeras import io

    tmp = folder + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for path, frame in zip(scene.frame_paths, targets[ALIGNED]):
        name = os.path.splitext(os.path.basename(path))[0] + ".tif"
        io.write_ldr(os.path.join(tmp, name), frame, bits=16)
    io.write_hdr(os.path.join(tmp, COLOR_FILE), targets[Y_COLOR])
    if scene.exposure_path is not None:
        shutil.copyfile(scene.exposure_path, os.path.join(tmp, "exposure.txt"))
    else:
        evs = np.log2(np.asarray(scene.load_exposures(), np.float64))
        io.atomic_write_text(os.path.join(tmp, "exposure.txt"),
                             "".join(f"{ev:.6f}\n" for ev in evs))
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.replace(tmp, folder)


def _existing_align(scene, folder):
    """Aligned frames and Y_color from an existing Training_align/<scene> folder."""
    from hdrkeras import io
    from hdrkeras.errors import DataError

    if not os.path.isdir(folder):
        raise DataError(f"scene {scene.name}: aligned folder {folder} is missing")
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                   if f.lower().endswith((".tif", ".tiff")))
    if len(paths) != len(scene.frame_paths):
        raise DataError(f"scene {scene.name}: {folder} holds {len(paths)} aligned frames, "
                        f"{len(scene.frame_paths)} expected")
    color = os.path.join(folder, COLOR_FILE)
    if not os.path.isfile(color):
        raise DataError(f"scene {scene.name}: colour component {color} is missing")
    aligned = np.stack([io.read_ldr(p) for p in paths]).astype(np.float32)
    return {ALIGNED: aligned, Y_COLOR: io.read_hdr(color)}


def build_training_align(root, *, align_dir=None, records_out=None, dataset="auto",
                         preset="medium", use_existing=False, overwrite=False, progress=None):
    """ROOT/Training -> ROOT/Training_align (aligned frames + Y_color) and records.

    Ground truth is never opened: the scenes are listed without it.

    Args:
      root: dataset root in the Kalantari layout (Training/<scene>/*.tif + exposure.txt).
      align_dir: where the aligned tree goes. Defaults to ROOT/Training_align.
      records_out: records folder to write (unaligned frames + "y_color" target + aligned
        frames), or None for the tree only.
      use_existing: read an existing align_dir (e.g. the official SelfHDR download) instead
        of computing it; only the records are written.
      overwrite: replace an existing align_dir / records folder.

    Returns:
      {"align_dir": path, "records": path or None, "scenes": count}.
    """
    from hdrkeras.data import kalantari, records
    from hdrkeras.errors import DataError

    say = progress or (lambda s: None)
    scenes = kalantari.list_scenes(root, "train", dataset=dataset, ground_truth=False)
    align_dir = os.fspath(align_dir or os.path.join(os.fspath(root), ALIGN_DIR))
    if use_existing:
        if not os.path.isdir(align_dir):
            raise DataError(f"aligned tree {align_dir} does not exist")
    elif os.path.isdir(align_dir) and os.listdir(align_dir) and not overwrite:
        raise ConfigError(f"{align_dir} already exists; pass overwrite to rebuild it, or "
                          f"use_existing to make records from it")

    def stacks():
        for i, scene in enumerate(scenes):
            ldr, t, _ = scene.load()
            say(f"[targets] {i + 1}/{len(scenes)} {scene.name}")
            yield {"scene": scene.name, "ldr": ldr, "exposures": t, "source": scene}

    def run(write_dir):
        def folder(stack, base):
            return os.path.join(base, stack["scene"])

        def write(stack, targets):
            os.makedirs(os.path.dirname(folder(stack, write_dir)), exist_ok=True)
            write_align_scene(folder(stack, write_dir), stack["source"], targets)

        examples = color_target_examples(
            stacks(), preset=preset,
            existing=((lambda st: _existing_align(st["source"], folder(st, align_dir)))
                      if use_existing else None),
            after=None if use_existing else write)
        if records_out:
            records.write_example_records(examples, records_out, overwrite=overwrite,
                                          source=root, progress=say)
        else:
            for _ in examples:
                pass

    # A new tree is built beside the dataset and swapped in whole: a failed scene never
    # leaves a partial Training_align/ (which would block the rerun) in the user's root.
    with contextlib.ExitStack() as stack:
        write_dir = None if use_existing else stack.enter_context(atomic_path(align_dir))
        if write_dir is not None:
            os.makedirs(write_dir)
        run(write_dir)
    return {"align_dir": align_dir, "records": records_out, "scenes": len(scenes)}
