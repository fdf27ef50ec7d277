"""tf.data training pipeline of video clip records (schema version 2, kind "video_clip").

One reader owns the order, as for images (hdrkeras.data.pipeline):
files -> shuffle -> decode windows + crops -> augment -> filter -> hook -> batch -> prefetch.

From each clip record (L frames) the pipeline draws `crops_per_clip` examples, each a
window of `num_frames` consecutive frames (the method's window, at a random offset in the
clip, so every exposure phase occurs) and a random p x p crop aligned across all frames
and their ground truth. Only the needed rows of the raw blobs are decoded. Augmentation:
rot90/flips (hdrkeras.ops.dihedral), RGB permutation, time reversal, the same for the
frames and ground truth of an example. A per-example hook runs last, before batching: a
method's on-the-fly synthesis (LAN-HDR re-exposes its LDR source frames at every step).

Examples are dicts
  {"ldr": float32 [B,T,p,p,3] gamma LDR in [0,1], temporal order,
   "exposures": float32 [B,T] relative exposure times (shortest = 1, may alternate),
   "hdr": float32 [B,T,p,p,3] linear per-frame ground truth (zeros where not valid),
   "valid": bool [B,T]} ("hdr"/"valid" only when the records carry ground truth)
plus whatever the hook adds.
"""

import os

import tensorflow as tf

from hdrkeras.data import pipeline as P  # inspect_records, _physical_memory
from hdrkeras.data import schema as S
from hdrkeras.errors import ConfigError
from hdrkeras.ops.dihedral import NUM_TRANSFORMS, dihedral_tf

AUTOTUNE = tf.data.AUTOTUNE
REQUIRE_VALID = (None, "centre", "all")


def _rows(starts, ys, xs, planes, p, h, w, bytes_per_px):
    """Byte offsets of row r of frame i of crop j: [crops * planes * p] int64."""
    r = tf.range(p, dtype=tf.int64)
    plane = tf.cast(starts, tf.int64)[:, None, None] + tf.range(planes, dtype=tf.int64)[None, :,
                                                                                        None]
    ys = tf.cast(ys, tf.int64)[:, None, None]
    xs = tf.cast(xs, tf.int64)[:, None, None]
    h, w = tf.cast(h, tf.int64), tf.cast(w, tf.int64)
    return tf.reshape(((plane * h + ys + r[None, None, :]) * w + xs) * bytes_per_px, [-1])


def augment_windows(ldr, hdr, exposures, valid, seed, *, augment=True, rgb_permute=True,
                    time_reverse=True):
    """Random dihedral transform, RGB permutation and time reversal per example, shared by
    its frames and ground truth.

    ldr uint16 [k,T,p,p,3] (full scale 65535), hdr float32 [k,T,p,p,3] or None, exposures
    [k,T], valid bool [k,T]. Returns (ldr float32 in [0,1], hdr, exposures, valid). Each
    example's transform is a switch over contiguous reversals/transposes
    (hdrkeras.ops.dihedral), cheaper than a pixel gather for a few examples per record.
    """
    k, t = ldr.shape[0], ldr.shape[1]
    x = tf.cast(ldr, tf.float32) / S.LDR_FULL_SCALE
    if hdr is not None:
        x = tf.concat([x, hdr], axis=1)                                  # [k, 2T, p, p, 3]
    draws = tf.random.stateless_uniform([k, 3], seed + [0, 6])
    examples = []
    for j in range(k):
        xj = x[j]
        if augment:
            d = tf.minimum(tf.cast(draws[j, 0] * NUM_TRANSFORMS, tf.int32), NUM_TRANSFORMS - 1)
            xj = tf.switch_case(d, [lambda i=i, v=xj: dihedral_tf(v, i, 1)
                                    for i in range(NUM_TRANSFORMS)])
        if rgb_permute:  # a 3x3 permutation matrix: one matmul, faster than a channel gather
            perm = tf.argsort(tf.random.stateless_uniform([3], seed + [j + 1, 7]))
            xj = tf.linalg.matmul(tf.reshape(xj, [-1, 3]), tf.one_hot(perm, 3), transpose_b=True)
            xj = tf.reshape(xj, tf.shape(x[j]))  # square crops: transforms keep the shape
        examples.append(xj)
    x = tf.stack(examples)
    if time_reverse:  # one gather of whole frames per example
        flip = draws[:, 1:2] < 0.5
        order = tf.where(flip, tf.range(t - 1, -1, -1), tf.range(t))   # [k, T]
        exposures = tf.gather(exposures, order, batch_dims=1)
        valid = tf.gather(valid, order, batch_dims=1)
        if hdr is not None:
            order = tf.concat([order, order + t], axis=1)
        x = tf.gather(x, order, axis=1, batch_dims=1)
    if hdr is None:
        return x, None, exposures, valid
    return x[:, :t], x[:, t:], exposures, valid


