"""Scenes -> sharded TFRecords with a manifest.json (the library behind make_tfrecord.py).

Scenes mode writes one record per scene (crops are drawn on the fly by the pipeline).
Patches mode follows ESBN's protocol: every patch_size x patch_size window on a stride
grid, optionally in all 8 rotations/flips (hdrkeras.ops.dihedral), in one global random order. The order is a
uniform random permutation without holding the dataset in memory: each patch is
assigned its final position up front, workers append patches to per-shard bucket files,
then each shard is assembled (one shard in memory) and sorted by position.
"""

import concurrent.futures
import datetime
import json
import math
import os
import shutil
import time

import numpy as np
import tensorflow as tf

from hdrkeras.data import schema as S
from hdrkeras.errors import ConfigError, DataError, RecordError
from hdrkeras.io.atomic import atomic_path, atomic_write_text
from hdrkeras.ops.dihedral import NUM_TRANSFORMS, dihedral_np

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "hdrkeras-records"
MODES = ("scenes", "patches")
DEFAULT_SHARD_SIZE = {"scenes": 8, "patches": 128}


def shard_name(split, index, count):
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def read_manifest(directory):
    """manifest.json of a records folder as a dict; RecordError if missing or unreadable."""
    path = os.path.join(os.fspath(directory), MANIFEST)
    if not os.path.isfile(path):
        raise RecordError(f"records folder {directory} has no {MANIFEST}")
    try:
        with open(path) as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise RecordError(f"{path} is not a readable manifest: {e}") from None
    if m.get("format") != MANIFEST_FORMAT:
        raise RecordError(f"{path} is not an hdrkeras records manifest")
    return m


def patch_grid(height, width, patch_size, stride):
    """Top-left corners (y, x) of every full patch on the stride grid (ESBN's protocol)."""
    if height < patch_size or width < patch_size:
        return []
    ys = range(0, height - patch_size + 1, stride)
    xs = range(0, width - patch_size + 1, stride)
    return [(y, x) for y in ys for x in xs]


def _encode(schema, ldr16, exposures, hdr, scene, kind, origin=(0, 0), transform=0):
    if schema == S.SCHEMA_ESBN:
        return S.encode_esbn_example(ldr16, exposures, hdr, scene=scene)
    return S.encode_example(ldr16, exposures, hdr, scene=scene, kind=kind, origin=origin,
                            transform=transform)


