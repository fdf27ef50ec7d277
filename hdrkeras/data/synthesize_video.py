"""Synthetic alternating-exposure HDR video with per-frame linear ground truth.

No HDR video dataset can be downloaded here, so the video tool chain (clip records,
training, inference, evaluation) runs on clips made like real captures:

* radiance: a procedural HDR map (`hdrkeras.data.procedural`) larger than the frame, or a
  random crop of a user .hdr/.exr frame SEQUENCE (the same crop window in every frame);
* a smooth camera path over time (translation with a slow sinusoidal wobble, rotation,
  zoom) and independently moving objects (velocity, acceleration, spin);
* alternating exposures: 2 levels with ratio 4 or 8, or 3 levels 1/4/16, starting at any
  phase of the pattern;
* motion blur: frame k integrates the scene over its exposure interval, centred on time k
  and lasting `duty * t_k / t_max` frame intervals, by averaging sub-frames (more for
  longer exposures): long frames blur more;
* sensor: Poisson shot noise and Gaussian read noise (a random sensor, or a chosen ISO),
  clipping, the camera curve (gamma 2.2, as every method assumes), 8- or 16-bit output.

Ground truth of frame k is the noise-free, blur-free radiance at time k in frame k's own
coordinates, in short-exposure units (a value of 1 saturates the shortest exposure), so
`reexpose(hdr_k, t_k)` is frame k without blur and noise.

Profiles: "default" (2 exposures, ratio 4, random sensor, 16-bit) and "dealthdr"
(issue 17: EV-2 / EV+1, i.e. ratio 8, shot + read noise at ISO 1600 by default, stronger
blur, 8-bit, always starting with a short frame as DeAltHDR's loader assumes). Any
profile value can be overridden.

Layouts written by `synthesize_video_dataset` (both read back by hdrkeras.data readers):

* "deephdrvideo" (default profile): the DeepHDRVideo synthetic test layout
  (`hdrkeras.data.deephdrvideo.synthetic_sequences`): ROOT/scenes_{2,3}expo.txt,
  ROOT/Images/<clip>/img_list.txt, <frame>.tif, <frame>.hdr, Exposures.txt;
* "dealthdr" (dealthdr profile): DeAltHDR's tree (`hdrkeras.data.video_folder.
  dealthdr_sequences`): ROOT/blur/<clip>/<frame>.png and ROOT/gt/<clip>/<frame>.hdr (linear
  float ground truth; the official tree stores 8-bit images, see docs/video_data.md).

ROOT/synthesis.json records the arguments. Same arguments, same bytes.

Command line:
    python -m hdrkeras.data.synthesize_video --out DIR [--clips 4] [--frames 7]
        [--height 128] [--width 128] [--seed 0] [--profile default|dealthdr]
        [--num_exposures 2|3] [--ratio 4|8] [--iso 1600] [--bits 8|16] [--motion small]
        [--hdr_frames DIR_OR_FILES] [--strip_png docs/images/synthetic_video_strip.png]
"""

import dataclasses
import json
import math
import os

import cv2
import numpy as np

from hdrkeras.data import procedural
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.io import read_hdr, write_hdr, write_ldr
from hdrkeras.io.atomic import atomic_path, atomic_write_text
from hdrkeras.ops import response, tonemap

LAYOUTS = ("deephdrvideo", "dealthdr")
MOTIONS = ("none", "small", "large")
MIN_SIZE = 32
SUMMARY_NAME = "synthesis.json"
HDR_SOURCE_EXTENSIONS = (".hdr", ".exr")

# Sensor. A random sensor draws the electrons at saturation log-uniformly and the read
# noise uniformly (same ranges as the image generator). At a chosen ISO the sensor
# saturates at FULL_WELL_ISO100 * 100 / ISO electrons (higher gain, fewer electrons, more
# shot noise) with READ_NOISE_ISO electrons of read noise.
FULL_WELL = (3000.0, 20000.0)
READ_NOISE = (1.0, 4.0)
FULL_WELL_ISO100 = 20000.0
READ_NOISE_ISO = 2.0
LENS_BLUR = 0.6  # Gaussian sigma in pixels of the optics
SUBFRAMES = 16   # sub-frames per frame interval of exposure (at least 1 per frame)

