"""Data layer by job: one dihedral numbering, sources by type, and bad data named early
(absurd ground truth, a corrupt record met while training, records of the wrong kind,
OpenCV's own log lines)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras import io
from hdrkeras.data import kalantari, pipeline, records, sources
from hdrkeras.data import schema as S
from hdrkeras.data.testing import coordinate_scene, random_scene, write_kalantari
from hdrkeras.errors import DataError, RecordError
from hdrkeras.ops.dihedral import dihedral_index, dihedral_np, dihedral_tf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_one_dihedral_numbering_in_numpy_tf_and_gather():
    a = np.random.default_rng(0).random((2, 3, 5, 5, 3)).astype(np.float32)
    outs = []
    for d in range(8):
        want = dihedral_np(a, d, axes=(2, 3))
        np.testing.assert_array_equal(dihedral_tf(tf.constant(a), d, 2).numpy(), want)
        gathered = a.reshape(2, 3, 25, 3)[:, :, dihedral_index(5)[d]].reshape(a.shape)
        np.testing.assert_array_equal(gathered, want)
        outs.append(want.tobytes())
    assert len(set(outs)) == 8
    # d = 1 is np.rot90 once, d = 4 a horizontal flip: the documented meaning.
    g = np.arange(4).reshape(2, 2)
    np.testing.assert_array_equal(dihedral_np(g, 1, axes=(0, 1)), [[1, 3], [0, 2]])
    np.testing.assert_array_equal(dihedral_np(g, 4, axes=(0, 1)), [[1, 0], [3, 2]])


def _bracket(folder):
    os.makedirs(folder)
    for j in range(3):
        io.write_ldr(os.path.join(folder, f"{j}.png"), np.full((6, 8, 3), 0.2 * (j + 1)))
    with open(os.path.join(folder, "exposure.txt"), "w") as f:
        f.write("0\n1\n2\n")


def test_sources_are_detected_and_a_wrong_type_is_an_error(tmp_path):
    rng = np.random.default_rng(1)
    root = str(tmp_path / "root")
    ldr, hdr = random_scene(rng, 8, 8)
    write_kalantari(root, {"001": (ldr, (0, 2, 4), hdr)}, "Training")
    _bracket(str(tmp_path / "br"))
    assert sources.source_type(root) == sources.DATASET
    assert sources.source_type(str(tmp_path / "br")) == sources.BRACKET
    # A dataset root without Test/ is not read as a bracket folder.
    with pytest.raises(DataError, match=r"root has no Test/ folder"):
        pipeline.eval_dataset(root)
    assert len(list(pipeline.eval_dataset(root, split="train"))) == 1
    with pytest.raises(DataError, match=r"is not a bracket source: it looks like dataset"):
        pipeline.eval_dataset(root, source_type="bracket")
    with pytest.raises(DataError, match=r"is not a dataset source: it looks like bracket"):
        pipeline.eval_dataset(str(tmp_path / "br"), source_type="dataset")
    os.makedirs(tmp_path / "empty")
    with pytest.raises(DataError, match=r"empty is neither records .* nor a bracket folder"):
        pipeline.eval_dataset(str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"gone does not exist"):
        sources.source_type(str(tmp_path / "gone"))


def test_make_tfrecord_rejects_an_absurd_ground_truth(tmp_path):
    rng = np.random.default_rng(2)
    root = str(tmp_path / "root")
    scenes = {f"{i:03d}": random_scene(rng, 16, 16) for i in (1, 2)}
    scenes["002"][1][3, 5, 0] = 1.7e38  # survives RGBE (its largest exponent)
    write_kalantari(root, {k: (l, (0, 2, 4), h) for k, (l, h) in scenes.items()}, "Training")
    out = str(tmp_path / "rec")
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    r = subprocess.run([sys.executable, os.path.join(REPO, "tfrecord_tools", "make_tfrecord.py"),
                        "--data", root, "--out", out, "--split", "train", "--workers", "1"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    err = [line for line in r.stderr.splitlines() if line.startswith("make_tfrecord:")]
    assert len(err) == 1, r.stderr
    assert "scene 002" in err[0] and "002/HDRImg.hdr" in err[0] and "e+38" in err[0]
    assert not os.path.exists(os.path.join(out, "train"))


@pytest.fixture
def coord_shards(tmp_path):
    """Three coordinate scenes, one shard each, with a manifest."""
    root = str(tmp_path / "data")
    stacks = {}
    for i in range(3):
        ldr, hdr = coordinate_scene(24, 24)
        stacks[f"s{i}"] = (ldr, (0, 1, 2), hdr)
    write_kalantari(root, stacks, "Training")
    out = str(tmp_path / "rec")
    records.write_records(kalantari.list_scenes(root, "train"), out, shard_size=1, shuffle=False)
    return out


def _corrupt(out, shard, record=0):
    """Flips one payload byte of `record` in `shard`: length and framing stay intact."""
    from hdrkeras.data import tfrecord

    m = records.read_manifest(out)
    path = os.path.join(out, m["shards"][shard]["file"])
    data = bytearray(open(path, "rb").read())
    offset, length = tfrecord.record_spans(path)[record]
    data[offset + tfrecord.HEADER_BYTES + length // 2] ^= 0xFF  # inside the LDR blob
    with open(path, "wb") as f:
        f.write(bytes(data))
    return m["shards"][shard]["file"]


def test_a_corrupt_record_met_while_training_names_the_shard(coord_shards):
    name = _corrupt(coord_shards, 1)
    ds = pipeline.train_dataset(coord_shards, 2, 8, seed=0, cache=False, crops_per_scene=2)
    with pytest.raises(RecordError, match=rf"record file .*{name}: record 0 is corrupt"):
        with pipeline.record_errors(coord_shards):
            for _ in ds.take(20):
                pass
    with pytest.raises(RecordError, match=rf"{name}: record 0 is corrupt"):
        with pipeline.record_errors(coord_shards):
            list(pipeline.eval_dataset(coord_shards))
    # Without the context, TF's own error is what comes out.
    with pytest.raises(tf.errors.DataLossError):
        list(pipeline.eval_dataset(coord_shards))


def test_records_of_the_wrong_kind_are_named(coord_shards, tmp_path):
    ldr, hdr = coordinate_scene(16, 16)
    targets = str(tmp_path / "targets")
    records.write_example_records(
        [{"scene": "a", "ldr": ldr, "exposures": [1, 2, 4], "targets": {S.Y_COLOR: hdr}}],
        targets)
    with pytest.raises(RecordError, match=r"records .*targets hold image_scene records with 3 "
                                          r"frames, without ground truth, targets y_color "
                                          r"\(these are SelfHDR target records\); method esbn "
                                          r"trains against ground truth"):
        pipeline.check_records(targets, user="method esbn", num_frames=3)
    with pytest.raises(RecordError, match=r"method selfhdr, stage reconstruction needs the "
                                          r"training targets y_stru"):
        pipeline.check_records(targets, user="method selfhdr, stage reconstruction",
                               num_frames=3, ground_truth=False, targets=(S.Y_COLOR, S.Y_STRU))
    with pytest.raises(RecordError, match=r"takes 5 frames"):
        pipeline.check_records(coord_shards, user="method x", num_frames=5)
    info = pipeline.check_records(coord_shards, user="method esbn", num_frames=3)
    assert info["has_hdr"] and info["num_records"] == 3


def test_opencv_prints_nothing_before_our_message(tmp_path, capfd):
    bad = tmp_path / "frame.tif"
    bad.write_bytes(b"II*\x00" + b"not a tiff directory" * 4)
    capfd.readouterr()
    with pytest.raises(DataError, match=r"frame.tif: cannot decode image"):
        io.read_ldr(str(bad))
    bad_hdr = tmp_path / "gt.hdr"
    bad_hdr.write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 4 +X 4\n\x01")
    with pytest.raises(DataError, match=r"gt.hdr: cannot decode"):
        io.read_hdr(str(bad_hdr))
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    # OpenCV's own level is restored afterwards.
    import cv2
    assert cv2.utils.logging.getLogLevel() != cv2.utils.logging.LOG_LEVEL_SILENT