def write_records(scenes, out_dir, *, split="train", mode="scenes", schema=S.SCHEMA_HDRKERAS,
                  patch_size=256, stride=64, augment=False, shuffle=None, shard_size=None,
                  workers=1, seed=0, overwrite=False, source=None, arguments=None,
                  progress=None):
    """Writes scenes as TFRecord shards + manifest.json into out_dir (one split).

    The folder is built under a temporary name and renamed into place when complete, and
    every shard is itself written atomically: an interrupted run leaves no partial output.

    Args:
      scenes: list[Scene]. Scenes to write (all with the same number of frames).
      out_dir: str. Output folder (e.g. work/records/train).
      split: str. Split name, used in shard names and the manifest.
      mode: str. "scenes" (one record per scene) or "patches" (ESBN protocol).
      schema: str. "hdrkeras" or "esbn" (ESBN's feature keys, patches of 3 frames only).
      patch_size: int. Patch side in patches mode. Defaults to 256 (ESBN).
      stride: int. Patch grid stride in patches mode. Defaults to 64 (ESBN).
      augment: bool. Patches mode: write all 8 rotations/flips of every patch.
      shuffle: bool or None. Randomise record order; None shuffles the "train" split only.
      shard_size: int or None. Records per shard (default 8 scenes or 128 patches).
      workers: int. Scenes loaded/cut in parallel (threads).
      seed: int. Seed of the shuffle.
      overwrite: bool. Replace a non-empty out_dir.
      source: str or None. Where the scenes came from (recorded in the manifest).
      arguments: dict or None. Command-line arguments (recorded in the manifest).
      progress: callable(str) or None. Receives progress lines.

    Returns:
      The manifest dict.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
    if schema not in S.SCHEMAS:
        raise ConfigError(f"schema must be one of {S.SCHEMAS}, got {schema!r}")
    if schema == S.SCHEMA_ESBN and mode != "patches":
        raise ConfigError("the ESBN schema stores patches only; use mode='patches'")
    shard_size = int(shard_size or DEFAULT_SHARD_SIZE[mode])
    if shard_size < 1 or workers < 1 or patch_size < 1 or stride < 1:
        raise ConfigError("shard_size, workers, patch_size and stride must be positive")
    if not scenes:
        raise DataError(f"no scenes to write into {out_dir}")
    out_dir = os.fspath(out_dir)
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise ConfigError(f"output folder {out_dir} is not empty; pass overwrite to replace it")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"output path {out_dir} is a file, not a folder")
    shuffle = (split == "train") if shuffle is None else bool(shuffle)
    say = progress or (lambda s: None)
    rng = np.random.default_rng(seed)
    if schema == S.SCHEMA_ESBN and any(s.hdr_path is None for s in scenes):
        raise DataError("the ESBN schema needs ground truth HDR for every scene")

    t0 = time.time()
    with atomic_path(out_dir) as tmp:
        os.makedirs(tmp)
        if mode == "scenes":
            shards, info = _write_scene_records(scenes, tmp, split, schema, shard_size, workers,
                                                rng if shuffle else None, say)
        else:
            shards, info = _write_patch_records(scenes, tmp, split, schema, patch_size, stride,
                                                augment, shard_size, workers,
                                                rng if shuffle else None, say)
        manifest = _manifest(
            schema=schema, kind=S.KIND_IMAGE_SCENE if mode == "scenes" else S.KIND_IMAGE_PATCH,
            split=split, mode=mode, shards=shards, scenes=[s.name for s in scenes], info=info,
            patch_size=patch_size if mode == "patches" else None,
            stride=stride if mode == "patches" else None,
            augment=bool(augment) if mode == "patches" else False, shuffled=shuffle, seed=seed,
            source=source, arguments=arguments, started=t0)
        atomic_write_text(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=2) + "\n")
    say(f"[{split}] {manifest['num_records']} records in {len(shards)} shards -> {out_dir} "
        f"({manifest['seconds']:.1f} s)")
    return manifest


def write_example_records(examples, out_dir, *, split="train", shard_size=8, overwrite=False,
                          source=None, arguments=None, progress=None):
    """Writes whole-scene records built in memory (e.g. with training targets) + manifest.

    Same folder contract as `write_records` (atomic folder, atomic shards, manifest), for
    producers that compute what they store instead of reading scene files.

    Args:
      examples: iterable of dicts {"scene": str, "ldr" [N,H,W,3], "exposures" [N],
        optional "hdr" [H,W,3], "targets" {name: [H,W,3]}, "ldr_aligned" [N,H,W,3]},
        consumed one at a time (at most one shard is held in memory).
      out_dir, split, shard_size, overwrite, source, arguments, progress: as `write_records`.

    Returns:
      The manifest dict (its "targets" lists the target names).
    """
    out_dir = os.fspath(out_dir)
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise ConfigError(f"output folder {out_dir} is not empty; pass overwrite to replace it")
    say = progress or (lambda s: None)
    t0 = time.time()
    info, names, targets = _Info(), [], None
    shards, pending, index = [], [], 0
    with atomic_path(out_dir) as tmp:
        os.makedirs(tmp)
        for ex in examples:
            scene = _Named(ex["scene"])
            ldr = S.quantize_ldr(ex["ldr"])
            info.add(scene, ldr.shape, ex.get("hdr") is not None)
            these = tuple(ex.get("targets") or ())
            if targets is not None and these != targets:
                raise DataError(f"scene {scene.name}: targets {these}, earlier scenes {targets}")
            targets = these
            pending.append(S.encode_example(ldr, ex["exposures"], ex.get("hdr"), scene=scene.name,
                                            targets=ex.get("targets"),
                                            ldr_aligned=ex.get("ldr_aligned")))
            names.append(scene.name)
            say(f"[{split}] scene {len(names)} {scene.name} ({ldr.shape[2]}x{ldr.shape[1]})")
            if len(pending) == shard_size:
                shards.append(_write_shard(os.path.join(tmp, f"{split}-{index:05d}.tfrecord"),
                                           pending))
                pending, index = [], index + 1
        if pending:
            shards.append(_write_shard(os.path.join(tmp, f"{split}-{index:05d}.tfrecord"), pending))
        if not names:
            raise DataError(f"no scenes to write into {out_dir}")
        manifest = _manifest(
            schema=S.SCHEMA_HDRKERAS, kind=S.KIND_IMAGE_SCENE, split=split, mode="scenes",
            shards=shards, scenes=names, info=info.as_dict(), targets=list(targets or ()),
            source=source, arguments=arguments, started=t0)
        atomic_write_text(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=2) + "\n")
    say(f"[{split}] {len(names)} records in {len(shards)} shards -> {out_dir}")
    return manifest


def _manifest(*, schema, kind, split, mode, shards, scenes, info, source, arguments, started,
              targets=None, patch_size=None, stride=None, augment=False, shuffled=False,
              seed=None):
    """The manifest.json dict of a records folder (one layout for every writer)."""
    m = {
        "format": MANIFEST_FORMAT,
        "schema": schema,
        "schema_version": S.SCHEMA_VERSION,
        "kind": kind,
        "ldr_encoding": "raw_uint16_le",
        "split": split,
        "mode": mode,
        "num_records": int(sum(s["records"] for s in shards)),
        "num_scenes": len(scenes),
        **info,
    }
    if targets is not None:
        m["targets"] = list(targets)
    m.update({
        "patch_size": patch_size, "stride": stride, "augment": augment, "shuffled": shuffled,
        "seed": seed, "shards": shards, "scenes": list(scenes),
        "source": None if source is None else str(source),
        "arguments": arguments or {},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
    })
    return m


class _Named:
    """The scene-like object `_Info.add` names in its errors."""

    def __init__(self, name):
        self.name = str(name)


def _load(scene):
    ldr, t, hdr = scene.load()
    return S.quantize_ldr(ldr), t, hdr


def _write_shard(path, payloads):
    with atomic_path(path) as tmp:
        with tf.io.TFRecordWriter(tmp) as w:
            for p in payloads:
                w.write(p)
    return {"file": os.path.basename(path), "records": len(payloads),
            "bytes": os.path.getsize(path)}


class _Info:
    def __init__(self):
        self.num_frames, self.has_hdr = None, True
        self.min_height = self.min_width = None

    def add(self, scene, shape, has_hdr):
        n, h, w = (int(v) for v in shape[:3])
        if self.num_frames is not None and n != self.num_frames:
            raise DataError(f"scene {scene.name}: {n} frames, the other scenes have "
                            f"{self.num_frames}")
        self.num_frames = n
        self.has_hdr = self.has_hdr and has_hdr
        self.min_height = h if self.min_height is None else min(self.min_height, h)
        self.min_width = w if self.min_width is None else min(self.min_width, w)

    def as_dict(self):
        return {"num_frames": self.num_frames, "has_hdr": self.has_hdr,
                "min_height": int(self.min_height), "min_width": int(self.min_width)}


def _write_scene_records(scenes, tmp, split, schema, shard_size, workers, rng, say):
    order = list(range(len(scenes)))
    if rng is not None:
        order = [int(i) for i in rng.permutation(len(scenes))]
    count = math.ceil(len(order) / shard_size)
    info = _Info()
    shards, pending = [], []

    def encode(i):
        sc = scenes[i]
        ldr, t, hdr = _load(sc)
        return sc, ldr.shape, hdr is not None, _encode(schema, ldr, t, hdr, sc.name,
                                                       S.KIND_IMAGE_SCENE)

    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        # Bounded look-ahead keeps at most ~2 * workers decoded scenes in memory.
        futures, nxt, done = [], 0, 0
        while done < len(order):
            while nxt < len(order) and len(futures) < 2 * workers:
                futures.append(ex.submit(encode, order[nxt]))
                nxt += 1
            sc, shape, has_hdr, payload = futures.pop(0).result()
            info.add(sc, shape, has_hdr)
            pending.append(payload)
            done += 1
            say(f"[{split}] scene {done}/{len(order)} {sc.name} "
                f"({shape[2]}x{shape[1]}, {shape[0]} frames)")
            if len(pending) == shard_size or done == len(order):
                name = shard_name(split, len(shards), count)
                shards.append(_write_shard(os.path.join(tmp, name), pending))
                pending = []
                say(f"[{split}] shard {len(shards)}/{count} written: {name}")
    return shards, info.as_dict()


def _write_patch_records(scenes, tmp, split, schema, patch_size, stride, augment, shard_size,
                         workers, rng, say):
    transforms = list(range(NUM_TRANSFORMS)) if augment else [0]
    grids = []
    for sc in scenes:
        h, w = sc.frame_size()
        grid = patch_grid(h, w, patch_size, stride)
        if not grid:
            raise DataError(f"scene {sc.name}: {w}x{h} is smaller than the patch size {patch_size}")
        grids.append(grid)
    counts = [len(g) * len(transforms) for g in grids]
    total = int(sum(counts))
    positions = rng.permutation(total) if rng is not None else np.arange(total)
    starts = np.concatenate([[0], np.cumsum(counts)])
    count = math.ceil(total / shard_size)
    bucket_dir = os.path.join(tmp, ".buckets")
    os.makedirs(bucket_dir)
    say(f"[{split}] {total} patches of {patch_size}x{patch_size} (stride {stride}, "
        f"{len(transforms)} transforms) from {len(scenes)} scenes -> {count} shards")

    def cut(i):
        sc = scenes[i]
        ldr, t, hdr = _load(sc)
        if (ldr.shape[1], ldr.shape[2]) != sc.frame_size():
            raise DataError(f"scene {sc.name}: frame header size differs from decoded size")
        pos = positions[starts[i]:starts[i + 1]]
        writers, written = {}, {}
        try:
            k = 0
            for (y, x) in grids[i]:
                lp = ldr[:, y:y + patch_size, x:x + patch_size]
                hp = None if hdr is None else hdr[y:y + patch_size, x:x + patch_size]
                for d in transforms:
                    p = int(pos[k])
                    k += 1
                    shard = p // shard_size
                    if shard not in writers:
                        writers[shard] = tf.io.TFRecordWriter(
                            os.path.join(bucket_dir, f"{shard:05d}_{i:05d}.tfrecord"))
                        written[shard] = []
                    lpd = dihedral_np(lp, d)
                    hpd = None if hp is None else dihedral_np(hp, d, axes=(0, 1))
                    writers[shard].write(_encode(schema, lpd, t, hpd, sc.name, S.KIND_IMAGE_PATCH,
                                                 origin=(y, x), transform=d))
                    written[shard].append(p)
        finally:
            for w in writers.values():
                w.close()
        return i, ldr.shape, hdr is not None, written

    info = _Info()
    buckets = {}  # shard -> list of (bucket file, positions)
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for n, (i, shape, has_hdr, written) in enumerate(ex.map(cut, range(len(scenes))), 1):
            sc = scenes[i]
            info.add(sc, shape, has_hdr)
            for shard, pos in written.items():
                buckets.setdefault(shard, []).append(
                    (os.path.join(bucket_dir, f"{shard:05d}_{i:05d}.tfrecord"), pos))
            say(f"[{split}] scene {n}/{len(scenes)} {sc.name}: {counts[i]} patches")
    shards = []
    for shard in range(count):
        items = []
        for path, pos in buckets.get(shard, []):
            for p, rec in zip(pos, tf.data.TFRecordDataset(path).as_numpy_iterator()):
                items.append((p, rec))
            os.unlink(path)
        items.sort(key=lambda it: it[0])
        name = shard_name(split, shard, count)
        shards.append(_write_shard(os.path.join(tmp, name), [rec for _, rec in items]))
        say(f"[{split}] shard {shard + 1}/{count} written: {name} ({len(items)} patches)")
    shutil.rmtree(bucket_dir)
    return shards, info.as_dict()


# ----------------------------------------------------------------------------- video clips

# Clip defaults. 8 frames cover LAN-HDR's training examples (2 exposures: 6 of a 7-frame
# septuplet, 3 exposures: 8) and DeAltHDR's 5-frame window; a stride of 4 puts every window of up to
# 5 consecutive frames (DeAltHDR) whole inside some clip, and with 3 exposures lets clip
# starts cycle through the exposure phases. Frames larger than 512x512 are cut into tiles
# of at most 512x512, so a 1080p clip is ~8 records of ~38 MB, never one of ~300 MB.
DEFAULT_CLIP_LENGTH = 8
DEFAULT_CLIP_STRIDE = 4
DEFAULT_MAX_TILE = 512
DEFAULT_VIDEO_SHARD_SIZE = 16


def clip_starts(num_frames, length, stride):
    """Start frames of the clips of a sequence: every `stride` frames, plus a last clip
    ending on the last frame so every frame is covered. [] when the sequence is shorter."""
    if num_frames < length:
        return []
    starts = list(range(0, num_frames - length + 1, stride))
    if starts[-1] != num_frames - length:
        starts.append(num_frames - length)
    return starts


def tile_grid(height, width, max_tile):
    """Top-left corners and size (y, x, th, tw) of the tiles covering a frame: the frame
    itself when it fits in max_tile, else a grid of equal tiles, the last row/column
    aligned to the frame's edge (neighbouring tiles may overlap)."""
    def axis(size):
        if size <= max_tile:
            return [0], size
        count = math.ceil(size / max_tile)
        return [round(i * (size - max_tile) / (count - 1)) for i in range(count)], max_tile
    ys, th = axis(height)
    xs, tw = axis(width)
    return [(y, x, th, tw) for y in ys for x in xs]