# Per-frame motion at 256 px (scaled with the frame): camera drift (px), wobble amplitude
# (px), rotation (deg), zoom (relative); objects: count, speed (px), spin (deg).
MOTION_PARAMS = {
    "none": dict(drift=0.0, wobble=0.0, rotation=0.0, zoom=0.0, objects=(0, 0),
                 speed=(0.0, 0.0), spin=0.0),
    "small": dict(drift=2.0, wobble=1.5, rotation=0.3, zoom=0.004, objects=(1, 3),
                  speed=(2.0, 6.0), spin=2.0),
    "large": dict(drift=6.0, wobble=4.0, rotation=1.0, zoom=0.012, objects=(2, 4),
                  speed=(6.0, 16.0), spin=6.0),
}


@dataclasses.dataclass(frozen=True)
class Profile:
    """Settings of one kind of synthetic video.

    Attributes:
      num_exposures: 2 or 3 exposure levels.
      ratio: exposure ratio between consecutive levels (2 levels: 4 or 8; 3 levels: 4,
        i.e. 1/4/16).
      iso: sensor ISO (shot + read noise at that gain), or None for a random sensor.
      bits: 8 or 16 bits per LDR sample.
      duty: exposure time of the LONGEST level in frame intervals (0 < duty <= 1).
      motion: "none", "small" or "large".
      phase: index into the exposure pattern of frame 0, or None to vary it per clip.
      layout: the folder layout `synthesize_video_dataset` writes.
    """

    num_exposures: int = 2
    ratio: float = 4.0
    iso: float = None
    bits: int = 16
    duty: float = 0.5
    motion: str = "small"
    phase: int = None
    layout: str = "deephdrvideo"


PROFILES = {
    "default": Profile(),
    "dealthdr": Profile(num_exposures=2, ratio=8.0, iso=1600.0, bits=8, duty=0.9,
                        motion="small", phase=0, layout="dealthdr"),
}


def make_profile(profile="default", **overrides):
    """A Profile by name with some fields overridden (None values are ignored); validated."""
    if isinstance(profile, Profile):
        base = profile
    elif profile in PROFILES:
        base = PROFILES[profile]
    else:
        raise ConfigError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    p = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
    if p.num_exposures not in (2, 3):
        raise ConfigError(f"num_exposures must be 2 or 3, got {p.num_exposures!r}")
    if p.num_exposures == 2 and float(p.ratio) not in (4.0, 8.0):
        raise ConfigError(f"ratio must be 4 or 8 for 2 exposures, got {p.ratio!r}")
    if p.num_exposures == 3 and float(p.ratio) != 4.0:
        raise ConfigError(f"3 exposures are 1/4/16 (ratio 4), got ratio {p.ratio!r}")
    if p.iso is not None and not (math.isfinite(p.iso) and 50 <= p.iso <= 102400):
        raise ConfigError(f"iso must be in [50, 102400], got {p.iso!r}")
    if p.bits not in (8, 16):
        raise ConfigError(f"bits must be 8 or 16, got {p.bits!r}")
    if not 0 < float(p.duty) <= 1:
        raise ConfigError(f"duty must be in (0, 1], got {p.duty!r}")
    if p.motion not in MOTIONS:
        raise ConfigError(f"motion must be one of {MOTIONS}, got {p.motion!r}")
    if p.phase is not None and not 0 <= int(p.phase) < p.num_exposures:
        raise ConfigError(f"phase must be in [0, {p.num_exposures}), got {p.phase!r}")
    if p.layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {LAYOUTS}, got {p.layout!r}")
    return p


