"""LAN-HDR's training data, synthesized on the fly from LDR (or linear) source clips.

Follows the official loader (haesoochung/LAN-HDR datasets/syn_vimeo_dataset.py and the
noise of trainer.py's prepare_inputs), written as stateless TensorFlow ops so it runs inside
tf.data and is deterministic for a given per-example seed:

1. Frame choice from a 7-frame source clip: 2 exposures draw 6 of the 7 frames in order
   (one skipped at random); 3 exposures take all 7 and repeat a random one of the last
   three as an 8th. With p = 0.5 the order is reversed in time. Window 1 is the first
   `nframes` of them, window 2 the last `nframes` (one frame later).
2. LDR sources are linearised by inverting a random sigmoid camera curve
   y = (1 + sigma) x**n / (x**n + sigma), n ~ N(0.65, 0.1) clipped to [0.4, 0.9],
   sigma ~ N(0.6, 0.1) clipped to [0.4, 0.8], and quantised to 16 bits. Linear sources
   (our synthetic HDR video's ground truth) are only scaled into [0, 1].
3. Augmentation: a random rescale (height in [crop, H), width in [crop, W), bilinear),
   flips, a crop, rot90 and a colour permutation.
4. Alternating exposures: 2E [h,1,h,...] or [1,h,1,...] with h in {4, 8}; 3E the 1/4/16
   pattern at a random phase; window 2 continues window 1's pattern.
5. Re-exposure around an anchor of the centre frame: a short centre frame maps its maximum
   to U(0.1, 1) of itself; a long one maps its U(98, 100)th percentile a to U(a, 1). Then
   HDR_i = clip(x / a * a', 0, 1) and LDR_i = clip((HDR_i t_i)**(1/2.2), 0, 1).
6. With p = 0.9 the darker frames (shorter than a neighbour) get Gaussian noise of std
   1e-3 in the linear domain (the official `tone_ref` default).

Deviations, documented: the official code crops and augments its two windows
independently, so its temporal loss compares unrelated crops; here both windows share one
crop and augmentation unless `independent_windows=True` (the official behaviour). The
official noise decision is drawn once per batch; here once per example.
"""

import tensorflow as tf

from hdrkeras.ops.response import GAMMA

SOURCE_FRAMES = 7
NOISE_PROBABILITY = 0.9
NOISE_STD = 1e-3
# Exposure patterns of one window start, before the random phase is applied.
THREE_EXPOSURES = (1.0, 4.0, 16.0)


def _uniform(seed, low=0.0, high=1.0, shape=()):
    return tf.random.stateless_uniform(shape, seed, low, high)


def _seeds(seed, n):
    return tf.unstack(tf.random.experimental.stateless_split(seed, n))


def frame_indices(seed, nexps):
    """int32 [nframes + 1] source-frame indices: window 1 = [:-1], window 2 = [1:]."""
    s_pick, s_rev = _seeds(seed, 2)
    if nexps == 2:
        skip = tf.random.stateless_uniform((), s_pick, 0, SOURCE_FRAMES, tf.int32)
        idx = tf.boolean_mask(tf.range(SOURCE_FRAMES), tf.not_equal(tf.range(SOURCE_FRAMES),
                                                                    skip))
    elif nexps == 3:
        extra = tf.random.stateless_uniform((1,), s_pick, 4, SOURCE_FRAMES, tf.int32)
        idx = tf.concat([tf.range(SOURCE_FRAMES), extra], 0)
    else:
        raise ValueError(f"LAN-HDR takes 2 or 3 exposures, got {nexps}")
    return tf.cond(_uniform(s_rev) < 0.5, lambda: tf.reverse(idx, [0]), lambda: idx)