def make_window_decoder(num_frames, patch_size, with_hdr):
    """decode(serialized, seed, crops) -> {"ldr" uint16 [crops,T,p,p,3], "exposures"
    [crops,T], "valid" bool [crops,T], "hdr" float32 [crops,T,p,p,3] (with_hdr)}: windows
    at random offsets and random crops of one clip record, only their rows decoded."""
    t, p = int(num_frames), int(patch_size)

    def decode(serialized, seed, crops):
        f = tf.io.parse_single_example(serialized, S.video_feature_spec())
        h = tf.cast(f[S.KEY_HEIGHT], tf.int32)
        w = tf.cast(f[S.KEY_WIDTH], tf.int32)
        n = tf.cast(f[S.KEY_NUM_FRAMES], tf.int32)
        tf.debugging.assert_greater_equal(
            tf.minimum(h, w), p, message=f"a clip record is smaller than patch_size {p}")
        starts = tf.random.stateless_uniform([crops], seed + [0, 4], 0, n - t + 1, tf.int32)
        ys = tf.random.stateless_uniform([crops], seed, 0, h - p + 1, tf.int32)
        xs = tf.random.stateless_uniform([crops], seed + [0, 1], 0, w - p + 1, tf.int32)

        def blob(key, bpp, dtype):
            pos = _rows(starts, ys, xs, t, p, h, w, bpp)
            raw = tf.strings.substr(f[key], pos, tf.fill(tf.shape(pos), tf.cast(p * bpp,
                                                                                tf.int64)))
            return tf.reshape(tf.io.decode_raw(raw, dtype, little_endian=True),
                              [crops, t, p, p, 3])

        window = starts[:, None] + tf.range(t)[None]                      # [crops, T]
        exposures = tf.gather(tf.sparse.to_dense(f[S.KEY_EXPOSURES]), window)
        valid = tf.gather(tf.sparse.to_dense(f[S.KEY_VALID]) > 0, window)
        out = {"ldr": blob(S.KEY_LDR, 6, tf.uint16), "exposures": exposures, "valid": valid}
        if with_hdr:
            out["hdr"] = tf.cond(f[S.KEY_HAS_HDR] > 0, lambda: blob(S.KEY_HDR, 12, tf.float32),
                                 lambda: tf.zeros([crops, t, p, p, 3], tf.float32))
        return out

    return decode


