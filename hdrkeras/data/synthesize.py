"""Synthetic bracketed-exposure scenes with ground truth, in the Kalantari SIGGRAPH17 layout.

Lets the whole tool chain (records, training, export, evaluation) run without downloading
a dataset, on data that behaves like the real thing: HDR radiance with real dynamic range
(procedural, or crops of user-supplied .hdr/.exr images), a small camera homography per
non-reference frame, foreground objects that move between exposures (so a naive merge
ghosts), Poisson-Gaussian sensor noise, saturation, a gamma-2.2 response and 16-bit
quantisation.

Layout written by `synthesize_dataset`:

    out_dir/Training/<scene>/input_1.tif ... input_N.tif   16-bit RGB, short -> long
                            /exposure.txt                   one EV per line (ref = 0)
                            /HDRImg.hdr                     linear GT aligned to the reference
    out_dir/Test/<scene>/...
    out_dir/synthesis.json                                  the arguments (reproducibility)

Conventions (DESIGN.md): relative times `t_i = 2**(ev_i - ev_0)` (shortest = 1), the
reference is the middle frame (`num_exposures // 2`), and the ground truth is in
short-exposure units, so `L_i ** 2.2 / t_i` approximates it wherever frame i is
well exposed and static. Frame i is `clip(noise(warp_i(radiance_i) * t_i), 0, 1) ** (1/2.2)`.

Command line:
    python -m hdrkeras.data.synthesize --out DIR [--scenes 12] [--test_scenes 3]
        [--height 256] [--width 384] [--seed 0] [--motion small|large]
        [--num_exposures 3] [--ev_spacing 2] [--hdr_sources a.exr,b.hdr] [--workers 1]
        [--sample_png docs/images/synthetic_sample.png]
    python -m hdrkeras.data.synthesize --stats DIR [--compare a.hdr,b.exr]
        prints colour, range, clipping, light-source and texture statistics of the ground
        truths under DIR (and of any radiance maps given), see `scene_stats`.
"""

import concurrent.futures
import glob
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time

import cv2
import numpy as np

from hdrkeras.data import procedural
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.io import read_hdr, read_ldr, write_hdr, write_ldr
from hdrkeras.io.atomic import atomic_path, atomic_write_text
from hdrkeras.ops import response, tonemap

# Defaults used by the main job: 15 small scenes, a few seconds on 2 cores.
DEFAULT_NUM_TRAIN = 12
DEFAULT_NUM_TEST = 3
DEFAULT_HEIGHT = 256
DEFAULT_WIDTH = 384
DEFAULT_NUM_EXPOSURES = 3
DEFAULT_EV_SPACING = 2.0
MOTIONS = ("small", "large")
MIN_SIZE = 32

TRAIN_DIR = "Training"
TEST_DIR = "Test"
HDR_NAME = "HDRImg.hdr"
EXPOSURE_NAME = "exposure.txt"
SUMMARY_NAME = "synthesis.json"
HDR_SOURCE_EXTENSIONS = (".hdr", ".exr")

# Sensor: full well (electrons at saturation, log-uniform per scene) and read noise
# (electrons, uniform per scene). Values of a consumer camera between ISO 100 and 800.
FULL_WELL = (3000.0, 20000.0)
READ_NOISE = (1.0, 4.0)
# Optics: point-spread of the lens, Gaussian sigma in pixels.
LENS_BLUR = 0.6

# Motion between exposures. Object speeds are pixels per frame step at 256 px (scaled
# with the image, never below `min_speed`); camera: translation (px at 256 px), rotation
# (degrees), zoom (relative) and perspective terms of a random homography.
MOTION_PARAMS = {
    "small": dict(objects=(1, 3), speed=(3.0, 8.0), min_speed=3.0, spin=2.0,
                  shift=2.5, rotation=0.4, zoom=0.006, perspective=0.003),
    "large": dict(objects=(2, 5), speed=(10.0, 28.0), min_speed=6.0, spin=8.0,
                  shift=8.0, rotation=1.2, zoom=0.015, perspective=0.008),
}