def exposure_levels(profile):
    """float32 [levels]: relative exposure times of one period, shortest = 1."""
    return np.power(float(profile.ratio), np.arange(profile.num_exposures)).astype(np.float32)


# --------------------------------------------------------------------------- geometry


def _camera(params, scale, rng, height, width):
    """Smooth camera path: tau -> 2x3 matrix mapping frame pixels to canvas pixels
    (before the canvas margin offset)."""
    drift = rng.uniform(-1, 1, 2) * params["drift"] * scale
    amp = rng.uniform(0, 1, 2) * params["wobble"] * scale
    freq = rng.uniform(0.15, 0.5, 2)
    phase = rng.uniform(0, 2 * np.pi, 2)
    rot = np.deg2rad(rng.uniform(-1, 1) * params["rotation"])
    zoom = rng.uniform(-1, 1) * params["zoom"]
    cx, cy = (width - 1) / 2, (height - 1) / 2

    def matrix(tau):
        shift = drift * tau + amp * np.sin(freq * tau + phase) - amp * np.sin(phase)
        a, s = rot * tau, 1.0 + zoom * tau
        r = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        c = np.array([cx, cy])
        return np.concatenate([r, (c - r @ c + shift)[:, None]], axis=1)

    return matrix


def _displacement(matrix, taus, height, width):
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1],
                        [width - 1, height - 1, 1]], np.float64).T
    return max(float(np.abs(matrix(t) @ corners - corners[:2]).max()) for t in taus)



# --------------------------------------------------------------------------- sources


def list_hdr_frames(source):
    """A user HDR frame sequence: a folder of .hdr/.exr files (natural order) or a list."""
    from hdrkeras.data.video_folder import list_images
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        paths = list_images(source, HDR_SOURCE_EXTENSIONS)
    else:
        paths = [os.fspath(p) for p in ([source] if isinstance(source, (str, os.PathLike))
                                        else source)]
    if not paths:
        raise DataError(f"HDR frame source {source}: no .hdr/.exr frames")
    for p in paths:
        if not os.path.isfile(p):
            raise DataError(f"HDR source frame not found: {p}")
        if os.path.splitext(p)[1].lower() not in HDR_SOURCE_EXTENSIONS:
            raise DataError(f"HDR source frame must be .hdr or .exr: {p}")
    return paths


def _source_frames(rng, paths, num_frames, hb, wb):
    """The same random crop of consecutive user HDR frames, resized to [hb, wb], scaled so
    the first frame's 99.5th percentile lands in [0.5, 1] (as the image generator)."""
    if len(paths) < num_frames:
        raise DataError(f"HDR frame source has {len(paths)} frames, fewer than the "
                        f"{num_frames} frames of a clip ({paths[0]} ...)")
    start = int(rng.integers(0, len(paths) - num_frames + 1))
    imgs = [read_hdr(p) for p in paths[start:start + num_frames]]
    h, w = imgs[0].shape[:2]
    for p, im in zip(paths[start:], imgs):
        if im.shape[:2] != (h, w):
            raise DataError(f"HDR source frame {p} is {im.shape[1]}x{im.shape[0]} but "
                            f"{paths[start]} is {w}x{h}")
    aspect = wb / hb
    ch = max(8.0, min(h, w / aspect) * rng.uniform(0.6, 1.0))
    cw = min(w, ch * aspect)
    y0, x0 = int(rng.uniform(0, h - ch + 1e-6)), int(rng.uniform(0, w - cw + 1e-6))
    out = []
    for im in imgs:
        crop = np.maximum(im[y0:y0 + int(ch), x0:x0 + int(cw)], 0.0)
        interp = cv2.INTER_AREA if crop.shape[0] > hb else cv2.INTER_LINEAR
        out.append(cv2.resize(np.ascontiguousarray(crop), (wb, hb), interpolation=interp))
    peak = float(np.percentile(out[0].max(axis=-1), 99.5))
    if peak <= 0:
        raise DataError(f"HDR source crop of {paths[start]} is black")
    gain = np.float32(rng.uniform(0.5, 1.0) / peak)
    return [o * gain for o in out], {"kind": "source", "light": 0.0, "shade": 0.0}


