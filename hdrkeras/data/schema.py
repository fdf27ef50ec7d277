"""The TFRecord schema: record keys, and the encoding and decoding of every record kind,
here and nowhere else. (The file framing, CRCs and scanning are hdrkeras.data.tfrecord;
whole-file reading and the crop decoder are hdrkeras.data.pipeline.)

Two schemas are read; both decode to the same dict
  {"ldr": float32 [N,H,W,3] gamma LDR in [0,1] (frames in increasing exposure),
   "exposures": float32 [N] relative exposure times (shortest = 1),
   "hdr": float32 [H,W,3] linear HDR aligned to the reference frame (zeros if absent),
   "has_hdr": bool scalar, "scene": string scalar}.

hdrkeras schema (written by default, versioned by SCHEMA_VERSION):
  LDR frames are stored losslessly as ONE raw little-endian uint16 blob [N,H,W,3]
  (full scale 65535). Raw decodes ~7x faster than 16-bit PNG in tf.data and PNG only
  saves ~20% on real (noisy) 16-bit photos. GT HDR is raw little-endian float32 [H,W,3].
  Optional (absent in records that do not need them): training targets that stand in
  for GT (SelfHDR's Y_color, Y_stru) as ONE raw float32 blob [K,H,W,3] named by
  `hdrkeras/target_names` (names from TARGET_NAMES), and the frames registered to the
  reference as a raw uint16 blob [N,H,W,3]. They decode to extra dict entries: one
  [H,W,3] per target name and "ldr_aligned" [N,H,W,3].

Video clips (kind "video_clip", schema version 2): T consecutive frames of one sequence
  (T fixed per records folder), optionally one spatial tile of them. "ldr" [T,H,W,3] and
  "exposures" [T] as above (temporal order, exposures may alternate); per-frame ground
  truth as ONE raw float32 blob [T,H,W,3] under the same `hdrkeras/hdr` key (zeros for
  frames without it), `hdrkeras/valid` [T] (1 where the frame has ground truth), the
  sequence id in `hdrkeras/scene`, `hdrkeras/start_frame` (index of the clip's first
  frame in the sequence), `hdrkeras/sequence_length`, and `hdrkeras/origin` (top-left of
  the tile). They decode (`decode_video_clip`) to {"ldr", "exposures", "hdr" [T,H,W,3],
  "valid" bool [T], "has_hdr" (any valid), "scene", "start_frame", "sequence_length",
  "origin" [2]}. Version-1 records (image kinds) read unchanged.

Extending: a new record kind gets its KIND_ constant, the schema version that introduced
it in KIND_VERSIONS (readers refuse kinds and versions they do not know, by name), and its
keys as KEY_ constants below; SCHEMA_VERSION is the highest version this code writes.

ESBN schema (tkd1088/ESBN make_tfrecord.py): keys `<prefix>input_LDR_{low,mid,high}`
  (raw uint8 [256,256,3] RGB in the original, `/127.5 - 1` at training),
  `<prefix>input_HDR_{low,mid,high}` (raw float32 = LDR**2.2 / 2**ev, `*2 - 1` at
  training), `<prefix>gt_LDR_{low,high}` (raw uint8 = (clip(gt*t,0,1))**(1/2.2)),
  `<prefix>gt_HDR` (raw float32 linear). prefix "train/" (alignment stages) or "merge/"
  (fusion stage, no gt_LDR keys). We write the same keys but keep 16 bits: the LDR blobs
  are raw uint16 (the reader tells the depth from the blob length), plus extra keys
  `<prefix>exposures`, `<prefix>height`, `<prefix>width`, `<prefix>scene` that the
  original parser ignores. Original records carry no exposures: the reader estimates them
  as sum(LDR**2.2) / sum(input_HDR) per frame (approximate, see docs/datasets.md).
"""

import numpy as np
import tensorflow as tf

from hdrkeras.errors import RecordError