def exposure_pattern(seed, nexps, length):
    """float32 [length + 1] exposures: window 1 = [:-1], window 2 = [1:] (its continuation)."""
    s_phase, s_high = _seeds(seed, 2)
    if nexps == 2:
        high = tf.where(_uniform(s_high) < 0.5, 4.0, 8.0)
        levels = tf.stack([tf.constant(1.0), high])
    else:
        levels = tf.constant(THREE_EXPOSURES)
    phase = tf.random.stateless_uniform((), s_phase, 0, nexps, tf.int32)
    return tf.gather(levels, tf.math.floormod(tf.range(length + 1) + phase, nexps))


def sample_camera_curve(seed):
    s_n, s_sigma = _seeds(seed, 2)
    n = tf.clip_by_value(0.65 + 0.1 * tf.random.stateless_normal((), s_n), 0.4, 0.9)
    sigma = tf.clip_by_value(0.6 + 0.1 * tf.random.stateless_normal((), s_sigma), 0.4, 0.8)
    return n, sigma


def inverse_sigmoid_curve(y, n, sigma):
    """Linear x from LDR y in [0,1] under y = (1 + sigma) x**n / (x**n + sigma)."""
    y = tf.clip_by_value(y, 0.0, 1.0)
    x = tf.pow(tf.maximum(sigma * y / (1.0 + sigma - y), 0.0), 1.0 / n)
    return tf.floor(x * 65535.0) / 65535.0


def augment(frames, seed, crop):
    """frames [T, H, W, C] (the same transform for every frame): rescale, flips, crop,
    rot90, colour permutation."""
    s_h, s_w, s_lr, s_ud, s_crop, s_rot, s_perm = _seeds(seed, 7)
    h, w = tf.shape(frames)[1], tf.shape(frames)[2]
    new_h = tf.where(h > crop, tf.random.stateless_uniform((), s_h, crop, tf.maximum(h, crop + 1),
                                                          tf.int32), h)
    new_w = tf.where(w > crop, tf.random.stateless_uniform((), s_w, crop, tf.maximum(w, crop + 1),
                                                          tf.int32), w)
    frames = tf.image.resize(frames, tf.stack([new_h, new_w]), "bilinear")
    frames = tf.cond(_uniform(s_lr) < 0.5, lambda: tf.reverse(frames, [2]), lambda: frames)
    frames = tf.cond(_uniform(s_ud) < 0.5, lambda: tf.reverse(frames, [1]), lambda: frames)
    channels = frames.shape[-1]
    frames = tf.image.stateless_random_crop(frames, tf.stack([tf.shape(frames)[0], crop, crop,
                                                              channels]), s_crop)
    frames = tf.image.rot90(frames, tf.random.stateless_uniform((), s_rot, 0, 4, tf.int32))
    perm = tf.argsort(tf.random.stateless_uniform((3,), s_perm))
    return tf.gather(frames, perm, axis=-1)


def _percentile(x, q):
    """numpy.percentile(x, q) with linear interpolation."""
    flat = tf.sort(tf.reshape(x, [-1]))
    pos = q / 100.0 * tf.cast(tf.size(flat) - 1, tf.float32)
    lo = tf.cast(tf.floor(pos), tf.int32)
    hi = tf.minimum(lo + 1, tf.size(flat) - 1)
    frac = pos - tf.floor(pos)
    return tf.gather(flat, lo) * (1.0 - frac) + tf.gather(flat, hi) * frac


def reexpose(linear, exposures, seed):
    """linear [N, h, w, 3] in [0,1], exposures [N] -> (ldr [N,h,w,3], hdr [N,h,w,3])."""
    s_a, s_b = _seeds(seed, 2)
    mid = linear.shape[0] // 2
    ref = linear[mid]
    short_ref = tf.equal(exposures[mid], 1.0)
    max_anchor = tf.reduce_max(ref)
    pct_anchor = _percentile(ref, _uniform(s_a, 98.0, 100.0))
    anchor = tf.where(short_ref, max_anchor, pct_anchor)
    new_anchor = tf.where(short_ref, max_anchor * _uniform(s_b, 0.1, 1.0),
                          pct_anchor + (1.0 - pct_anchor) * _uniform(s_b))
    hdr = tf.clip_by_value(linear / (anchor + 1e-8) * new_anchor, 0.0, 1.0)
    t = tf.reshape(exposures, (-1, 1, 1, 1))
    ldr = tf.clip_by_value(tf.pow(hdr * t, 1.0 / GAMMA), 0.0, 1.0)
    return ldr, hdr