def reference_index(num_exposures):
    """The reference frame: the middle one (for an even count, the later of the two)."""
    return num_exposures // 2


def exposure_evs(num_exposures=DEFAULT_NUM_EXPOSURES, ev_spacing=DEFAULT_EV_SPACING):
    """EVs relative to the reference, e.g. [-2, 0, 2]: what exposure.txt stores."""
    ref = reference_index(num_exposures)
    return np.array([ev_spacing * (i - ref) for i in range(num_exposures)], np.float32)


def exposure_times(num_exposures=DEFAULT_NUM_EXPOSURES, ev_spacing=DEFAULT_EV_SPACING):
    """Relative exposure times, shortest = 1, e.g. [1, 4, 16]."""
    evs = exposure_evs(num_exposures, ev_spacing)
    return np.power(2.0, evs - evs.min()).astype(np.float32)


def frame_names(num_exposures):
    """File names of the frames, short -> long, that also sort in that order."""
    width = len(str(num_exposures))
    return [f"input_{i + 1:0{width}d}.tif" for i in range(num_exposures)]


# --------------------------------------------------------------------------- geometry


def _translate(dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def _random_homography(rng, height, width, params):
    """A small camera motion: maps frame pixel coords (x, y, 1) to reference coords."""
    scale = min(height, width) / 256.0
    tx, ty = rng.uniform(-1, 1, 2) * params["shift"] * scale
    theta = np.deg2rad(rng.uniform(-1, 1) * params["rotation"])
    zoom = 1.0 + rng.uniform(-1, 1) * params["zoom"]
    px, py = rng.uniform(-1, 1, 2) * params["perspective"] / max(height, width)
    a = np.array([[zoom * np.cos(theta), -zoom * np.sin(theta), tx],
                  [zoom * np.sin(theta), zoom * np.cos(theta), ty],
                  [px, py, 1.0]], np.float64)
    c = _translate((width - 1) / 2, (height - 1) / 2)
    return c @ a @ np.linalg.inv(c)


def _max_displacement(homography, height, width):
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1],
                        [width - 1, height - 1, 1]], np.float64).T
    mapped = homography @ corners
    mapped = mapped[:2] / mapped[2:]
    return float(np.abs(mapped - corners[:2]).max())


def warp_ref_to_frame(image, homography, border=cv2.BORDER_REFLECT):
    """Resamples a reference-aligned image [H, W, C] into frame coordinates.

    `homography` maps frame pixel coordinates to reference coordinates (as returned by
    `synthesize_scene`); bilinear, reflecting at the border.
    """
    h, w = image.shape[:2]
    return cv2.warpPerspective(image, homography, (w, h),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border)


def warp_frame_to_ref(image, homography, border=cv2.BORDER_REFLECT):
    """Inverse of `warp_ref_to_frame`: brings frame i [H, W, C] onto the reference grid."""
    h, w = image.shape[:2]
    return cv2.warpPerspective(image, homography, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=border)


# --------------------------------------------------------------------------- radiance