def video_train_dataset(records, batch_size, patch_size, *, num_frames, augment=True,
                        rgb_permute=True, time_reverse=True, require_valid="centre", hook=None,
                        deterministic=False, seed=None, repeat=True, shuffle_buffer=256,
                        crops_per_clip=2, cache="auto", verify=False):
    """Random aligned windows and crops of video clip records for training.

    Args:
      records: clip records folder (make_tfrecord --kind video), shard file, glob or list.
      batch_size: int. Examples per batch (drop_remainder).
      patch_size: int. Square crop side p, the same for every frame and its ground truth.
      num_frames: int. Window length T the method takes (LAN-HDR 2E: 7 source frames,
        3E: 8; DeAltHDR: 5); at most the records' clip length.
      augment: bool. Random rot90 + flips. rgb_permute: bool. Random RGB permutation.
      time_reverse: bool. Play the window backwards with probability 1/2.
      require_valid: None, "centre" or "all". Keep only windows whose centre frame (or
        every frame) has ground truth; None keeps all (self-supervised training).
      hook: callable(example dict) -> example dict, per example after augmentation.
      deterministic, seed, repeat, shuffle_buffer, cache, verify: as
        `hdrkeras.data.pipeline.train_dataset`.
      crops_per_clip: int. Examples drawn per decoded clip record.

    Returns:
      tf.data.Dataset of dicts (module docstring).
    """
    info = P.inspect_records(records, verify=verify)
    where = info["paths"][0]
    if info["kind"] != S.KIND_VIDEO_CLIP:
        raise ConfigError(f"records {where} hold {info['kind']} records; the video pipeline "
                          f"reads video clips (make_tfrecord --kind video)")
    length = info["num_frames"]
    if not 1 <= num_frames <= length:
        raise ConfigError(f"num_frames {num_frames} does not fit the {length}-frame clips of "
                          f"{where}")
    if batch_size < 1 or patch_size < 1 or crops_per_clip < 1:
        raise ConfigError("batch_size, patch_size and crops_per_clip must be positive")
    if require_valid not in REQUIRE_VALID:
        raise ConfigError(f"require_valid must be one of {REQUIRE_VALID}, got {require_valid!r}")
    m = info["manifest"]
    if m is not None and (m["min_height"] < patch_size or m["min_width"] < patch_size):
        raise ConfigError(f"patch_size {patch_size} is larger than the smallest clip "
                          f"({m['min_width']}x{m['min_height']}) in {where}")
    with_hdr = bool(m["valid_fraction"] > 0) if m is not None and "valid_fraction" in m \
        else True
    if require_valid and not with_hdr:
        raise ConfigError(f"records {where} have no ground truth; pass require_valid=None")
    t, p, k = int(num_frames), int(patch_size), int(crops_per_clip)
    decode = make_window_decoder(t, p, with_hdr)
    seed_base = 0 if seed is None else int(seed)

    def parse(serialized, elem_seed):
        s = tf.stack([elem_seed, tf.constant(seed_base, tf.int64)])
        ex = decode(serialized, s, k)
        ldr, planes, exposures, valid = augment_windows(
            ex["ldr"], ex.get("hdr"), ex["exposures"], ex["valid"], s, augment=augment,
            rgb_permute=rgb_permute, time_reverse=time_reverse)
        out = {"ldr": tf.ensure_shape(ldr, [k, t, p, p, 3]),
               "exposures": tf.ensure_shape(exposures, [k, t])}
        if with_hdr:
            out["hdr"] = tf.ensure_shape(planes, [k, t, p, p, 3])
            out["valid"] = tf.ensure_shape(valid, [k, t])
        return out

    paths = info["paths"]
    if cache == "auto":
        cache = sum(os.path.getsize(f) for f in paths) <= P._physical_memory() // 4
    ds = tf.data.TFRecordDataset(paths)
    record_buffer = max(2, min(64, int(shuffle_buffer) // k))
    if cache:
        ds = ds.cache()
        record_buffer = max(record_buffer, min(info["num_records"], 4096))
    if repeat:
        ds = ds.repeat()
    ds = ds.shuffle(record_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.random(seed=seed))
    ds = ds.map(parse, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = ds.unbatch()
    if require_valid == "centre":
        ds = ds.filter(lambda e: e["valid"][t // 2])
    elif require_valid == "all":
        ds = ds.filter(lambda e: tf.reduce_all(e["valid"]))
    if k > 1:
        ds = ds.shuffle(int(shuffle_buffer), seed=None if seed is None else seed + 1,
                        reshuffle_each_iteration=True)
    if hook is not None:
        ds = ds.map(hook, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = ds.batch(batch_size, drop_remainder=True)
    opts = tf.data.Options()
    opts.deterministic = bool(deterministic)
    return ds.with_options(opts).prefetch(AUTOTUNE)
