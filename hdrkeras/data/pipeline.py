"""tf.data pipelines: one reader owns the order
files -> interleave -> shuffle -> decode -> parse (crop, augment, hook) -> batch -> prefetch.

Training examples are dicts
  {"ldr": float32 [B,N,p,p,3] gamma LDR in [0,1], frames in increasing exposure,
   "exposures": float32 [B,N] relative exposure times (shortest = 1),
   "hdr": float32 [B,p,p,3] linear HDR GT (only when every record has GT)}
plus whatever keys a method's hook adds.
"""

import glob
import os

import numpy as np
import tensorflow as tf

from hdrkeras.data import records as R
from hdrkeras.data import schema as S
from hdrkeras.data import sources
from hdrkeras.data import tfrecord
from hdrkeras.errors import ConfigError, RecordError
from hdrkeras.ops.dihedral import NUM_TRANSFORMS, dihedral_index, dihedral_tf

AUTOTUNE = tf.data.AUTOTUNE


def resolve_records(records):
    """records folder (with manifest.json), shard file, glob or list -> (paths, manifest|None)."""
    manifest = None
    if isinstance(records, (str, os.PathLike)):
        records = os.fspath(records)
        if os.path.isdir(records):
            if os.path.isfile(os.path.join(records, R.MANIFEST)):
                manifest = R.read_manifest(records)
                paths = [os.path.join(records, s["file"]) for s in manifest["shards"]]
            else:
                paths = sorted(glob.glob(os.path.join(records, "*.tfrecord*")))
                if not paths:
                    raise RecordError(f"records folder {records} has no {R.MANIFEST} and no "
                                      f"*.tfrecord files")
        elif any(c in records for c in "*?["):
            paths = sorted(glob.glob(records))
            if not paths:
                raise RecordError(f"no record files match {records}")
        else:
            paths = [records]
    else:
        paths = [os.fspath(p) for p in records]
        if not paths:
            raise RecordError("empty list of record files")
    for p in paths:
        if not os.path.isfile(p):
            raise RecordError(f"record file {p} does not exist")
    if manifest is not None:
        for shard, p in zip(manifest["shards"], paths):
            size = os.path.getsize(p)
            if size != shard["bytes"]:
                raise RecordError(f"record file {p} is {size} bytes but its manifest says "
                                  f"{shard['bytes']} (truncated or replaced)")
    return paths, manifest


def inspect_records(records, *, verify=False):
    """Checks every record file and tells how to decode them.

    Walks each file's framing (cheap) and reads the keys of its first record; with
    verify=True also checks every payload CRC. All files must share one schema.

    Returns:
      dict with paths, manifest, schema, prefix, has_extras, kind, has_hdr, num_frames,
      num_records.
    """
    paths, manifest = resolve_records(records)
    found, total, has_hdr = None, 0, True
    for p in paths:
        n, first = tfrecord.scan_records(p, first_payload=True)
        if verify:
            tfrecord.verify_records(p)
        schema, prefix, info = S.detect_schema(p, first)
        key = (schema, prefix, info.get("has_extras", True), info["kind"], info["num_frames"],
               tuple(info.get("targets", ())), bool(info.get("has_aligned", False)))
        if found is None:
            found, first_path = key, p
        elif key != found:
            raise RecordError(f"record file {p} ({schema} {info['kind']}, "
                              f"{info['num_frames']} frames, targets {key[5]}) does not match "
                              f"{first_path} ({found[0]} {found[3]}, {found[4]} frames, "
                              f"targets {found[5]})")
        has_hdr = has_hdr and info["has_hdr"]
        total += n
    if manifest is not None:
        has_hdr = bool(manifest["has_hdr"])
    return {"paths": paths, "manifest": manifest, "schema": found[0], "prefix": found[1],
            "has_extras": found[2], "kind": found[3], "num_frames": found[4],
            "targets": found[5], "has_aligned": found[6], "has_hdr": has_hdr,
            "num_records": total}