def source_radiance(rng, path, height, width):
    """A random crop of a user .hdr/.exr, resized to [height, width, 3] and normalised.

    Scaled so that its 99.5th percentile (max over channels) lands in [0.5, 1] of the
    short exposure's saturation: the brightest 0.5% may clip even there, like real sky
    and lamps. Returns (radiance, info) as `procedural.procedural_radiance`.
    """
    img = read_hdr(path)
    if img.ndim != 3 or img.shape[2] != 3:
        raise DataError(f"{path}: HDR source must be an RGB image, got shape {img.shape}")
    if not np.all(np.isfinite(img)):
        raise DataError(f"{path}: HDR source contains non-finite values")
    img = np.maximum(img.astype(np.float32), 0.0)
    h, w = img.shape[:2]
    if h < 8 or w < 8:
        raise DataError(f"{path}: HDR source is too small ({h}x{w})")
    aspect = width / height
    crop_h = max(8.0, min(h, w / aspect) * rng.uniform(0.5, 1.0))
    crop_w = min(w, crop_h * aspect)
    y0 = int(rng.uniform(0, h - crop_h + 1e-6))
    x0 = int(rng.uniform(0, w - crop_w + 1e-6))
    crop = img[y0:y0 + int(crop_h), x0:x0 + int(crop_w)]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    shrink = crop.shape[0] > height
    rad = cv2.resize(np.ascontiguousarray(crop), (width, height),
                     interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    peak = float(np.percentile(rad.max(axis=-1), 99.5))
    if peak <= 0:
        raise DataError(f"{path}: HDR source crop is black")
    rad *= rng.uniform(0.5, 1.0) / peak
    light = float(np.percentile(rad.mean(axis=-1), 75)) / 0.5
    return np.maximum(rad, 0.0).astype(np.float32), {
        "kind": "source", "light": light, "shade": light * 0.05}



# --------------------------------------------------------------------------- scenes


def _check_args(height, width, motion, num_exposures, ev_spacing):
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or value < MIN_SIZE:
            raise ConfigError(f"{name} must be an integer >= {MIN_SIZE}, got {value!r}")
    if motion not in MOTIONS:
        raise ConfigError(f"motion must be one of {MOTIONS}, got {motion!r}")
    if not isinstance(num_exposures, (int, np.integer)) or not 2 <= num_exposures <= 9:
        raise ConfigError(f"num_exposures must be an integer in [2, 9], got {num_exposures!r}")
    try:
        spacing = float(ev_spacing)
    except (TypeError, ValueError):
        spacing = float("nan")
    if not (math.isfinite(spacing) and 0 < spacing * (num_exposures - 1) <= 16):
        raise ConfigError(
            f"ev_spacing must be > 0 with a total bracket of at most 16 EV, got {ev_spacing!r}")


def synthesize_scene(rng_or_seed, height=DEFAULT_HEIGHT, width=DEFAULT_WIDTH, motion="small",
                     num_exposures=DEFAULT_NUM_EXPOSURES, ev_spacing=DEFAULT_EV_SPACING,
                     hdr_sources=None):
    """One synthetic bracketed scene with ground truth.

    Args:
      rng_or_seed: numpy.random.Generator, or anything `numpy.random.default_rng` takes.
      height, width: int. Frame size.
      motion: "small" or "large". Number and speed of moving objects, camera motion size.
      num_exposures: int. Frames in the bracket (2..9); reference = num_exposures // 2.
      ev_spacing: float. EV step between consecutive frames.
      hdr_sources: optional list of .hdr/.exr paths; the radiance is then a random crop of
        one of them instead of a procedural map.

    Returns:
      dict with
        ldr: float32 [N, H, W, 3] gamma LDR in [0, 1], multiples of 1/65535, short -> long.
        exposures: float32 [N] relative times, shortest = 1.
        evs: float32 [N] EVs relative to the reference (what exposure.txt stores).
        hdr: float32 [H, W, 3] linear ground truth aligned to the reference, noise free,
          in short-exposure units (`reexpose(hdr, exposures[ref])` ~ the reference frame).
        motion_mask: bool [H, W], reference coordinates: pixels where some frame's scene
          (before camera motion) differs from the reference because objects moved.
        homographies: float64 [N, 3, 3] camera motion of each frame, mapping frame pixel
          coords to reference coords (identity for the reference); see `warp_ref_to_frame`.
        reference_index: int.
        noise: dict(full_well=electrons, read_noise=electrons).
        kind: "outdoor", "indoor" or "source".
    """
    _check_args(height, width, motion, num_exposures, ev_spacing)
    rng = rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else \
        np.random.default_rng(rng_or_seed)
    params = MOTION_PARAMS[motion]
    n, ref = int(num_exposures), reference_index(num_exposures)
    times = exposure_times(n, ev_spacing)

    # Camera motion first: it decides how much margin the radiance map needs.
    homographies = np.stack([np.eye(3) if i == ref else
                             _random_homography(rng, height, width, params) for i in range(n)])
    margin = 4 + int(math.ceil(max(_max_displacement(hm, height, width) for hm in homographies)))
    hb, wb = height + 2 * margin, width + 2 * margin

    if hdr_sources:
        path = hdr_sources[int(rng.integers(0, len(hdr_sources)))]
        background, info = source_radiance(rng, path, hb, wb)
    else:
        background, info = procedural.procedural_radiance(rng, hb, wb)

    # Foreground objects: linear motion plus spin, frame offset k = i - ref.
    scale = min(height, width) / 256.0
    objects = []
    for _ in range(int(rng.integers(params["objects"][0], params["objects"][1] + 1))):
        size = rng.uniform(0.2, 0.45) * min(height, width)
        prem, alpha = procedural.object_sprite(rng, size, info)
        center = np.array([margin + rng.uniform(0.1, 0.9) * width,
                           margin + rng.uniform(0.15, 0.9) * height])
        speed = max(params["min_speed"], rng.uniform(*params["speed"]) * scale)
        direction = rng.uniform(0, 2 * np.pi)
        velocity = speed * np.array([np.cos(direction), np.sin(direction)])
        objects.append((prem, alpha, center, velocity, rng.uniform(0, 360),
                        rng.uniform(-1, 1) * params["spin"]))

    scenes = []  # radiance of each frame in reference coordinates (before camera motion)
    for i in range(n):
        k = i - ref
        rad = background.copy()
        for prem, alpha, center, velocity, angle, spin in objects:
            p, a = procedural.place_sprite(prem, alpha, center + k * velocity, angle + k * spin,
                                           hb, wb)
            rad *= 1.0 - a[..., None]
            rad += p
        scenes.append(cv2.GaussianBlur(rad, (0, 0), LENS_BLUR))

    crop = (slice(margin, margin + height), slice(margin, margin + width))
    # Like Kalantari's ground truth, keep the scene inside the short exposure's range: at
    # most 0.1% of the pixels (light-source cores) may saturate every frame.
    top = float(np.percentile(scenes[ref][crop], 99.9))
    if top > 1.0:
        scenes = [frame / np.float32(top) for frame in scenes]
    hdr = np.ascontiguousarray(scenes[ref][crop])
    motion_mask = np.zeros((height, width), bool)
    for i in range(n):
        if i != ref:
            motion_mask |= np.any(scenes[i][crop] != hdr, axis=-1)

    full_well = float(np.exp(rng.uniform(np.log(FULL_WELL[0]), np.log(FULL_WELL[1]))))
    read_noise = float(rng.uniform(*READ_NOISE))
    ldr = np.empty((n, height, width, 3), np.float32)
    for i in range(n):
        if i == ref:
            observed = hdr
        else:
            observed = cv2.warpPerspective(
                scenes[i], _translate(margin, margin) @ homographies[i], (width, height),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        signal = np.clip(observed * times[i], 0.0, 1.5) * full_well  # electrons
        electrons = rng.poisson(signal).astype(np.float32)
        electrons += rng.normal(0.0, read_noise, signal.shape).astype(np.float32)
        ldr[i] = response.reexpose(electrons / np.float32(full_well), 1.0, bits=16)

    return {
        "ldr": ldr,
        "exposures": times,
        "evs": exposure_evs(n, ev_spacing),
        "hdr": hdr.astype(np.float32),
        "motion_mask": motion_mask,
        "homographies": homographies,
        "reference_index": ref,
        "noise": {"full_well": full_well, "read_noise": read_noise},
        "kind": info["kind"],
    }


def write_scene(scene_dir, scene):
    """Writes a `synthesize_scene` result as one Kalantari scene folder, atomically."""
    n = scene["ldr"].shape[0]
    with atomic_path(scene_dir) as tmp:
        os.makedirs(tmp)
        for name, frame in zip(frame_names(n), scene["ldr"]):
            write_ldr(os.path.join(tmp, name), frame, bits=16)
        text = "".join(f"{ev:g}\n" for ev in scene["evs"])
        with open(os.path.join(tmp, EXPOSURE_NAME), "w") as f:
            f.write(text)
        write_hdr(os.path.join(tmp, HDR_NAME), scene["hdr"])


def _scene_seed(seed, split, index):
    """Independent stream per (split, scene): results do not depend on worker count."""
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(split, index))


def _make_scene(job):
    """Worker: synthesises and writes one scene. Top level so process pools can pickle it."""
    scene_dir, seed, split, index, kwargs = job
    start = time.perf_counter()
    scene = synthesize_scene(np.random.default_rng(_scene_seed(seed, split, index)), **kwargs)
    write_scene(scene_dir, scene)
    return scene["kind"], time.perf_counter() - start


def _check_out_dir(out_dir):
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write_test.", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ConfigError(f"cannot write to output directory {out_dir}: "
                          f"{e.strerror or e}") from None


