"""TFRecord schema: round trips in both schemas, corrupt / truncated / foreign files."""

import os

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.data import pipeline, tfrecord
from hdrkeras.data import schema as S
from hdrkeras.data.testing import random_scene
from hdrkeras.errors import RecordError


def _write(path, payloads):
    with tf.io.TFRecordWriter(str(path)) as w:
        for p in payloads:
            w.write(p)
    return str(path)


@pytest.fixture
def stack():
    ldr, hdr = random_scene(np.random.default_rng(1), 12, 20)
    return ldr, np.float32([1, 4, 16]), hdr


def test_hdrkeras_round_trip_is_exact(tmp_path, stack):
    ldr, t, hdr = stack
    path = _write(tmp_path / "a.tfrecord", [S.encode_example(ldr, t, hdr, scene="s1"),
                                            S.encode_example(ldr[:, :5], t, None, scene="s2",
                                                             kind=S.KIND_IMAGE_PATCH)])
    assert S.detect_schema(path)[0] == S.SCHEMA_HDRKERAS
    a, b = pipeline.read_records_numpy(path)
    np.testing.assert_array_equal(np.round(a["ldr"] * 65535).astype(np.uint16), ldr)
    assert a["ldr"].dtype == np.float32
    np.testing.assert_array_equal(a["hdr"], hdr)  # float32 raw: bit exact
    np.testing.assert_array_equal(a["exposures"], t)
    assert a["scene"] == "s1" and a["has_hdr"]
    assert b["ldr"].shape == (3, 5, 20, 3) and not b["has_hdr"] and not b["hdr"].any()


def test_float_ldr_from_8_and_16_bit_sources_quantizes_exactly():
    v16 = np.arange(0, 65536, 257 * 3, dtype=np.uint16)
    np.testing.assert_array_equal(S.quantize_ldr(v16.astype(np.float32) / 65535), v16)
    v8 = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(S.quantize_ldr(v8.astype(np.float32) / 255),
                                  v8.astype(np.uint16) * 257)


def test_unknown_kinds_and_targets_are_refused(tmp_path, stack):
    ldr, t, hdr = stack
    with pytest.raises(ValueError, match="kind"):
        S.encode_example(ldr, t, hdr, kind="video_clip")
    with pytest.raises(ValueError, match="unknown training targets"):
        S.encode_example(ldr, t, hdr, targets={"y_colour": hdr})
    ex = tf.train.Example.FromString(S.encode_example(ldr, t, hdr))
    ex.features.feature[S.KEY_KIND].bytes_list.value[0] = b"hologram"
    path = _write(tmp_path / "k.tfrecord", [ex.SerializeToString()])
    with pytest.raises(RecordError, match=r"k.tfrecord holds 'hologram' records"):
        S.detect_schema(path)


def test_esbn_round_trip_16_bit(tmp_path, stack):
    ldr, t, hdr = stack
    path = _write(tmp_path / "e.tfrecord", [S.encode_esbn_example(ldr, t, hdr, scene="e1")])
    ex = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(path))).numpy())
    keys = set(ex.features.feature)
    for k in ("train/input_LDR_low", "train/input_LDR_mid", "train/input_LDR_high",
              "train/input_HDR_low", "train/input_HDR_mid", "train/input_HDR_high",
              "train/gt_LDR_low", "train/gt_LDR_high", "train/gt_HDR"):
        assert k in keys
    # input_HDR is LDR**2.2 / t as in ESBN's make_tfrecord.py
    f = ex.features.feature
    in_hdr = np.frombuffer(f["train/input_HDR_high"].bytes_list.value[0], "<f4").reshape(12, 20, 3)
    np.testing.assert_allclose(in_hdr, (ldr[2] / 65535.0) ** 2.2 / 16, rtol=1e-5)
    gt_low = np.frombuffer(f["train/gt_LDR_low"].bytes_list.value[0], "<u2").reshape(12, 20, 3)
    np.testing.assert_allclose(gt_low / 65535, np.clip(hdr, 0, 1) ** (1 / 2.2), atol=1 / 65535)

    schema, prefix, info = S.detect_schema(path)
    assert (schema, prefix) == (S.SCHEMA_ESBN, "train/")
    (d,) = pipeline.read_records_numpy(path)
    np.testing.assert_array_equal(np.round(d["ldr"] * 65535).astype(np.uint16), ldr)
    np.testing.assert_array_equal(d["hdr"], hdr)
    np.testing.assert_array_equal(d["exposures"], t)
    assert d["scene"] == "e1"