# --------------------------------------------------------------------------- clips


def synthesize_clip(rng_or_seed, num_frames=7, height=128, width=128, profile="default",
                    hdr_frames=None, **overrides):
    """One synthetic alternating-exposure clip with per-frame ground truth.

    Args:
      rng_or_seed: numpy.random.Generator, or anything `numpy.random.default_rng` takes.
      num_frames: int >= 1. Frames in the clip.
      height, width: int >= 32. Frame size.
      profile: "default", "dealthdr" or a Profile; `overrides` replace its fields
        (num_exposures, ratio, iso, bits, duty, motion, phase).
      hdr_frames: optional user HDR frame sequence (folder or list of .hdr/.exr) to crop
        the radiance from instead of a procedural map.

    Returns:
      dict with
        ldr: float32 [T, H, W, 3] gamma LDR in [0, 1] (multiples of 1/(2**bits - 1)).
        hdr: float32 [T, H, W, 3] linear ground truth per frame (its own coordinates,
          short-exposure units, no noise or blur).
        exposures: float32 [T] relative exposure times (shortest level = 1).
        levels: float32 [levels]; phase: int (level of frame 0); profile: Profile;
        noise: dict(full_well, read_noise) in electrons; kind: radiance kind.
    """
    p = make_profile(profile, **overrides)
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or value < MIN_SIZE:
            raise ConfigError(f"{name} must be an integer >= {MIN_SIZE}, got {value!r}")
    if not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ConfigError(f"num_frames must be an integer >= 1, got {num_frames!r}")
    rng = rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else \
        np.random.default_rng(rng_or_seed)
    params = MOTION_PARAMS[p.motion]
    scale = min(height, width) / 256.0
    n = int(num_frames)
    levels = exposure_levels(p)
    phase = int(rng.integers(0, p.num_exposures)) if p.phase is None else int(p.phase)
    times = levels[(np.arange(n) + phase) % p.num_exposures]
    durations = float(p.duty) * times / levels[-1]  # in frame intervals

    camera = _camera(params, scale, rng, height, width)
    taus = [k + s * durations[k] / 2 for k in range(n) for s in (-1, 0, 1)]
    margin = 4 + int(math.ceil(_displacement(camera, taus, height, width)))
    hb, wb = height + 2 * margin, width + 2 * margin

    if hdr_frames is not None:
        sources, info = _source_frames(rng, list_hdr_frames(hdr_frames), n, hb, wb)
    else:
        background, info = procedural.procedural_radiance(rng, hb, wb)
        sources = [background]

    objects = []
    for _ in range(int(rng.integers(params["objects"][0], params["objects"][1] + 1))):
        size = rng.uniform(0.2, 0.4) * min(height, width)
        prem, alpha = procedural.object_sprite(rng, size, info)
        centre = np.array([margin + rng.uniform(0.1, 0.9) * width,
                           margin + rng.uniform(0.15, 0.9) * height])
        speed = rng.uniform(*params["speed"]) * scale
        direction = rng.uniform(0, 2 * np.pi)
        velocity = speed * np.array([np.cos(direction), np.sin(direction)])
        accel = rng.normal(0, 0.1, 2) * speed
        objects.append((prem, alpha, centre, velocity, accel, rng.uniform(0, 360),
                        rng.uniform(-1, 1) * params["spin"]))

    offset = np.array([[0, 0, margin], [0, 0, margin]], np.float64)

    def render(tau):
        """Radiance at time tau in the frame coordinates of that instant (before optics)."""
        if len(sources) == 1:
            world = sources[0].copy()
        else:  # linear interpolation between consecutive source frames
            i = min(max(int(math.floor(tau)), 0), len(sources) - 1)
            j, a = min(i + 1, len(sources) - 1), np.float32(min(max(tau - i, 0.0), 1.0))
            world = sources[i] * (1 - a) + sources[j] * a
        t0 = tau - (n - 1) / 2  # objects start in the middle of the clip
        for prem, alpha, centre, velocity, accel, angle, spin in objects:
            pos = centre + velocity * t0 + 0.5 * accel * t0 * t0
            pr, al = procedural.place_sprite(prem, alpha, pos, angle + spin * t0, hb, wb)
            world *= 1.0 - al[..., None]
            world += pr
        return cv2.warpAffine(world, camera(tau) + offset, (width, height),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT)

    def optics(x):
        return cv2.GaussianBlur(x, (0, 0), LENS_BLUR)

    gt = np.stack([optics(render(float(k))) for k in range(n)])
    top = float(np.percentile(gt[n // 2], 99.9))
    norm = np.float32(1.0 / top) if top > 1.0 else np.float32(1.0)  # short frame keeps range
    gt *= norm

    if p.iso is None:
        full_well = float(np.exp(rng.uniform(np.log(FULL_WELL[0]), np.log(FULL_WELL[1]))))
        read_noise = float(rng.uniform(*READ_NOISE))
    else:
        full_well, read_noise = FULL_WELL_ISO100 * 100.0 / float(p.iso), READ_NOISE_ISO
    ldr = np.empty((n, height, width, 3), np.float32)
    for k in range(n):
        count = max(1, int(math.ceil(SUBFRAMES * durations[k])))
        if count == 1:
            blurred = gt[k]
        else:
            offsets = (np.arange(count) + 0.5) / count - 0.5  # centred on tau = k
            acc = np.zeros((height, width, 3), np.float32)
            for o in offsets:
                acc += render(k + float(o) * durations[k])
            blurred = optics(acc / np.float32(count)) * norm
        signal = np.clip(blurred * times[k], 0.0, 1.5) * np.float32(full_well)
        electrons = rng.poisson(signal).astype(np.float32)
        electrons += rng.normal(0.0, read_noise, signal.shape).astype(np.float32)
        ldr[k] = response.reexpose(electrons / np.float32(full_well), 1.0, bits=p.bits)

    return {"ldr": ldr, "hdr": gt.astype(np.float32), "exposures": times, "levels": levels,
            "phase": phase, "profile": p, "kind": info["kind"],
            "noise": {"full_well": full_well, "read_noise": read_noise}}


def clip_sequence(clip, name="clip"):
    """A `synthesize_clip` result as an in-memory VideoSequence (all frames valid)."""
    return VideoSequence(name, list(clip["ldr"]), clip["exposures"], list(clip["hdr"]),
                         source="synthetic")


# --------------------------------------------------------------------------- writing


def frame_name(k):
    return f"{k:05d}"


def period_evs(clip):
    """EV stops of one period in capture order starting at frame 0 (Exposures.txt)."""
    n = clip["profile"].num_exposures
    return [float(np.log2(t)) for t in clip["exposures"][:n]]


def write_clip_deephdrvideo(root, name, clip):
    """One clip as ROOT/Images/<name>/ of the DeepHDRVideo synthetic layout, atomically."""
    bits = clip["profile"].bits
    with atomic_path(os.path.join(root, "Images", name)) as tmp:
        os.makedirs(tmp)
        names = [frame_name(k) for k in range(len(clip["ldr"]))]
        for nm, ldr, hdr in zip(names, clip["ldr"], clip["hdr"]):
            write_ldr(os.path.join(tmp, nm + ".tif"), ldr, bits=bits)
            write_hdr(os.path.join(tmp, nm + ".hdr"), hdr)
        atomic_write_text(os.path.join(tmp, "img_list.txt"), "".join(f"{n}\n" for n in names))
        atomic_write_text(os.path.join(tmp, "Exposures.txt"),
                          "".join(f"{ev:g}\n" for ev in period_evs(clip)))


def write_clip_dealthdr(root, name, clip):
    """One clip as ROOT/gt/<name>/*.hdr and ROOT/blur/<name>/*.png (DeAltHDR's tree);
    ground truth first, so a reader never lists a video whose ground truth is absent."""
    if clip["phase"] != 0:
        raise ConfigError("the DeAltHDR layout has no exposure file: its clips must start "
                          "with a short frame (phase 0)")
    names = [frame_name(k) for k in range(len(clip["ldr"]))]
    with atomic_path(os.path.join(root, "gt", name)) as tmp:
        os.makedirs(tmp)
        for nm, hdr in zip(names, clip["hdr"]):
            write_hdr(os.path.join(tmp, nm + ".hdr"), hdr)
    with atomic_path(os.path.join(root, "blur", name)) as tmp:
        os.makedirs(tmp)
        for nm, ldr in zip(names, clip["ldr"]):
            write_ldr(os.path.join(tmp, nm + ".png"), ldr, bits=clip["profile"].bits)


def clip_seed(seed, index):
    """Independent stream per clip: clip i is the same whatever the number of clips."""
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(index,))


def synthesize_video_dataset(out_dir, num_clips=4, num_frames=7, height=128, width=128,
                             seed=0, profile="default", hdr_frames=None, progress=None,
                             **overrides):
    """Writes `num_clips` synthetic clips in the profile's layout (module docstring).

    Clip i uses sub-seed (seed, i); with a per-clip phase (default profile) clip i starts
    at level i mod levels so both kinds of reference frame occur. Returns a summary dict.
    """
    p = make_profile(profile, **overrides)
    if not isinstance(num_clips, (int, np.integer)) or num_clips < 1:
        raise ConfigError(f"num_clips must be an integer >= 1, got {num_clips!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    out_dir = os.path.abspath(os.fspath(out_dir))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create output directory {out_dir}: {e.strerror or e}") \
            from None
    sources = list_hdr_frames(hdr_frames) if hdr_frames is not None else None
    names = [f"clip_{i:03d}" for i in range(num_clips)]
    kinds = {}
    for i, name in enumerate(names):
        phase = p.phase if p.phase is not None else i % p.num_exposures
        clip = synthesize_clip(np.random.default_rng(clip_seed(seed, i)), num_frames, height,
                               width, dataclasses.replace(p, phase=phase), hdr_frames=sources)
        if p.layout == "dealthdr":
            write_clip_dealthdr(out_dir, name, clip)
        else:
            write_clip_deephdrvideo(out_dir, name, clip)
        kinds[clip["kind"]] = kinds.get(clip["kind"], 0) + 1
        if progress is not None:
            progress(i + 1, num_clips, name, clip["kind"])
    if p.layout == "deephdrvideo":
        list_name = "scenes_2expo.txt" if p.num_exposures == 2 else "scenes_3expo.txt"
        atomic_write_text(os.path.join(out_dir, list_name), "".join(f"{n}\n" for n in names))
    summary = {"clips": names, "num_frames": int(num_frames), "height": int(height),
               "width": int(width), "seed": int(seed), "profile": dataclasses.asdict(p),
               "levels": [float(v) for v in exposure_levels(p)], "hdr_frames": sources,
               "kinds": dict(sorted(kinds.items()))}
    atomic_write_text(os.path.join(out_dir, SUMMARY_NAME), json.dumps(summary, indent=2) + "\n")
    return dict(summary, out_dir=out_dir)


def read_synthetic_video(out_dir, check=True):
    """The clips `synthesize_video_dataset` wrote, through the matching reader."""
    path = os.path.join(os.fspath(out_dir), SUMMARY_NAME)
    if not os.path.isfile(path):
        raise DataError(f"{out_dir}: not a synthetic video folder ({SUMMARY_NAME} is missing)")
    with open(path) as f:
        summary = json.load(f)
    prof = summary["profile"]
    if prof["layout"] == "dealthdr":
        from hdrkeras.data.video_folder import dealthdr_sequences
        return dealthdr_sequences(out_dir, ratio=prof["ratio"], check=check)
    from hdrkeras.data.deephdrvideo import synthetic_sequences
    return synthetic_sequences(out_dir, prof["num_exposures"], check=check)


# --------------------------------------------------------------------------- picture


def render_strip(seq, out_png, max_frames=7, tile=128):
    """A picture of one clip: LDR frames (top row) over mu-law tonemapped ground truth
    (bottom row), each labelled with its exposure. Returns uint8 [H', W', 3] RGB."""
    n = min(len(seq), max_frames)
    gap, header = 4, 18
    sheet = np.full((2 * (tile + header) + gap, n * (tile + gap) - gap, 3), 255, np.uint8)

    def put(img, row, col, label):
        img = cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA)
        y, x = row * (tile + header + gap) + header, col * (tile + gap)
        sheet[y:y + tile, x:x + tile] = img
        cv2.putText(sheet, label, (x + 2, y - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1,
                    cv2.LINE_AA)

    for k in range(n):
        put(tonemap.to_uint8(seq.ldr(k)), 0, k, f"LDR t={seq.exposures[k]:g}")
        hdr = seq.hdr(k)
        put(tonemap.preview(hdr) if hdr is not None else np.zeros((tile, tile, 3), np.uint8),
            1, k, f"GT {k} (mu-law)")
    write_ldr(out_png, sheet.astype(np.float32) / 255.0, bits=8)
    return sheet


# --------------------------------------------------------------------------- CLI


def _define_flags():
    from absl import flags
    flags.DEFINE_string("out", None, "Folder to write the clips to.")
    flags.DEFINE_integer("clips", 4, "Number of clips.")
    flags.DEFINE_integer("frames", 7, "Frames per clip.")
    flags.DEFINE_integer("height", 128, "Frame height.")
    flags.DEFINE_integer("width", 128, "Frame width.")
    flags.DEFINE_integer("seed", 0, "Random seed; same seed, same files.")
    flags.DEFINE_enum("profile", "default", sorted(PROFILES), "Settings profile.")
    flags.DEFINE_integer("num_exposures", None, "Exposure levels (2 or 3).")
    flags.DEFINE_float("ratio", None, "Exposure ratio (2 levels: 4 or 8).")
    flags.DEFINE_float("iso", None, "Sensor ISO (shot + read noise at that gain).")
    flags.DEFINE_integer("bits", None, "LDR bits per sample (8 or 16).")
    flags.DEFINE_enum("motion", None, list(MOTIONS), "Amount of camera/object motion.")
    flags.DEFINE_list("hdr_frames", None, "A folder of .hdr/.exr frames (or a comma list) "
                      "to crop the radiance from instead of procedural maps.")
    flags.DEFINE_string("strip_png", None, "Also save a picture strip of the first clip.")
    flags.mark_flag_as_required("out")


def main(argv):
    from absl import flags
    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    hdr_frames = FLAGS.hdr_frames
    if hdr_frames is not None and len(hdr_frames) == 1:
        hdr_frames = hdr_frames[0]

    def progress(done, total, name, kind):
        print(f"[{done}/{total}] {name} ({kind})", flush=True)

    summary = synthesize_video_dataset(
        FLAGS.out, FLAGS.clips, FLAGS.frames, FLAGS.height, FLAGS.width, FLAGS.seed,
        FLAGS.profile, hdr_frames=hdr_frames, progress=progress,
        num_exposures=FLAGS.num_exposures, ratio=FLAGS.ratio, iso=FLAGS.iso,
        bits=FLAGS.bits, motion=FLAGS.motion)
    print(f"wrote {len(summary['clips'])} clips to {summary['out_dir']}", flush=True)
    if FLAGS.strip_png:
        render_strip(read_synthetic_video(summary["out_dir"])[0], FLAGS.strip_png)
        print(f"wrote {FLAGS.strip_png}", flush=True)
    return 0


if __name__ == "__main__":
    from hdrkeras.cli import run_main
    _define_flags()
    run_main(main)