def _check_sources(hdr_sources):
    if hdr_sources is None:
        return None
    if isinstance(hdr_sources, (str, os.PathLike)):
        hdr_sources = [hdr_sources]
    sources = [os.fspath(p) for p in hdr_sources]
    if not sources:
        raise ConfigError("hdr_sources is empty; pass None for procedural scenes")
    for path in sources:
        if not os.path.isfile(path):
            raise DataError(f"HDR source not found: {path}")
        if os.path.splitext(path)[1].lower() not in HDR_SOURCE_EXTENSIONS:
            raise DataError(f"HDR source must be .hdr or .exr: {path}")
    return sources


def synthesize_dataset(out_dir, num_train=DEFAULT_NUM_TRAIN, num_test=DEFAULT_NUM_TEST,
                       height=DEFAULT_HEIGHT, width=DEFAULT_WIDTH, seed=0, motion="small",
                       num_exposures=DEFAULT_NUM_EXPOSURES, ev_spacing=DEFAULT_EV_SPACING,
                       hdr_sources=None, workers=1, progress=None):
    """Writes a synthetic dataset in the Kalantari layout (see module docstring).

    Same arguments -> byte-identical files, whatever `workers` is: scene j of a split
    always gets the same sub-seed. Existing scene folders of the same name are replaced
    atomically; other files in `out_dir` are left alone.

    Args:
      out_dir: str. Dataset root; created if needed.
      num_train, num_test: int >= 0, not both 0. Scenes in Training/ and Test/.
      height, width: int >= 32. Frame size.
      seed: int >= 0.
      motion, num_exposures, ev_spacing, hdr_sources: as in `synthesize_scene`.
      workers: int >= 1. Processes generating scenes in parallel.
      progress: optional callable(done, total, relative_scene_dir, seconds, kind).

    Returns:
      dict: out_dir, train / test (scene folder names), num_train, num_test, height, width,
      seed, motion, num_exposures, ev_spacing, evs, exposures, reference_index,
      hdr_sources, kinds (scene kind counts), seconds.
    """
    start = time.perf_counter()
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    if num_train + num_test < 1:
        raise ConfigError("nothing to do: num_train + num_test must be >= 1")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
    _check_args(height, width, motion, num_exposures, ev_spacing)
    sources = _check_sources(hdr_sources)
    out_dir = os.path.abspath(os.fspath(out_dir))
    _check_out_dir(out_dir)

    kwargs = dict(height=int(height), width=int(width), motion=motion,
                  num_exposures=int(num_exposures), ev_spacing=float(ev_spacing),
                  hdr_sources=sources)
    digits = max(3, len(str(max(num_train, num_test))))
    splits = {TRAIN_DIR: [f"{i + 1:0{digits}d}" for i in range(num_train)],
              TEST_DIR: [f"{i + 1:0{digits}d}" for i in range(num_test)]}
    jobs = [(os.path.join(out_dir, split, name), int(seed), s, i, kwargs)
            for s, split in enumerate((TRAIN_DIR, TEST_DIR))
            for i, name in enumerate(splits[split])]

    kinds = {}

    def record(job, result, done):
        kind, seconds = result
        kinds[kind] = kinds.get(kind, 0) + 1
        if progress is not None:
            progress(done, len(jobs), os.path.relpath(job[0], out_dir), seconds, kind)

    if workers == 1 or len(jobs) == 1:
        for done, job in enumerate(jobs, 1):
            record(job, _make_scene(job), done)
    else:
        # spawn, not fork: the parent has TensorFlow loaded, which is not fork-safe.
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), context) as pool:
            futures = {pool.submit(_make_scene, job): job for job in jobs}
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                record(futures[future], future.result(), done)

    summary = {
        "out_dir": out_dir,
        "train": splits[TRAIN_DIR],
        "test": splits[TEST_DIR],
        "num_train": int(num_train),
        "num_test": int(num_test),
        "height": int(height),
        "width": int(width),
        "seed": int(seed),
        "motion": motion,
        "num_exposures": int(num_exposures),
        "ev_spacing": float(ev_spacing),
        "evs": [float(v) for v in exposure_evs(num_exposures, ev_spacing)],
        "exposures": [float(v) for v in exposure_times(num_exposures, ev_spacing)],
        "reference_index": reference_index(num_exposures),
        "hdr_sources": sources,
        "kinds": dict(sorted(kinds.items())),
    }
    # No timings or worker count in the file, so equal arguments give equal bytes.
    record_keys = [k for k in summary if k != "out_dir"]
    atomic_write_text(os.path.join(out_dir, SUMMARY_NAME),
                      json.dumps({k: summary[k] for k in record_keys}, indent=2) + "\n")
    summary["seconds"] = time.perf_counter() - start
    return summary