def check_records(records, *, user, num_frames, ground_truth=True, targets=()):
    """Checks that a records folder holds what a method's training reads, before any step.

    Args:
      records: as `resolve_records` (or an `inspect_records` dict).
      user: str. Who reads them, for the message (e.g. "method esbn, stage fusion").
      num_frames: int. Frames per example the method takes.
      ground_truth: bool. The method trains against ground truth ("hdr").
      targets: names of training targets (hdrkeras.data.schema.TARGET_NAMES) it needs.

    Returns:
      the `inspect_records` dict. Raises RecordError naming the folder and what it holds.
    """
    info = records if isinstance(records, dict) else inspect_records(records)
    where = info["paths"][0] if info["manifest"] is None else os.path.dirname(info["paths"][0])
    holds = (f"{info['kind']} records with {info['num_frames']} frames, "
             f"{'with' if info['has_hdr'] else 'without'} ground truth"
             + (f", targets {', '.join(info['targets'])}" if info["targets"] else ""))
    if info["num_frames"] != num_frames:
        raise RecordError(f"records {where} hold {holds}; {user} takes {num_frames} frames")
    if ground_truth and not info["has_hdr"]:
        hint = (" (these are SelfHDR target records)" if S.Y_COLOR in info["targets"] else "")
        raise RecordError(f"records {where} hold {holds}{hint}; {user} trains against ground "
                          f"truth: make its records with make_tfrecord")
    missing = [t for t in targets if t not in info["targets"]]
    if missing:
        raise RecordError(f"records {where} hold {holds}; {user} needs the training targets "
                          f"{', '.join(missing)}")
    return info


def record_errors(records):
    """Context manager: a damaged record met while iterating a dataset made from `records`
    is reported as a RecordError naming the shard and the record (TF's DataLossError names
    neither). Cheap to enter: the files are looked at only when an error comes."""
    if isinstance(records, dict):
        return tfrecord.read_errors(records["paths"])
    return tfrecord.read_errors(lambda: resolve_records(records)[0])


def read_records_numpy(path):
    """All records of a file as a list of numpy dicts (small files, tests, tools)."""
    schema, prefix, info = S.detect_schema(path)
    decode = S.make_decoder(schema, prefix, info.get("has_extras", True),
                            targets=info.get("targets", ()),
                            aligned=info.get("has_aligned", False), kind=info["kind"])
    out = []
    with tfrecord.read_errors([path]):
        for s in tf.data.TFRecordDataset(str(path)):
            d = decode(s)
            out.append({k: (v.numpy().decode() if k == "scene" else v.numpy())
                        for k, v in d.items()})
    return out


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def make_crop_decoder(schema, prefix="", has_extras=True, *, num_frames, patch_size, targets=()):
    """The pipeline's record parser: decode_crops(serialized, offsets_fn, crops) -> dict of
    `crops` aligned crops.

    offsets_fn(height, width) -> (ys, xs), int32 [crops] top-left corners. For hdrkeras
    records only the cropped rows are decoded (tf.strings.substr on the raw blobs), so a
    1000x1500 scene costs a few MB of decoding per call instead of 45 MB.

    Output: {"ldr": uint16 [crops,N,p,p,3] (full scale 65535), "hdr": float32
    [crops,p,p,3] (zeros without GT), "exposures": float32 [N], "has_hdr": bool} and, with
    `targets` (names, hdrkeras records only), "targets": float32 [crops,K,p,p,3].
    """
    p, n = int(patch_size), int(num_frames)

    def rows(ys, xs, planes, h, w, bytes_per_px):
        # pos[j, i, r] = byte offset of row r of crop j in plane i.
        r = tf.range(p, dtype=tf.int64)
        plane = tf.range(planes, dtype=tf.int64)
        ys = tf.cast(ys, tf.int64)[:, None, None]
        xs = tf.cast(xs, tf.int64)[:, None, None]
        h, w = tf.cast(h, tf.int64), tf.cast(w, tf.int64)
        pos = ((plane[None, :, None] * h + ys + r[None, None, :]) * w + xs) * bytes_per_px
        return tf.reshape(pos, [-1])

    k = len(targets)
    if k and schema != S.SCHEMA_HDRKERAS:
        raise ValueError("only hdrkeras records carry targets")
    if schema != S.SCHEMA_HDRKERAS:
        decode = S.make_decoder(schema, prefix, has_extras, ldr_dtype=tf.uint16)

        def decode_crops(serialized, offsets_fn, crops):
            ex = decode(serialized)
            h, w = tf.shape(ex["ldr"])[1], tf.shape(ex["ldr"])[2]
            ys, xs = offsets_fn(h, w)
            ldr = tf.stack([ex["ldr"][:, ys[j]:ys[j] + p, xs[j]:xs[j] + p] for j in range(crops)])
            hdr = tf.stack([ex["hdr"][ys[j]:ys[j] + p, xs[j]:xs[j] + p] for j in range(crops)])
            return {"ldr": tf.ensure_shape(ldr, [crops, n, p, p, 3]),
                    "hdr": tf.ensure_shape(hdr, [crops, p, p, 3]),
                    "exposures": ex["exposures"], "has_hdr": ex["has_hdr"]}
        return decode_crops

    def decode_crops(serialized, offsets_fn, crops):
        f = tf.io.parse_single_example(serialized, S.feature_spec(targets, False))
        h = tf.cast(f[S.KEY_HEIGHT], tf.int32)
        w = tf.cast(f[S.KEY_WIDTH], tf.int32)
        ys, xs = offsets_fn(h, w)
        pos = rows(ys, xs, n, h, w, 6)
        size = tf.fill(tf.shape(pos), tf.cast(p * 6, tf.int64))
        ldr = tf.io.decode_raw(tf.strings.substr(f[S.KEY_LDR], pos, size), tf.uint16,
                               little_endian=True)
        ldr = tf.reshape(ldr, [crops, n, p, p, 3])
        has_hdr = f[S.KEY_HAS_HDR] > 0

        def gt():
            pos = rows(ys, xs, 1, h, w, 12)
            size = tf.fill(tf.shape(pos), tf.cast(p * 12, tf.int64))
            blob = tf.strings.substr(f[S.KEY_HDR], pos, size)
            return tf.reshape(tf.io.decode_raw(blob, tf.float32, little_endian=True),
                              [crops, p, p, 3])

        hdr = tf.cond(has_hdr, gt, lambda: tf.zeros([crops, p, p, 3], tf.float32))
        out = {"ldr": ldr, "hdr": tf.ensure_shape(hdr, [crops, p, p, 3]),
               "exposures": tf.reshape(tf.sparse.to_dense(f[S.KEY_EXPOSURES]), [n]),
               "has_hdr": has_hdr}
        if k:
            pos = rows(ys, xs, k, h, w, 12)
            size = tf.fill(tf.shape(pos), tf.cast(p * 12, tf.int64))
            blob = tf.strings.substr(f[S.KEY_TARGETS], pos, size)
            out["targets"] = tf.reshape(tf.io.decode_raw(blob, tf.float32, little_endian=True),
                                        [crops, k, p, p, 3])
        return out

    return decode_crops