SCHEMA_VERSION = 2

# Record kinds, each with the schema version that introduced it.
KIND_IMAGE_SCENE = "image_scene"   # one whole exposure stack
KIND_IMAGE_PATCH = "image_patch"   # one patch of a stack (ESBN's protocol)
KIND_VIDEO_CLIP = "video_clip"     # consecutive frames of a video (a tile of them)
KIND_VERSIONS = {KIND_IMAGE_SCENE: 1, KIND_IMAGE_PATCH: 1, KIND_VIDEO_CLIP: 2}
IMAGE_KINDS = (KIND_IMAGE_SCENE, KIND_IMAGE_PATCH)
KINDS = tuple(KIND_VERSIONS)

SCHEMA_HDRKERAS = "hdrkeras"
SCHEMA_ESBN = "esbn"
SCHEMAS = (SCHEMA_HDRKERAS, SCHEMA_ESBN)

LDR_FULL_SCALE = 65535.0

# Training targets that stand in for ground truth (SelfHDR), and the aligned frames.
Y_COLOR = "y_color"     # SelfHDR's colour component (flow alignment + triangle merge)
Y_STRU = "y_stru"       # SelfHDR's structure component (its stage-1 network's output)
TARGET_NAMES = (Y_COLOR, Y_STRU)
ALIGNED = "ldr_aligned"

# hdrkeras feature keys (version 1).
KEY_VERSION = "hdrkeras/version"
KEY_KIND = "hdrkeras/kind"
KEY_SCENE = "hdrkeras/scene"
KEY_HEIGHT = "hdrkeras/height"
KEY_WIDTH = "hdrkeras/width"
KEY_NUM_FRAMES = "hdrkeras/num_frames"
KEY_LDR = "hdrkeras/ldr"                # raw uint16 LE [N,H,W,3]
KEY_EXPOSURES = "hdrkeras/exposures"    # float list [N]
KEY_HDR = "hdrkeras/hdr"                # raw float32 LE [H,W,3]; b"" when has_hdr == 0
KEY_HAS_HDR = "hdrkeras/has_hdr"
KEY_REFERENCE = "hdrkeras/reference"    # frame index the GT is aligned to
KEY_ORIGIN = "hdrkeras/origin"          # patches: [y, x] in the source scene
KEY_TRANSFORM = "hdrkeras/transform"    # patches: hdrkeras.ops.dihedral transform 0..7
KEY_TARGET_NAMES = "hdrkeras/target_names"  # bytes list [K], names from TARGET_NAMES
KEY_TARGETS = "hdrkeras/targets"        # raw float32 LE [K,H,W,3]
KEY_LDR_ALIGNED = "hdrkeras/ldr_aligned"  # raw uint16 LE [N,H,W,3], frames on the reference grid
# version 2, video clips (KEY_HDR then holds [T,H,W,3], KEY_ORIGIN the tile's corner)
KEY_VALID = "hdrkeras/valid"            # int list [T]: 1 where the frame has ground truth
KEY_START_FRAME = "hdrkeras/start_frame"  # index of the clip's first frame in its sequence
KEY_SEQUENCE_LENGTH = "hdrkeras/sequence_length"  # frames in the whole sequence

# ESBN feature keys (suffixes after the "train/" or "merge/" prefix).
ESBN_PREFIXES = ("train/", "merge/")
ESBN_FRAMES = ("low", "mid", "high")
ESBN_INPUT_LDR = "input_LDR_"
ESBN_INPUT_HDR = "input_HDR_"
ESBN_GT_LDR = "gt_LDR_"
ESBN_GT_HDR = "gt_HDR"
ESBN_EXTRA_EXPOSURES = "exposures"
ESBN_EXTRA_HEIGHT = "height"
ESBN_EXTRA_WIDTH = "width"
ESBN_EXTRA_SCENE = "scene"
ESBN_GAMMA = 2.2