def perturb_darker_frames(ldr, exposures, seed):
    """With p = 0.9, Gaussian noise (std 1e-3, linear domain) on frames shorter than a
    neighbour. ldr [N, h, w, 3] gamma LDR in [0,1]."""
    s_apply, s_noise = _seeds(seed, 2)
    darker = tf.logical_or(
        tf.concat([[False], exposures[1:] < exposures[:-1]], 0),
        tf.concat([exposures[:-1] < exposures[1:], [False]], 0))
    noise = NOISE_STD * tf.random.stateless_normal(tf.shape(ldr), s_noise)
    noisy = tf.pow(tf.clip_by_value(tf.pow(tf.clip_by_value(ldr, 0.0, 1.0), GAMMA) + noise,
                                    0.0, 1.0), 1.0 / GAMMA)
    apply = tf.logical_and(_uniform(s_apply) < NOISE_PROBABILITY, darker)
    return tf.where(tf.reshape(apply, (-1, 1, 1, 1)), noisy, ldr)


def training_pair(source, seed, nexps, nframes, crop, linear=False, independent_windows=False):
    """Two consecutive training windows from one 7-frame source clip.

    Args:
      source: float32 [7, H, W, 3]: gamma LDR in [0,1] (a Vimeo septuplet), or linear
        radiance (`linear=True`, e.g. synthetic HDR video ground truth).
      seed: int32 [2] per-example seed of the stateless random ops.
      nexps: 2 or 3. nframes: window length (5 for 2E, 7 for 3E). crop: square crop size.
      linear: the source is linear radiance (no camera curve to invert).
      independent_windows: crop and augment the two windows separately (the official
        behaviour) instead of sharing one transform.

    Returns:
      dict with "ldr" float32 [2, nframes, crop, crop, 3] gamma LDR in [0,1], "exposures"
      float32 [2, nframes] (shortest = 1), "hdr" float32 [2, crop, crop, 3] the centre
      frames' linear ground truth, one entry per window.
    """
    s_idx, s_curve, s_aug1, s_aug2, s_exp, s_re1, s_re2, s_n1, s_n2 = _seeds(seed, 9)
    idx = frame_indices(s_idx, nexps)
    if idx.shape[0] is not None and idx.shape[0] != nframes + 1:
        raise ValueError(f"{nexps} exposures give {idx.shape[0] - 1}-frame windows, not "
                         f"{nframes}")
    idx = tf.ensure_shape(idx, [nframes + 1])  # static inside tf.data (2E's mask is not)
    frames = tf.gather(tf.convert_to_tensor(source, tf.float32), idx)
    if linear:
        frames = frames / tf.maximum(tf.reduce_max(frames), 1e-8)
    else:
        frames = inverse_sigmoid_curve(frames, *sample_camera_curve(s_curve))
    if independent_windows:
        first, second = augment(frames[:-1], s_aug1, crop), augment(frames[1:], s_aug2, crop)
    else:
        frames = augment(frames, s_aug1, crop)
        first, second = frames[:-1], frames[1:]
    exposures = exposure_pattern(s_exp, nexps, nframes)
    out = {"ldr": [], "exposures": [], "hdr": []}
    for window, t, s_re, s_n in ((first, exposures[:-1], s_re1, s_n1),
                                 (second, exposures[1:], s_re2, s_n2)):
        ldr, hdr = reexpose(window, t, s_re)
        out["ldr"].append(perturb_darker_frames(ldr, t, s_n))
        out["exposures"].append(t)
        out["hdr"].append(hdr[nframes // 2])
    return {k: tf.stack(v) for k, v in out.items()}