def _refuse_video(info):
    if info["kind"] == S.KIND_VIDEO_CLIP:
        raise ConfigError(f"records {info['paths'][0]} hold video clips; image pipelines read "
                          f"image records (video clips: hdrkeras.data.video_pipeline)")


def _augment(ldr, hdr, seed, augment, rgb_permute, index):
    """Random dihedral transform (and RGB permutation) per crop, shared by its frames and GT.

    ldr [k,N,p,p,3] (any dtype), hdr [k,M,p,p,3] float (GT and training targets); the
    transforms are hdrkeras.ops.dihedral's. When k is a multiple of 8 the transforms are
    stratified: eighth d of the crops gets transform d (crop positions
    are iid and the crops are shuffled afterwards, so every crop still sees each transform
    with probability 1/8), which costs a few contiguous copies. Otherwise each crop draws
    its transform and one batched gather applies them.
    """
    k, p = ldr.shape[0], ldr.shape[2]
    if augment and k % NUM_TRANSFORMS == 0:
        g = k // NUM_TRANSFORMS
        ldr = tf.concat([dihedral_tf(ldr[d * g:(d + 1) * g], d, 2)
                         for d in range(NUM_TRANSFORMS)], 0)
        hdr = tf.concat([dihedral_tf(hdr[d * g:(d + 1) * g], d, 2)
                         for d in range(NUM_TRANSFORMS)], 0)
    elif augment:
        d = tf.random.stateless_uniform([k], seed + [0, 2], 0, NUM_TRANSFORMS, tf.int32)
        idx = tf.gather(index, d)                                   # [k, p*p]

        def permute(x):
            m = x.shape[1]
            return tf.reshape(tf.gather(tf.reshape(x, [k, m, p * p, 3]),
                                        tf.tile(idx[:, None], [1, m, 1]), batch_dims=2, axis=2),
                              [k, m, p, p, 3])

        ldr, hdr = permute(ldr), permute(hdr)
    ldr = tf.cast(ldr, tf.float32) / S.LDR_FULL_SCALE
    if rgb_permute:
        perm = tf.argsort(tf.random.stateless_uniform([k, 3], seed + [0, 3]), axis=-1)
        onehot = tf.one_hot(perm, 3, dtype=tf.float32)              # [k, out c, in c]
        ldr = tf.einsum("knhwc,kdc->knhwd", ldr, onehot)
        hdr = tf.einsum("knhwc,kdc->knhwd", hdr, onehot)
    return ldr, hdr