def esbn_required_keys(prefix):
    keys = [prefix + ESBN_INPUT_LDR + f for f in ESBN_FRAMES]
    keys += [prefix + ESBN_INPUT_HDR + f for f in ESBN_FRAMES]
    keys.append(prefix + ESBN_GT_HDR)
    if prefix == "train/":
        keys += [prefix + ESBN_GT_LDR + "low", prefix + ESBN_GT_LDR + "high"]
    return keys


# ----------------------------------------------------------------------------- encode

def _bytes(v):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))


def _ints(v):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=list(v)))


def _floats(v):
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(v)))


def quantize_ldr(ldr):
    """gamma LDR float in [0,1] (or already uint16) -> uint16, exact for 8/16-bit sources."""
    ldr = np.asarray(ldr)
    if ldr.dtype == np.uint16:
        return ldr
    if ldr.dtype == np.uint8:
        return ldr.astype(np.uint16) * 257
    return np.round(np.clip(ldr, 0.0, 1.0) * LDR_FULL_SCALE).astype(np.uint16)


def _le(a, dtype):
    return np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def _frames_features(kind, name, h, w, n, ldr16, exposures, hdr_blob, has_hdr):
    """The features every record kind shares: version, kind, name, size, frames, ground
    truth."""
    return {
        KEY_VERSION: _ints([KIND_VERSIONS[kind]]),
        KEY_KIND: _bytes(kind.encode()),
        KEY_SCENE: _bytes(str(name).encode()),
        KEY_HEIGHT: _ints([h]),
        KEY_WIDTH: _ints([w]),
        KEY_NUM_FRAMES: _ints([n]),
        KEY_LDR: _bytes(_le(ldr16, np.uint16)),
        KEY_EXPOSURES: _floats(exposures),
        KEY_HDR: _bytes(hdr_blob),
        KEY_HAS_HDR: _ints([int(has_hdr)]),
    }