# --------------------------------------------------------------------------- picture


def render_sample_sheet(scene_dir, out_png):
    """Saves a contact sheet of one scene: mu-law tonemapped GT, then each exposure.

    Returns the sheet as uint8 [H', W', 3] RGB.
    """
    frames = sorted(glob.glob(os.path.join(scene_dir, "*.tif")))
    hdr_path = os.path.join(scene_dir, HDR_NAME)
    if not frames or not os.path.isfile(hdr_path):
        raise DataError(f"{scene_dir}: not a scene folder (needs *.tif and {HDR_NAME})")
    with open(os.path.join(scene_dir, EXPOSURE_NAME)) as f:
        evs = [line.strip() for line in f if line.strip()]
    tiles = [("ground truth (mu-law)", tonemap.preview(read_hdr(hdr_path)))]
    for i, path in enumerate(frames):
        label = f"EV {evs[i]}" if i < len(evs) else os.path.basename(path)
        tiles.append((label, tonemap.to_uint8(read_ldr(path))))
    h, w = tiles[0][1].shape[:2]
    gap, header = 6, 22
    sheet = np.full((h + header, len(tiles) * (w + gap) - gap, 3), 255, np.uint8)
    for j, (label, tile) in enumerate(tiles):
        x = j * (w + gap)
        sheet[header:, x:x + w] = tile
        cv2.putText(sheet, label, (x + 4, header - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
    write_ldr(out_png, sheet.astype(np.float32) / 255.0, bits=8)  # atomic (atomic_path)
    return sheet


# --------------------------------------------------------------------------- CLI


def _define_flags():
    from absl import flags
    flags.DEFINE_string("out", None, "Dataset root to write (Training/, Test/).")
    flags.DEFINE_integer("scenes", DEFAULT_NUM_TRAIN, "Training scenes (>= 0; 0 with "
                         "--test_scenes N makes a held-out set only, e.g. for validation).")
    flags.DEFINE_integer("test_scenes", DEFAULT_NUM_TEST, "Test scenes (>= 0).")
    flags.DEFINE_integer("height", DEFAULT_HEIGHT, "Frame height in pixels.")
    flags.DEFINE_integer("width", DEFAULT_WIDTH, "Frame width in pixels.")
    flags.DEFINE_integer("seed", 0, "Random seed; same seed, same files.")
    flags.DEFINE_enum("motion", "small", list(MOTIONS), "Amount of motion between exposures.")
    flags.DEFINE_integer("num_exposures", DEFAULT_NUM_EXPOSURES, "Frames per bracket.")
    flags.DEFINE_float("ev_spacing", DEFAULT_EV_SPACING, "EV step between frames.")
    flags.DEFINE_list("hdr_sources", None, "Comma-separated .hdr/.exr files to crop "
                      "radiance from instead of procedural maps.")
    flags.DEFINE_integer("workers", 1, "Parallel worker processes.")
    flags.DEFINE_string("sample_png", None, "Also save a contact sheet of the first scene.")
    flags.DEFINE_string("stats", None, "Print the statistics of the ground truths under "
                        "this dataset root (or folder of .hdr/.exr) instead of writing one.")
    flags.DEFINE_list("compare", None, "With --stats: radiance maps (.hdr/.exr) to measure "
                      "the same way, side by side.")
    return flags.FLAGS


def print_stats(root, compare=None, out=sys.stdout):
    """Prints the `scene_stats` table of a generated set (median (min-max)) and of each
    radiance map in `compare`; returns (set summary, [(path, stats)])."""
    from hdrkeras.data import scene_stats

    rows = []
    summary = None
    if root:
        paths = scene_stats.dataset_hdr_paths(root, HDR_NAME)
        if not paths:
            raise DataError(f"--stats {root}: no {HDR_NAME} under <split>/<scene>/ and no "
                            f".hdr/.exr files")
        summary = scene_stats.summarize([scene_stats.image_stats(read_hdr(p)) for p in paths])
        rows.append((f"{os.path.basename(os.path.abspath(root))} ({len(paths)} scenes)", summary))
    measured = []
    for path in compare or ():
        if not os.path.isfile(path):
            raise DataError(f"--compare: file not found: {path}")
        stats = scene_stats.image_stats(read_hdr(path))
        measured.append((path, stats))
        rows.append((os.path.basename(path), stats))
    print(scene_stats.format_table(rows), file=out, flush=True)
    return summary, measured


def main(argv):
    from absl import flags
    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.stats or FLAGS.compare:
        print_stats(FLAGS.stats, FLAGS.compare)
        return 0
    if not FLAGS.out:
        raise ConfigError("--out is required (or --stats DIR to measure a dataset)")
    if FLAGS.scenes < 0 or FLAGS.scenes + FLAGS.test_scenes < 1:
        raise ConfigError(f"--scenes must be >= 0 and --scenes + --test_scenes >= 1, got "
                          f"{FLAGS.scenes} and {FLAGS.test_scenes}")

    def progress(done, total, rel, seconds, kind):
        print(f"[{done}/{total}] {rel} ({kind}, {seconds:.1f} s)", flush=True)

    summary = synthesize_dataset(
        FLAGS.out, num_train=FLAGS.scenes, num_test=FLAGS.test_scenes,
        height=FLAGS.height, width=FLAGS.width, seed=FLAGS.seed, motion=FLAGS.motion,
        num_exposures=FLAGS.num_exposures, ev_spacing=FLAGS.ev_spacing,
        hdr_sources=FLAGS.hdr_sources, workers=FLAGS.workers, progress=progress)
    print(f"wrote {summary['num_train']} training and {summary['num_test']} test scenes "
          f"to {summary['out_dir']} in {summary['seconds']:.1f} s", flush=True)
    if FLAGS.sample_png:
        split, names = ((TRAIN_DIR, summary["train"]) if summary["train"]
                        else (TEST_DIR, summary["test"]))
        render_sample_sheet(os.path.join(summary["out_dir"], split, names[0]),
                            FLAGS.sample_png)
        print(f"wrote {FLAGS.sample_png}", flush=True)
    return 0


if __name__ == "__main__":
    from hdrkeras.cli import run_main
    _define_flags()
    run_main(main)