def train_dataset(records, batch_size, patch_size, *, num_frames=3, augment=True,
                  rgb_permute=False, hook=None, deterministic=False, seed=None, repeat=True,
                  shuffle_buffer=None, crops_per_scene=16, cache="auto", verify=False):
    """Random aligned crops for training.

    Args:
      records: records folder with manifest.json, a shard file, a glob or a list of shards
        (hdrkeras scene/patch records or ESBN records).
      batch_size: int. Examples per batch (drop_remainder).
      patch_size: int. Square crop side p; crops are aligned across frames and GT.
      num_frames: int. Frames per example; must match the records.
      augment: bool. Random rot90 + horizontal flip (8 dihedral transforms).
      rgb_permute: bool. Random permutation of the RGB channels (same for frames and GT).
      hook: callable(example dict) -> example dict, run per example in tf.data after
        augmentation (a method's `pipeline_hook`).
      deterministic: bool. With a seed, identical batches on every run.
      seed: int or None. Seed for file order, shuffles, crops and augmentation.
      repeat: bool. Repeat forever.
      shuffle_buffer: int or None. Shuffle buffer in examples (crops); records are
        shuffled in a buffer of about shuffle_buffer / crops_per_scene scene records
        (at least 2). Defaults to 256.
      crops_per_scene: int. Scene records: crops drawn from one decoded scene (amortises
        decoding). Patch records give one crop each.
      cache: bool or "auto". Keep the serialized records in memory after the first pass
        (removes file reading, the main cost of scene records, from later epochs, and
        lets every epoch shuffle all records). "auto" caches when the record files take
        at most a quarter of the physical memory.
      verify: bool. Read every record once up front to check payload CRCs.

    Returns:
      tf.data.Dataset of dicts {"ldr" [B,N,p,p,3], "exposures" [B,N], "hdr" [B,p,p,3]}
      ("hdr" only when every record has GT) plus one [B,p,p,3] entry per training target
      the records carry (e.g. "y_color"), cropped and augmented with the frames.
    """
    info = inspect_records(records, verify=verify)
    _refuse_video(info)
    if info["num_frames"] != num_frames:
        raise ConfigError(f"records {info['paths'][0]} hold {info['num_frames']} frames per "
                          f"example, num_frames={num_frames} was asked")
    if batch_size < 1 or patch_size < 1 or crops_per_scene < 1:
        raise ConfigError("batch_size, patch_size and crops_per_scene must be positive")
    m = info["manifest"]
    if m is not None and (m["min_height"] < patch_size or m["min_width"] < patch_size):
        raise ConfigError(f"patch_size {patch_size} is larger than the smallest record "
                          f"({m['min_width']}x{m['min_height']}) in {info['paths'][0]}")
    is_scene = info["kind"] != S.KIND_IMAGE_PATCH
    k_crops = crops_per_scene if is_scene else 1
    shuffle_buffer = int(shuffle_buffer or 256)
    # Scene records are large (45 MB for 1000x1500): keep few of them in the buffer.
    record_buffer = max(2, min(8, shuffle_buffer // k_crops)) if is_scene else shuffle_buffer
    with_hdr = info["has_hdr"]
    p = int(patch_size)
    index = tf.constant(dihedral_index(p)) if augment else None
    targets = info["targets"]
    decode_crops = make_crop_decoder(info["schema"], info["prefix"], info["has_extras"],
                                     num_frames=num_frames, patch_size=p, targets=targets)
    paths = info["paths"]
    seed_base = 0 if seed is None else int(seed)

    def parse(serialized, elem_seed):
        s = tf.stack([elem_seed, tf.constant(seed_base, tf.int64)])

        def offsets(h, w):
            tf.debugging.assert_greater_equal(
                tf.minimum(h, w), p, message=f"a record is smaller than patch_size {p}")
            ys = tf.random.stateless_uniform([k_crops], s, 0, h - p + 1, tf.int32)
            xs = tf.random.stateless_uniform([k_crops], s + [0, 1], 0, w - p + 1, tf.int32)
            return ys, xs

        ex = decode_crops(serialized, offsets, k_crops)
        planes = ex["hdr"][:, None]
        if targets:
            planes = tf.concat([planes, ex["targets"]], axis=1)
        ldr, planes = _augment(ex["ldr"], planes, s, augment, rgb_permute, index)
        out = {"ldr": tf.ensure_shape(ldr, [k_crops, num_frames, p, p, 3]),
               "exposures": tf.ensure_shape(tf.tile(ex["exposures"][None], [k_crops, 1]),
                                            [k_crops, num_frames])}
        if with_hdr:
            out["hdr"] = tf.ensure_shape(planes[:, 0], [k_crops, p, p, 3])
        for i, name in enumerate(targets):
            out[name] = tf.ensure_shape(planes[:, 1 + i], [k_crops, p, p, 3])
        return out

    if cache == "auto":
        cache = sum(os.path.getsize(f) for f in paths) <= _physical_memory() // 4
    files = tf.data.Dataset.from_tensor_slices(paths)
    if cache:
        # Cached tensors are shared, not copied, by the shuffle buffer: shuffle them all.
        record_buffer = max(record_buffer, info["num_records"])
        ds = tf.data.TFRecordDataset(files).cache()
        if repeat:
            ds = ds.repeat()
    else:
        if len(paths) > 1:
            files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            files = files.repeat()
        ds = files.interleave(tf.data.TFRecordDataset, cycle_length=min(len(paths), 4),
                              block_length=1, num_parallel_calls=AUTOTUNE,
                              deterministic=deterministic)
    ds = ds.shuffle(record_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.random(seed=seed))
    ds = ds.map(parse, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = ds.unbatch()
    if k_crops > 1:
        ds = ds.shuffle(shuffle_buffer, seed=None if seed is None else seed + 1,
                        reshuffle_each_iteration=True)
    if hook is not None:
        ds = ds.map(hook, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = ds.batch(batch_size, drop_remainder=True)
    opts = tf.data.Options()
    opts.deterministic = bool(deterministic)
    ds = ds.with_options(opts)
    return ds.prefetch(AUTOTUNE)


def eval_dataset(source, *, num_frames=3, split="test", dataset="auto", verify=False,
                 ground_truth=True, source_type=None):
    """Whole scenes, batch 1, no crop, in a fixed order.

    Iterate records inside `record_errors(source)` to have a damaged record named.

    Args:
      source: records (folder/shard/glob/list), a dataset root (Kalantari/SCTNet layout,
        `split` chooses the folder; DataError if it has none) or one bracket folder (no GT).
      num_frames: int. Frames per scene.
      source_type: str or None. "records", "dataset" or "bracket" when the caller knows
        (a path of another type is an error); None detects it (hdrkeras.data.sources).
      ground_truth: bool. False leaves "hdr" out even where the source has it (tools that
        must not see GT, e.g. SelfHDR's target construction).

    Returns:
      tf.data.Dataset of {"ldr" [1,N,H,W,3], "exposures" [1,N], "hdr" [1,H,W,3] (when the
      source has GT), "scene" [1] string} plus, from records that carry them, the training
      targets ([1,H,W,3] each) and "ldr_aligned" [1,N,H,W,3].
    """
    kind = sources.source_type(source, source_type)
    if kind == sources.RECORDS:
        info = inspect_records(source, verify=verify)
        _refuse_video(info)
        if info["num_frames"] != num_frames:
            raise ConfigError(f"records {info['paths'][0]} hold {info['num_frames']} frames, "
                              f"num_frames={num_frames} was asked")
        extra = list(info["targets"]) + ([S.ALIGNED] if info["has_aligned"] else [])
        decode = S.make_decoder(info["schema"], info["prefix"], info["has_extras"],
                                targets=info["targets"], aligned=info["has_aligned"])
        with_hdr = info["has_hdr"] and ground_truth

        def parse(serialized):
            ex = decode(serialized)
            out = {"ldr": ex["ldr"], "exposures": ex["exposures"], "scene": ex["scene"]}
            out.update({k: ex[k] for k in extra})
            if with_hdr:
                out["hdr"] = ex["hdr"]
            return out

        ds = tf.data.TFRecordDataset(info["paths"]).map(parse)
        return ds.batch(1).prefetch(AUTOTUNE)

    scenes = sources.source_scenes(source, split=split, num_frames=num_frames, dataset=dataset,
                                   kind=kind)
    if not ground_truth:
        for sc in scenes:
            sc.hdr_path = None
    with_hdr = all(s.hdr_path is not None for s in scenes)

    def gen():
        for sc in scenes:
            ldr, t, hdr = sc.load()
            out = {"ldr": ldr, "exposures": t, "scene": np.bytes_(sc.name.encode())}
            if with_hdr:
                out["hdr"] = hdr
            yield out

    sig = {"ldr": tf.TensorSpec([num_frames, None, None, 3], tf.float32),
           "exposures": tf.TensorSpec([num_frames], tf.float32),
           "scene": tf.TensorSpec([], tf.string)}
    if with_hdr:
        sig["hdr"] = tf.TensorSpec([None, None, 3], tf.float32)
    return tf.data.Dataset.from_generator(gen, output_signature=sig).batch(1).prefetch(1)