def encode_example(ldr, exposures, hdr=None, *, scene="", kind=KIND_IMAGE_SCENE,
                   reference=None, origin=(0, 0), transform=0, targets=None, ldr_aligned=None):
    """One record of the hdrkeras schema -> serialized tf.train.Example bytes.

    Args:
      ldr: [N,H,W,3] gamma LDR, float in [0,1] (quantized to 16 bits) or uint8/uint16.
      exposures: [N] relative exposure times, shortest = 1.
      hdr: [H,W,3] linear HDR float32 or None (GT-free data).
      scene: scene (or sequence) name.
      kind: one of KINDS.
      reference: frame the GT aligns to; defaults to N // 2.
      targets: optional dict name (from TARGET_NAMES) -> [H,W,3] float32 training targets.
      ldr_aligned: optional [N,H,W,3] frames registered to the reference (like ldr).
    """
    if kind not in IMAGE_KINDS:
        raise ValueError(f"kind must be one of {IMAGE_KINDS} (video clips: encode_video_clip), "
                         f"got {kind!r}")
    ldr16 = quantize_ldr(ldr)
    if ldr16.ndim != 4 or ldr16.shape[-1] != 3:
        raise ValueError(f"ldr must be [N,H,W,3], got shape {ldr16.shape}")
    n, h, w, _ = ldr16.shape
    exposures = np.asarray(exposures, np.float32).reshape(-1)
    if exposures.shape[0] != n:
        raise ValueError(f"{n} frames but {exposures.shape[0]} exposures")
    if hdr is not None:
        hdr = np.asarray(hdr, np.float32)
        if hdr.shape != (h, w, 3):
            raise ValueError(f"hdr must be [{h},{w},3], got {hdr.shape}")
    feature = {
        **_frames_features(kind, scene, h, w, n, ldr16, exposures,
                           b"" if hdr is None else _le(hdr, np.float32), hdr is not None),
        KEY_REFERENCE: _ints([n // 2 if reference is None else int(reference)]),
        KEY_ORIGIN: _ints([int(origin[0]), int(origin[1])]),
        KEY_TRANSFORM: _ints([int(transform)]),
    }
    if targets:
        names = list(targets)
        unknown = [k for k in names if k not in TARGET_NAMES]
        if unknown:
            raise ValueError(f"unknown training targets {unknown}; the schema knows {TARGET_NAMES}")
        planes = np.stack([np.asarray(targets[k], np.float32) for k in names])
        if planes.shape[1:] != (h, w, 3):
            raise ValueError(f"targets must be [{h},{w},3] each, got {planes.shape[1:]}")
        feature[KEY_TARGET_NAMES] = tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[k.encode() for k in names]))
        feature[KEY_TARGETS] = _bytes(_le(planes, np.float32))
    if ldr_aligned is not None:
        aligned16 = quantize_ldr(ldr_aligned)
        if aligned16.shape != ldr16.shape:
            raise ValueError(f"ldr_aligned must be {ldr16.shape}, got {aligned16.shape}")
        feature[KEY_LDR_ALIGNED] = _bytes(_le(aligned16, np.uint16))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def encode_video_clip(ldr, exposures, hdr=None, valid=None, *, sequence="", start_frame=0,
                      sequence_length=None, origin=(0, 0)):
    """One video clip record (schema version 2) -> serialized tf.train.Example bytes.

    Args:
      ldr: [T,H,W,3] gamma LDR in temporal order, float in [0,1] or uint8/uint16.
      exposures: [T] relative exposure times of the frames (may alternate).
      hdr: [T,H,W,3] linear per-frame ground truth (each in its frame's coordinates), or
        None when no frame has any. Entries of frames that are not `valid` are ignored.
      valid: [T] bool, frames that have ground truth; defaults to all when hdr is given.
      sequence: sequence id; start_frame: index of frame 0 of the clip in the sequence;
      sequence_length: frames of the whole sequence (defaults to start_frame + T);
      origin: (y, x) of the tile in the full frame.
    """
    ldr16 = quantize_ldr(ldr)
    if ldr16.ndim != 4 or ldr16.shape[-1] != 3:
        raise ValueError(f"ldr must be [T,H,W,3], got shape {ldr16.shape}")
    t, h, w, _ = ldr16.shape
    exposures = np.asarray(exposures, np.float32).reshape(-1)
    if exposures.shape[0] != t:
        raise ValueError(f"{t} frames but {exposures.shape[0]} exposures")
    if valid is None:
        valid = np.full([t], hdr is not None)
    valid = np.asarray(valid, bool).reshape(-1)
    if valid.shape[0] != t:
        raise ValueError(f"{t} frames but {valid.shape[0]} validity flags")
    if valid.any():
        if hdr is None:
            raise ValueError("valid frames need hdr")
        hdr = np.asarray(hdr, np.float32)
        if hdr.shape != (t, h, w, 3):
            raise ValueError(f"hdr must be [{t},{h},{w},3], got {hdr.shape}")
        hdr = np.where(valid[:, None, None, None], hdr, np.float32(0))
        blob = _le(hdr, np.float32)
    else:
        blob = b""
    length = start_frame + t if sequence_length is None else int(sequence_length)
    feature = {
        **_frames_features(KIND_VIDEO_CLIP, sequence, h, w, t, ldr16, exposures, blob,
                           bool(valid.any())),
        KEY_VALID: _ints(valid.astype(np.int64)),
        KEY_START_FRAME: _ints([int(start_frame)]),
        KEY_SEQUENCE_LENGTH: _ints([length]),
        KEY_ORIGIN: _ints([int(origin[0]), int(origin[1])]),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def encode_esbn_example(ldr, exposures, hdr, *, scene="", prefix="train/"):
    """One ESBN-keyed record (3 frames) keeping 16-bit LDR -> serialized bytes.

    Same derived quantities as ESBN's make_tfrecord.py, from the 16-bit frames:
    input_HDR_i = LDR_i**2.2 / t_i, gt_LDR_i = clip(gt*t_i, 0, 1)**(1/2.2) (16-bit).
    Without ESBN's 8-bit truncation and its 256->250->256 resize (see docs/datasets.md).
    """
    if prefix not in ESBN_PREFIXES:
        raise ValueError(f"prefix must be one of {ESBN_PREFIXES}, got {prefix!r}")
    ldr16 = quantize_ldr(ldr)
    if ldr16.ndim != 4 or ldr16.shape[0] != 3:
        raise ValueError(f"the ESBN schema needs exactly 3 frames, got ldr shape {ldr16.shape}")
    if hdr is None:
        raise ValueError("the ESBN schema needs ground truth HDR")
    _, h, w, _ = ldr16.shape
    t = np.asarray(exposures, np.float64).reshape(-1)
    hdr = np.asarray(hdr, np.float32)
    ldr_f = ldr16.astype(np.float64) / LDR_FULL_SCALE
    feature = {}
    for i, f in enumerate(ESBN_FRAMES):
        feature[prefix + ESBN_INPUT_LDR + f] = _bytes(_le(ldr16[i], np.uint16))
        in_hdr = (ldr_f[i] ** ESBN_GAMMA / t[i]).astype(np.float32)
        feature[prefix + ESBN_INPUT_HDR + f] = _bytes(_le(in_hdr, np.float32))
    if prefix == "train/":
        for i, f in ((0, "low"), (2, "high")):
            g = np.clip(hdr.astype(np.float64) * t[i], 0.0, 1.0) ** (1.0 / ESBN_GAMMA)
            feature[prefix + ESBN_GT_LDR + f] = _bytes(_le(quantize_ldr(g), np.uint16))
    feature[prefix + ESBN_GT_HDR] = _bytes(_le(hdr, np.float32))
    feature[prefix + ESBN_EXTRA_EXPOSURES] = _floats(t.astype(np.float32))
    feature[prefix + ESBN_EXTRA_HEIGHT] = _ints([h])
    feature[prefix + ESBN_EXTRA_WIDTH] = _ints([w])
    feature[prefix + ESBN_EXTRA_SCENE] = _bytes(str(scene).encode())
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


# ----------------------------------------------------------------------------- detect

def detect_schema(path, payload=None):
    """Tells which schema wrote a record file from the keys of its first record.

    payload: the first record's bytes when the caller already has them (see
    hdrkeras.data.tfrecord.scan_records); otherwise they are read from `path`.
    Returns (schema, prefix, info) where schema is "hdrkeras" or "esbn", prefix is the ESBN
    key prefix ("" for hdrkeras) and info a dict (kind, version, has_hdr, num_frames,
    targets, has_aligned / has_extras).
    Raises RecordError for foreign, unparsable, newer-version or unknown-kind records.
    """
    if payload is None:
        from hdrkeras.data.tfrecord import scan_records
        _, payload = scan_records(path, first_payload=True)
    try:
        ex = tf.train.Example.FromString(payload)
    except Exception:  # protobuf's DecodeError
        raise RecordError(f"record file {path}: first record is not a tf.train.Example") from None
    feats = ex.features.feature
    keys = set(feats.keys())
    if KEY_VERSION in keys:
        version = feats[KEY_VERSION].int64_list.value[0]
        if version > SCHEMA_VERSION:
            raise RecordError(f"record file {path} was written with hdrkeras schema version "
                              f"{version}; this hdrkeras reads up to {SCHEMA_VERSION}")
        kind = feats[KEY_KIND].bytes_list.value[0].decode()
        if kind not in KIND_VERSIONS:
            raise RecordError(f"record file {path} holds {kind!r} records, which this hdrkeras "
                              f"does not know (it reads {', '.join(KINDS)})")
        if version < KIND_VERSIONS[kind]:
            raise RecordError(f"record file {path} holds {kind!r} records marked schema version "
                              f"{version}; that kind exists from version {KIND_VERSIONS[kind]}")
        targets = tuple(v.decode() for v in feats[KEY_TARGET_NAMES].bytes_list.value) \
            if KEY_TARGET_NAMES in keys else ()
        return SCHEMA_HDRKERAS, "", {"kind": kind, "version": int(version),
                                     "has_hdr": bool(feats[KEY_HAS_HDR].int64_list.value[0]),
                                     "num_frames": int(feats[KEY_NUM_FRAMES].int64_list.value[0]),
                                     "targets": targets, "has_aligned": KEY_LDR_ALIGNED in keys}
    for prefix in ESBN_PREFIXES:
        if all(k in keys for k in esbn_required_keys(prefix)):
            return SCHEMA_ESBN, prefix, {
                "kind": KIND_IMAGE_PATCH, "version": 0, "has_hdr": True, "num_frames": 3,
                "has_extras": (prefix + ESBN_EXTRA_EXPOSURES) in keys}
    shown = ", ".join(sorted(keys)[:6]) or "none"
    raise RecordError(f"record file {path} is not an hdrkeras or ESBN record "
                      f"(feature keys: {shown})")


# ----------------------------------------------------------------------------- decode

_HDRKERAS_SPEC = {
    KEY_VERSION: tf.io.FixedLenFeature([], tf.int64),
    KEY_KIND: tf.io.FixedLenFeature([], tf.string),
    KEY_SCENE: tf.io.FixedLenFeature([], tf.string, default_value=""),
    KEY_HEIGHT: tf.io.FixedLenFeature([], tf.int64),
    KEY_WIDTH: tf.io.FixedLenFeature([], tf.int64),
    KEY_NUM_FRAMES: tf.io.FixedLenFeature([], tf.int64),
    KEY_LDR: tf.io.FixedLenFeature([], tf.string),
    KEY_EXPOSURES: tf.io.VarLenFeature(tf.float32),
    KEY_HDR: tf.io.FixedLenFeature([], tf.string, default_value=""),
    KEY_HAS_HDR: tf.io.FixedLenFeature([], tf.int64, default_value=0),
    KEY_REFERENCE: tf.io.FixedLenFeature([], tf.int64, default_value=-1),
}


def feature_spec(targets=(), aligned=False):
    """tf.io parse spec of hdrkeras records, with the optional target / aligned blobs."""
    spec = dict(_HDRKERAS_SPEC)
    if targets:
        spec[KEY_TARGETS] = tf.io.FixedLenFeature([], tf.string)
    if aligned:
        spec[KEY_LDR_ALIGNED] = tf.io.FixedLenFeature([], tf.string)
    return spec


def _decode_hdrkeras(serialized, targets=(), aligned=False):
    f = tf.io.parse_single_example(serialized, feature_spec(targets, aligned))
    h = tf.cast(f[KEY_HEIGHT], tf.int32)
    w = tf.cast(f[KEY_WIDTH], tf.int32)
    n = tf.cast(f[KEY_NUM_FRAMES], tf.int32)
    ldr = tf.reshape(tf.io.decode_raw(f[KEY_LDR], tf.uint16, little_endian=True), [n, h, w, 3])
    has_hdr = f[KEY_HAS_HDR] > 0
    hdr = tf.cond(
        has_hdr,
        lambda: tf.reshape(tf.io.decode_raw(f[KEY_HDR], tf.float32, little_endian=True), [h, w, 3]),
        lambda: tf.zeros([h, w, 3], tf.float32))
    exposures = tf.sparse.to_dense(f[KEY_EXPOSURES])
    out = {"ldr": ldr, "exposures": exposures, "hdr": hdr, "has_hdr": has_hdr,
           "scene": f[KEY_SCENE]}
    if targets:
        planes = tf.reshape(tf.io.decode_raw(f[KEY_TARGETS], tf.float32, little_endian=True),
                            [len(targets), h, w, 3])
        out.update({name: planes[i] for i, name in enumerate(targets)})
    if aligned:
        out[ALIGNED] = tf.reshape(tf.io.decode_raw(f[KEY_LDR_ALIGNED], tf.uint16,
                                                   little_endian=True), [n, h, w, 3])
    return out


def _decode_esbn(serialized, prefix, has_extras):
    spec = {k: tf.io.FixedLenFeature([], tf.string) for k in esbn_required_keys(prefix)}
    if has_extras:
        spec[prefix + ESBN_EXTRA_EXPOSURES] = tf.io.VarLenFeature(tf.float32)
        spec[prefix + ESBN_EXTRA_HEIGHT] = tf.io.FixedLenFeature([], tf.int64)
        spec[prefix + ESBN_EXTRA_WIDTH] = tf.io.FixedLenFeature([], tf.int64)
        spec[prefix + ESBN_EXTRA_SCENE] = tf.io.FixedLenFeature([], tf.string, default_value="")
    f = tf.io.parse_single_example(serialized, spec)
    gt = tf.io.decode_raw(f[prefix + ESBN_GT_HDR], tf.float32, little_endian=True)
    if has_extras:
        h = tf.cast(f[prefix + ESBN_EXTRA_HEIGHT], tf.int32)
        w = tf.cast(f[prefix + ESBN_EXTRA_WIDTH], tf.int32)
        scene = f[prefix + ESBN_EXTRA_SCENE]
    else:  # original ESBN patches are square
        h = tf.cast(tf.round(tf.sqrt(tf.cast(tf.size(gt) // 3, tf.float32))), tf.int32)
        w = h
        scene = tf.constant("")
    hdr = tf.reshape(gt, [h, w, 3])
    frames = []
    for fr in ESBN_FRAMES:
        blob = f[prefix + ESBN_INPUT_LDR + fr]
        is16 = tf.equal(tf.strings.length(blob), h * w * 6)
        frame = tf.cond(
            is16,
            lambda b=blob: tf.io.decode_raw(b, tf.uint16, little_endian=True),
            lambda b=blob: tf.cast(tf.io.decode_raw(b, tf.uint8), tf.uint16) * 257)
        frames.append(tf.reshape(frame, [h, w, 3]))
    ldr = tf.stack(frames)
    if has_extras:
        exposures = tf.sparse.to_dense(f[prefix + ESBN_EXTRA_EXPOSURES])
    else:
        lin = (tf.cast(ldr, tf.float32) / LDR_FULL_SCALE) ** ESBN_GAMMA
        in_hdr = tf.stack([tf.reshape(tf.io.decode_raw(f[prefix + ESBN_INPUT_HDR + fr],
                                                       tf.float32, little_endian=True), [h, w, 3])
                           for fr in ESBN_FRAMES])
        t = tf.reduce_sum(lin, [1, 2, 3]) / tf.maximum(tf.reduce_sum(in_hdr, [1, 2, 3]), 1e-12)
        exposures = t / t[0]
    return {"ldr": ldr, "exposures": exposures, "hdr": hdr, "has_hdr": tf.constant(True),
            "scene": scene}


_VIDEO_SPEC = {
    KEY_SCENE: tf.io.FixedLenFeature([], tf.string, default_value=""),
    KEY_HEIGHT: tf.io.FixedLenFeature([], tf.int64),
    KEY_WIDTH: tf.io.FixedLenFeature([], tf.int64),
    KEY_NUM_FRAMES: tf.io.FixedLenFeature([], tf.int64),
    KEY_LDR: tf.io.FixedLenFeature([], tf.string),
    KEY_EXPOSURES: tf.io.VarLenFeature(tf.float32),
    KEY_HDR: tf.io.FixedLenFeature([], tf.string, default_value=""),
    KEY_HAS_HDR: tf.io.FixedLenFeature([], tf.int64, default_value=0),
    KEY_VALID: tf.io.VarLenFeature(tf.int64),
    KEY_START_FRAME: tf.io.FixedLenFeature([], tf.int64, default_value=0),
    KEY_SEQUENCE_LENGTH: tf.io.FixedLenFeature([], tf.int64, default_value=0),
    KEY_ORIGIN: tf.io.FixedLenFeature([2], tf.int64, default_value=[0, 0]),
}


def video_feature_spec():
    """tf.io parse spec of video clip records."""
    return dict(_VIDEO_SPEC)


def decode_video_clip(serialized, ldr_dtype=tf.float32):
    """One video clip record -> dict (module docstring); "ldr" float32 in [0,1], or uint16
    (full scale 65535) with ldr_dtype=tf.uint16."""
    f = tf.io.parse_single_example(serialized, _VIDEO_SPEC)
    h = tf.cast(f[KEY_HEIGHT], tf.int32)
    w = tf.cast(f[KEY_WIDTH], tf.int32)
    n = tf.cast(f[KEY_NUM_FRAMES], tf.int32)
    ldr = tf.reshape(tf.io.decode_raw(f[KEY_LDR], tf.uint16, little_endian=True), [n, h, w, 3])
    if ldr_dtype != tf.uint16:
        ldr = tf.cast(ldr, tf.float32) / LDR_FULL_SCALE
    has_hdr = f[KEY_HAS_HDR] > 0
    hdr = tf.cond(
        has_hdr,
        lambda: tf.reshape(tf.io.decode_raw(f[KEY_HDR], tf.float32, little_endian=True),
                           [n, h, w, 3]),
        lambda: tf.zeros([n, h, w, 3], tf.float32))
    return {"ldr": ldr, "exposures": tf.reshape(tf.sparse.to_dense(f[KEY_EXPOSURES]), [-1]),
            "hdr": hdr, "valid": tf.sparse.to_dense(f[KEY_VALID]) > 0, "has_hdr": has_hdr,
            "scene": f[KEY_SCENE], "start_frame": f[KEY_START_FRAME],
            "sequence_length": f[KEY_SEQUENCE_LENGTH], "origin": f[KEY_ORIGIN]}


def make_decoder(schema, prefix="", has_extras=True, *, ldr_dtype=tf.float32, targets=(),
                 aligned=False, kind=None):
    """Returns decode(serialized) -> dict (see module docstring) for one detected schema.

    With ldr_dtype=tf.uint16 the "ldr" (and "ldr_aligned") entries stay integer (full
    scale 65535) so a pipeline can crop before converting to float. `targets` (names) and
    `aligned` ask for the optional hdrkeras entries (see `detect_schema`'s info); kind
    "video_clip" returns `decode_video_clip`.
    """
    if kind == KIND_VIDEO_CLIP:
        return lambda s: decode_video_clip(s, ldr_dtype)
    if schema == SCHEMA_HDRKERAS:
        def raw(s):
            return _decode_hdrkeras(s, tuple(targets), aligned)
    elif schema == SCHEMA_ESBN:
        def raw(s):
            return _decode_esbn(s, prefix, has_extras)
    else:
        raise ValueError(f"schema must be one of {SCHEMAS}, got {schema!r}")

    def decode(serialized):
        out = raw(serialized)
        out["exposures"] = tf.reshape(out["exposures"], [-1])
        if ldr_dtype != tf.uint16:
            for key in ("ldr", ALIGNED):
                if key in out:
                    out[key] = tf.cast(out[key], tf.float32) / LDR_FULL_SCALE
        return out

    return decode


def decode_example(serialized, schema=SCHEMA_HDRKERAS, prefix="", has_extras=True, targets=(),
                   aligned=False):
    """Decodes one serialized record (eager or graph) -> float32 dict (module docstring)."""
    return make_decoder(schema, prefix, has_extras, targets=targets, aligned=aligned)(serialized)