def write_video_records(sequences, out_dir, *, split="train", clip_length=DEFAULT_CLIP_LENGTH,
                        stride=DEFAULT_CLIP_STRIDE, max_tile=DEFAULT_MAX_TILE, shuffle=None,
                        shard_size=None, seed=0, overwrite=False, source=None, arguments=None,
                        progress=None):
    """Writes video sequences as fixed-length clip records + manifest.json into out_dir.

    Same folder contract as `write_records` (atomic folder, atomic shards, manifest with
    kind "video_clip"). Each record is `clip_length` consecutive frames (one tile of them
    for frames larger than `max_tile`), with per-frame exposures, ground truth and
    validity, the sequence id and the start frame (schema.encode_video_clip).

    Args:
      sequences: list[VideoSequence].
      out_dir, split, shuffle, seed, overwrite, source, arguments, progress: as
        `write_records`.
      clip_length: int. Frames per clip. Defaults to 8 (see DEFAULT_CLIP_LENGTH).
      stride: int. Frames between clip starts. Defaults to 4.
      max_tile: int. Largest tile side; larger frames are tiled. Defaults to 512.
      shard_size: int or None. Records per shard. Defaults to 16.

    Returns:
      The manifest dict. A sequence shorter than `clip_length` is a DataError.
    """
    for name, value in (("clip_length", clip_length), ("stride", stride),
                        ("max_tile", max_tile)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    shard_size = int(shard_size or DEFAULT_VIDEO_SHARD_SIZE)
    if shard_size < 1:
        raise ConfigError(f"shard_size must be positive, got {shard_size}")
    if not sequences:
        raise DataError(f"no sequences to write into {out_dir}")
    out_dir = os.fspath(out_dir)
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise ConfigError(f"output folder {out_dir} is not empty; pass overwrite to replace it")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"output path {out_dir} is a file, not a folder")
    shuffle = (split == "train") if shuffle is None else bool(shuffle)
    say = progress or (lambda s: None)
    names = [s.name for s in sequences]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"sequence ids must be unique within a records folder; repeated: {dup}")

    jobs, shape = [], {}  # jobs: (sequence index, start, tile)
    for i, seq in enumerate(sequences):
        starts = clip_starts(len(seq), clip_length, stride)
        if not starts:
            raise DataError(f"sequence {seq.name}: {len(seq)} frames, shorter than the "
                            f"{clip_length}-frame clip (pass a shorter clip length)")
        h, w = shape[i] = tuple(seq.check_files())
        jobs += [(i, st, tile) for st in starts for tile in tile_grid(h, w, max_tile)]
    # Clips are cut in sequence order (each frame decoded once for all clips and tiles that
    # hold it); shuffling assigns every clip its final position up front, parks it in a
    # one-record bucket file and assembles each shard from its buckets in position order.
    positions = np.arange(len(jobs))
    if shuffle:
        positions = np.random.default_rng(seed).permutation(len(jobs))
    count = math.ceil(len(jobs) / shard_size)

    cache = {}  # (sequence, frame) -> (ldr16, hdr or None); frames of the current clip

    def frames(i, start):
        seq = sequences[i]
        want = {(i, j) for j in range(start, start + clip_length)}
        for key in [k for k in cache if k not in want]:
            del cache[key]
        out = []
        for key in sorted(want, key=lambda k: k[1]):
            if key not in cache:
                j = key[1]
                ldr = seq.ldr(j)
                hdr = seq.hdr(j)
                for what, img in (("frame", ldr), ("ground truth", hdr)):
                    if img is not None and img.shape[:2] != shape[i]:
                        raise DataError(f"sequence {seq.name}: {what} {j} decodes to "
                                        f"{img.shape[1]}x{img.shape[0]}, its header said "
                                        f"{shape[i][1]}x{shape[i][0]}")
                cache[key] = (S.quantize_ldr(ldr), hdr)
            out.append(cache[key])
        return out

    t0 = time.time()
    info = _Info()
    valid_frames = total_frames = 0
    with atomic_path(out_dir) as tmp:
        os.makedirs(tmp)
        bucket_dir = os.path.join(tmp, ".buckets")
        if shuffle:
            os.makedirs(bucket_dir)
        shards, pending = [], []
        for done, (i, start, (y, x, th, tw)) in enumerate(jobs, 1):
            seq = sequences[i]
            clip = frames(i, start)
            valid = np.array([c[1] is not None for c in clip])
            ldr = np.stack([c[0][y:y + th, x:x + tw] for c in clip])
            hdr = None
            if valid.any():
                hdr = np.stack([np.zeros((th, tw, 3), np.float32) if c[1] is None
                                else c[1][y:y + th, x:x + tw] for c in clip])
            t = seq.exposures[start:start + clip_length]
            info.add(_Named(seq.name), ldr.shape, bool(valid.all()))
            valid_frames += int(valid.sum())
            total_frames += clip_length
            payload = S.encode_video_clip(ldr, t, hdr, valid, sequence=seq.name,
                                          start_frame=start, sequence_length=len(seq),
                                          origin=(y, x))
            say(f"[{split}] clip {done}/{len(jobs)} {seq.name} frames {start}-"
                f"{start + clip_length - 1} tile ({y},{x}) {tw}x{th}")
            if shuffle:
                _write_shard(os.path.join(bucket_dir, f"{positions[done - 1]:09d}.tfrecord"),
                             [payload])
                continue
            pending.append(payload)
            if len(pending) == shard_size or done == len(jobs):
                name = shard_name(split, len(shards), count)
                shards.append(_write_shard(os.path.join(tmp, name), pending))
                pending = []
        if shuffle:
            for index in range(count):
                name = shard_name(split, index, count)
                parts = [os.path.join(bucket_dir, f"{p:09d}.tfrecord") for p in
                         range(index * shard_size, min((index + 1) * shard_size, len(jobs)))]
                path = os.path.join(tmp, name)
                with atomic_path(path) as part:
                    with tf.io.TFRecordWriter(part) as w:
                        for b in parts:  # one record in memory at a time
                            for rec in tf.data.TFRecordDataset(b).as_numpy_iterator():
                                w.write(rec)
                            os.unlink(b)
                shards.append({"file": name, "records": len(parts),
                               "bytes": os.path.getsize(path)})
            shutil.rmtree(bucket_dir)
        manifest = _manifest(
            schema=S.SCHEMA_HDRKERAS, kind=S.KIND_VIDEO_CLIP, split=split, mode="clips",
            shards=shards, scenes=names, info=info.as_dict(), shuffled=shuffle, seed=seed,
            source=source, arguments=arguments, started=t0)
        manifest.update({"clip_length": int(clip_length), "clip_stride": int(stride),
                         "max_tile": int(max_tile),
                         "valid_fraction": round(valid_frames / max(total_frames, 1), 6),
                         "exposure_levels": sorted({round(float(v), 4) for s in sequences
                                                    for v in s.levels})})
        atomic_write_text(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=2) + "\n")
    say(f"[{split}] {manifest['num_records']} clips in {len(shards)} shards -> {out_dir} "
        f"({manifest['seconds']:.1f} s)")
    return manifest