def _original_esbn_record(ldr8, t, hdr, prefix="train/"):
    """A record exactly as tkd1088/ESBN's make_tfrecord.py lays it out (8-bit, no extras)."""
    lf = ldr8.astype(np.float32) / 255.0
    feat = {}
    for i, name in enumerate(("low", "mid", "high")):
        feat[prefix + "input_LDR_" + name] = ldr8[i].tobytes()
        feat[prefix + "input_HDR_" + name] = (lf[i] ** 2.2 / t[i]).astype(np.float32).tobytes()
    if prefix == "train/":
        for i, name in ((0, "low"), (2, "high")):
            g = np.clip(hdr * t[i], 0, 1) ** (1 / 2.2)
            feat[prefix + "gt_LDR_" + name] = (255.0 * g).astype(np.uint8).tobytes()
    feat[prefix + "gt_HDR"] = hdr.astype(np.float32).tobytes()
    return tf.train.Example(features=tf.train.Features(feature={
        k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v])) for k, v in feat.items()
    })).SerializeToString()


@pytest.mark.parametrize("prefix", ["train/", "merge/"])
def test_reads_original_8_bit_esbn_records(tmp_path, prefix):
    rng = np.random.default_rng(2)
    ldr8 = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    hdr = rng.random((16, 16, 3), dtype=np.float32)
    t = np.float32([1, 4, 16])
    path = _write(tmp_path / "o.tfrecord", [_original_esbn_record(ldr8, t, hdr, prefix)])
    schema, got_prefix, info = S.detect_schema(path)
    assert schema == S.SCHEMA_ESBN and got_prefix == prefix and not info["has_extras"]
    (d,) = pipeline.read_records_numpy(path)
    np.testing.assert_array_equal(d["ldr"], ldr8.astype(np.float32) / 255)
    np.testing.assert_array_equal(d["hdr"], hdr)
    # No exposures in the original records: estimated from input_HDR = LDR**2.2 / t.
    np.testing.assert_allclose(d["exposures"], t, rtol=1e-4)


def test_foreign_record_is_rejected(tmp_path):
    ex = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[3]))}))
    path = _write(tmp_path / "foreign.tfrecord", [ex.SerializeToString()])
    with pytest.raises(RecordError, match=r"foreign.tfrecord is not an hdrkeras or ESBN record"):
        S.detect_schema(path)
    path = _write(tmp_path / "junk.tfrecord", [b"\xff\x00not a proto"])
    with pytest.raises(RecordError, match="junk.tfrecord"):
        S.detect_schema(path)


def test_truncated_and_corrupt_files(tmp_path, stack):
    ldr, t, hdr = stack
    path = _write(tmp_path / "good.tfrecord", [S.encode_example(ldr, t, hdr)] * 3)
    assert tfrecord.scan_records(path)[0] == 3
    assert tfrecord.verify_records(path) == 3
    data = open(path, "rb").read()

    trunc = tmp_path / "trunc.tfrecord"
    trunc.write_bytes(data[:len(data) - 100])
    with pytest.raises(RecordError, match=r"trunc.tfrecord is truncated"):
        tfrecord.scan_records(str(trunc))

    not_rec = tmp_path / "text.tfrecord"
    not_rec.write_bytes(b"hello, this is not a TFRecord file at all\n" * 10)
    with pytest.raises(RecordError, match=r"text.tfrecord is corrupt or not a TFRecord"):
        tfrecord.scan_records(str(not_rec))

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # payload bit flip: framing intact, data CRC wrong
    bad = tmp_path / "flip.tfrecord"
    bad.write_bytes(bytes(flipped))
    assert tfrecord.scan_records(str(bad))[0] == 3
    with pytest.raises(RecordError, match=r"flip.tfrecord: record 1 is corrupt"):
        tfrecord.verify_records(str(bad))
    with pytest.raises(RecordError, match=r"flip.tfrecord: record 1 is corrupt"):
        pipeline.read_records_numpy(str(bad))

    empty = tmp_path / "empty.tfrecord"
    empty.write_bytes(b"")
    with pytest.raises(RecordError, match="holds no records"):
        tfrecord.scan_records(str(empty))
    with pytest.raises(RecordError, match="cannot open"):
        tfrecord.scan_records(str(tmp_path / "missing.tfrecord"))


def test_newer_schema_version_is_refused(tmp_path, stack):
    ldr, t, hdr = stack
    ex = tf.train.Example.FromString(S.encode_example(ldr, t, hdr))
    ex.features.feature[S.KEY_VERSION].int64_list.value[0] = S.SCHEMA_VERSION + 1
    path = _write(tmp_path / "new.tfrecord", [ex.SerializeToString()])
    with pytest.raises(RecordError, match="schema version"):
        S.detect_schema(path)


def test_encode_rejects_bad_shapes(stack):
    ldr, t, hdr = stack
    with pytest.raises(ValueError, match="exposures"):
        S.encode_example(ldr, t[:2], hdr)
    with pytest.raises(ValueError, match="hdr"):
        S.encode_example(ldr, t, hdr[:5])
    with pytest.raises(ValueError, match="3 frames"):
        S.encode_esbn_example(ldr[:2], t[:2], hdr)
