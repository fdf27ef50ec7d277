"""Video clip records (schema version 2): clip/tile planning, round trip, version 1 still
read, bad input, make_tfrecord --kind video."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.data import records as R
from hdrkeras.data import schema as S
from hdrkeras.data import video_sources
from hdrkeras.data.pipeline import inspect_records, read_records_numpy, train_dataset
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import ConfigError, DataError, RecordError
from hdrkeras.io.images import write_ldr

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sequence(name="s", n=10, h=6, w=9, gt_every=1, seed=0):
    rng = np.random.default_rng(seed)
    frames = [np.round(rng.random((h, w, 3)) * 65535).astype(np.float32) / 65535
              for _ in range(n)]
    gt = [rng.random((h, w, 3)).astype(np.float32) * 8 if i % gt_every == 0 else None
          for i in range(n)]
    return VideoSequence(name, frames, [1, 4] * (n // 2) + [1] * (n % 2), gt)


def test_clip_starts_cover_every_frame_and_tiles_cover_the_frame():
    assert R.clip_starts(10, 8, 4) == [0, 2]
    assert R.clip_starts(16, 8, 4) == [0, 4, 8]
    assert R.clip_starts(7, 8, 4) == []
    # every 5-frame window lies inside some clip of the defaults
    starts = R.clip_starts(23, 8, 4)
    for s in range(23 - 5 + 1):
        assert any(c <= s and s + 5 <= c + 8 for c in starts), s
    assert R.tile_grid(100, 200, 512) == [(0, 0, 100, 200)]
    tiles = R.tile_grid(1080, 1920, 512)
    assert len(tiles) == 3 * 4 and all(t[2:] == (512, 512) for t in tiles)
    covered = np.zeros((1080, 1920), bool)
    for y, x, th, tw in tiles:
        covered[y:y + th, x:x + tw] = True
    assert covered.all()


def test_round_trip_with_partial_ground_truth_and_tiles(tmp_path):
    seqs = [sequence("a", n=10, gt_every=2), sequence("b", n=8, seed=1)]
    m = R.write_video_records(seqs, tmp_path / "train", clip_length=8, stride=4, max_tile=6,
                              shuffle=False, shard_size=3)
    # a: starts 0, 2; b: start 0; frames 6x9 -> 2 tiles (x 0 and 3)
    assert m["kind"] == S.KIND_VIDEO_CLIP and m["num_records"] == 6 and m["num_frames"] == 8
    assert m["clip_length"] == 8 and m["clip_stride"] == 4 and m["has_hdr"] is False
    assert m["schema_version"] == 2 and m["exposure_levels"] == [1.0, 4.0]
    info = inspect_records(tmp_path / "train")
    assert info["kind"] == S.KIND_VIDEO_CLIP and info["num_records"] == 6
    recs = [r for sh in m["shards"] for r in read_records_numpy(tmp_path / "train" / sh["file"])]
    r = recs[3]  # a, start 2, tile x=3
    assert (r["scene"], int(r["start_frame"]), list(r["origin"])) == ("a", 2, [0, 3])
    assert int(r["sequence_length"]) == 10
    assert r["ldr"].shape == (8, 6, 6, 3) and r["hdr"].shape == (8, 6, 6, 3)
    np.testing.assert_allclose(r["exposures"], seqs[0].exposures[2:10])
    assert r["valid"].tolist() == [i % 2 == 0 for i in range(2, 10)]
    for k, j in enumerate(range(2, 10)):
        np.testing.assert_allclose(r["ldr"][k], seqs[0].ldr(j)[:, 3:9], atol=1e-6)
        if j % 2 == 0:
            np.testing.assert_array_equal(r["hdr"][k], seqs[0].hdr(j)[:, 3:9])
        else:
            assert not r["hdr"][k].any()
    assert recs[4]["valid"].all() and recs[4]["scene"] == "b"
    # shuffled (the train default): the same clips in a seeded random order
    key = [(r["scene"], int(r["start_frame"]), tuple(r["origin"])) for r in recs]
    orders = []
    for run in range(2):
        m2 = R.write_video_records(seqs, tmp_path / f"shuf{run}", clip_length=8, max_tile=6,
                                   shard_size=4, seed=1)
        assert m2["shuffled"] and [sh["records"] for sh in m2["shards"]] == [4, 2]
        got = [r for sh in m2["shards"]
               for r in read_records_numpy(tmp_path / f"shuf{run}" / sh["file"])]
        orders.append([(r["scene"], int(r["start_frame"]), tuple(r["origin"])) for r in got])
        assert not os.path.exists(tmp_path / f"shuf{run}" / ".buckets")
    assert orders[0] == orders[1] and sorted(orders[0]) == sorted(key) and orders[0] != key


def test_version_1_records_still_read_and_kind_versions_checked(tmp_path):
    ldr = np.random.default_rng(0).random((3, 4, 5, 3)).astype(np.float32)
    image = S.encode_example(ldr, [1, 4, 16], ldr[1])
    ex = tf.train.Example.FromString(image)
    assert ex.features.feature[S.KEY_VERSION].int64_list.value[0] == 1
    path = str(tmp_path / "v1.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        w.write(image)
    assert S.detect_schema(path)[2]["version"] == 1
    (rec,) = read_records_numpy(path)
    np.testing.assert_allclose(rec["hdr"], ldr[1], atol=1e-6)
    clip = tf.train.Example.FromString(S.encode_video_clip(ldr, [1, 4, 1]))
    clip.features.feature[S.KEY_VERSION].int64_list.value[0] = 1
    bad = str(tmp_path / "bad.tfrecord")
    with tf.io.TFRecordWriter(bad) as w:
        w.write(clip.SerializeToString())
    with pytest.raises(RecordError, match="'video_clip' records marked schema version 1"):
        S.detect_schema(bad)


def test_bad_input(tmp_path):
    with pytest.raises(DataError, match="sequence short: 5 frames, shorter than the 8-frame"):
        R.write_video_records([sequence("short", n=5)], tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(DataError, match="repeated: \\['s'\\]"):
        R.write_video_records([sequence(), sequence()], tmp_path / "y")
    R.write_video_records([sequence()], tmp_path / "z")
    with pytest.raises(ConfigError, match="hold video clips"):
        train_dataset(tmp_path / "z", 1, 4, num_frames=8)


def test_video_sources_detects_layouts(tmp_path):
    d = tmp_path / "frames"
    for i in range(4):
        write_ldr(d / f"f{i}.png", np.full((4, 4, 3), i / 4, np.float32))
    assert video_sources.detect_layout(d) == "folder"
    (seq,) = video_sources.video_sequences(d, exposures="1,8")
    np.testing.assert_allclose(seq.exposures, [1, 8, 1, 8])
    (tmp_path / "v" / "blur").mkdir(parents=True)
    (tmp_path / "v" / "gt").mkdir()
    assert video_sources.detect_layout(tmp_path / "v") == "dealthdr"
    (tmp_path / "e").mkdir()
    with pytest.raises(DataError, match="is not a video dataset"):
        video_sources.detect_layout(tmp_path / "e")


def test_make_tfrecord_kind_video_synth(tmp_path):
    out = tmp_path / "rec"
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, os.path.join(REPO, "tfrecord_tools", "make_tfrecord.py"),
                        "--kind", "video", "--synth_video", "--synth_video_dir",
                        str(tmp_path / "clips"), "--synth_clips", "2", "--synth_frames", "9",
                        "--synth_size", "32x48", "--out", str(out)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((out / "train" / "manifest.json").read_text())
    # 9 frames, clips of 8 every 4 -> starts 0, 1 per sequence
    assert m["kind"] == "video_clip" and m["num_records"] == 4 and m["has_hdr"] is True
    assert m["scenes"] == ["clip_000", "clip_001"] and m["arguments"]["kind"] == "video"
