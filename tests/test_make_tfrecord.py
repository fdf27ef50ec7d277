"""Record builder: write_records (scenes / patches / ESBN) and the make_tfrecord.py CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hdrkeras.data import kalantari, pipeline, records
from hdrkeras.data import schema as S
from hdrkeras.data.testing import random_scene, write_kalantari
from hdrkeras.errors import ConfigError
from hdrkeras.ops.dihedral import dihedral_np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "tfrecord_tools", "make_tfrecord.py")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    rng = np.random.default_rng(3)
    root = str(tmp_path_factory.mktemp("kal"))
    stacks = {f"{i:03d}": (*random_scene(rng, 20, 28),) for i in range(1, 4)}
    write_kalantari(root, {k: (l, (0, 2, 4), h) for k, (l, h) in stacks.items()}, "Training")
    write_kalantari(root, {"EXTRA/001": (stacks["001"][0], (0, 2, 4), stacks["001"][1])}, "Test")
    return root, stacks


def _all_records(out_dir):
    m = records.read_manifest(out_dir)
    recs = []
    for s in m["shards"]:
        recs += pipeline.read_records_numpy(os.path.join(out_dir, s["file"]))
    return m, recs


def test_scene_records_and_manifest(tree, tmp_path):
    root, stacks = tree
    scenes = kalantari.list_scenes(root, "train")
    out = str(tmp_path / "train")
    m = records.write_records(scenes, out, split="train", shard_size=2, source=root,
                              arguments={"x": 1})
    assert sorted(os.listdir(out)) == ["manifest.json", "train-00000-of-00002.tfrecord",
                                       "train-00001-of-00002.tfrecord"]
    on_disk = json.load(open(os.path.join(out, "manifest.json")))
    assert on_disk == m
    assert m["schema"] == "hdrkeras" and m["schema_version"] == S.SCHEMA_VERSION
    assert m["kind"] == S.KIND_IMAGE_SCENE and m["num_records"] == 3 and m["num_frames"] == 3
    assert [s["records"] for s in m["shards"]] == [2, 1]
    assert all(s["bytes"] == os.path.getsize(os.path.join(out, s["file"])) for s in m["shards"])
    assert m["source"] == root and m["arguments"] == {"x": 1} and m["has_hdr"]
    assert (m["min_height"], m["min_width"]) == (20, 28)
    m2, recs = _all_records(out)
    by_name = {r["scene"]: r for r in recs}
    assert sorted(by_name) == ["001", "002", "003"]
    for name, (ldr, _) in stacks.items():
        np.testing.assert_array_equal(np.round(by_name[name]["ldr"] * 65535), ldr)  # lossless
        np.testing.assert_allclose(by_name[name]["exposures"], [1, 4, 16])
    # Same seed -> same bytes; test split keeps the sorted order.
    out_b = str(tmp_path / "again")
    records.write_records(scenes, out_b, split="train", shard_size=2)
    for s in m["shards"]:
        assert open(os.path.join(out, s["file"]), "rb").read() == \
            open(os.path.join(out_b, s["file"]), "rb").read()


def test_refuses_non_empty_output_unless_overwrite(tree, tmp_path):
    root, _ = tree
    scenes = kalantari.list_scenes(root, "test")
    out = tmp_path / "test"
    os.makedirs(out)
    (out / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        records.write_records(scenes, str(out), split="test")
    records.write_records(scenes, str(out), split="test", overwrite=True)
    assert "keep.txt" not in os.listdir(out)  # replaced as a whole, atomically
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]  # no temp leftovers


def test_patch_records_cover_the_grid_in_all_8_transforms(tree, tmp_path):
    root, stacks = tree
    scenes = kalantari.list_scenes(root, "train")[:2]
    out = str(tmp_path / "p")
    m = records.write_records(scenes, out, mode="patches", patch_size=16, stride=8,
                              augment=True, shard_size=7)
    grid = records.patch_grid(20, 28, 16, 8)
    assert grid == [(0, 0), (0, 8)]  # ESBN protocol: full windows on the stride grid
    assert m["num_records"] == 2 * len(grid) * 8 and m["kind"] == S.KIND_IMAGE_PATCH
    assert len(m["shards"]) == -(-m["num_records"] // 7)
    assert not os.path.exists(os.path.join(out, ".buckets"))
    _, recs = _all_records(out)
    import tensorflow as tf
    seen = set()
    for s in m["shards"]:
        for raw in tf.data.TFRecordDataset(os.path.join(out, s["file"])).as_numpy_iterator():
            f = tf.train.Example.FromString(raw).features.feature
            seen.add((f[S.KEY_SCENE].bytes_list.value[0].decode(),
                      tuple(f[S.KEY_ORIGIN].int64_list.value),
                      f[S.KEY_TRANSFORM].int64_list.value[0]))
    assert len(seen) == m["num_records"]  # every (scene, patch, transform) exactly once
    order = [(r["scene"]) for r in recs]
    assert order != sorted(order)  # globally shuffled
    # Content of one patch: the transform of the crop at its origin.
    raw = next(tf.data.TFRecordDataset(os.path.join(out, m["shards"][0]["file"]))
               .as_numpy_iterator())
    f = tf.train.Example.FromString(raw).features.feature
    name = f[S.KEY_SCENE].bytes_list.value[0].decode()
    y, x = f[S.KEY_ORIGIN].int64_list.value
    d = f[S.KEY_TRANSFORM].int64_list.value[0]
    rec = recs[0]
    want = dihedral_np(stacks[name][0][:, y:y + 16, x:x + 16], d)
    np.testing.assert_array_equal(np.round(rec["ldr"] * 65535), want)


def _cli(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=300)


def test_cli_esbn_patches_and_user_errors(tree, tmp_path):
    root, _ = tree
    out = str(tmp_path / "rec")
    r = _cli("--data", root, "--out", out, "--mode", "patches", "--schema", "esbn",
             "--patch_size", "16", "--stride", "8", "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "[train] shard 1/1 written" in r.stdout and "[test]" in r.stdout
    m = records.read_manifest(os.path.join(out, "train"))
    assert m["schema"] == "esbn" and m["num_records"] == 3 * 2 and m["source"] == root
    assert m["arguments"]["schema"] == "esbn" and m["arguments"]["patch_size"] == 16
    path = os.path.join(out, "train", m["shards"][0]["file"])
    assert S.detect_schema(path)[:2] == (S.SCHEMA_ESBN, "train/")

    # Refuses to overwrite; one line on stderr, exit 1, no traceback.
    r = _cli("--data", root, "--out", out)
    assert r.returncode == 1
    err = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert len(err) == 1 and "not empty" in err[0] and "--overwrite" in err[0]
    assert "Traceback" not in r.stderr
    r = _cli("--data", root, "--out", out, "--overwrite", "--split", "test")
    assert r.returncode == 0, r.stderr
    assert records.read_manifest(os.path.join(out, "test"))["schema"] == "hdrkeras"

    r = _cli("--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o2"))
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    r = _cli("--data", root, "--out", str(tmp_path / "o3"), "--schema", "esbn")
    assert r.returncode == 1 and "patches" in r.stderr and "Traceback" not in r.stderr


def test_cli_without_data_synthesizes_a_default_dataset(tmp_path):
    r = _cli("--synth_train", "2", "--synth_test", "1", "--synth_size", "48x64",
             "--workers", "1", "--split", "all", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "synthesizing" in r.stdout
    assert os.path.isdir(tmp_path / "work" / "data" / "synthetic" / "Training")
    m = records.read_manifest(str(tmp_path / "work" / "records" / "train"))
    assert m["num_records"] == 2 and (m["min_height"], m["min_width"]) == (48, 64)
    assert m["source"] == str(tmp_path / "work" / "data" / "synthetic")
    assert records.read_manifest(str(tmp_path / "work" / "records" / "test"))["num_records"] == 1
