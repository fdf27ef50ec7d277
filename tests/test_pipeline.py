"""tf.data pipelines: shapes, crop alignment, augmentation, determinism, hooks, errors."""

import os

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.data import pipeline, records
from hdrkeras.data import schema as S
from hdrkeras.data.scenes import Scene
from hdrkeras.data.testing import coordinate_scene, random_scene, write_kalantari
from hdrkeras.errors import ConfigError, RecordError

H, W = 40, 56


def _write_shard(path, payloads):
    with tf.io.TFRecordWriter(str(path)) as w:
        for p in payloads:
            w.write(p)
    return str(path)


@pytest.fixture(scope="module")
def coord_records(tmp_path_factory):
    """Three coordinate scenes (different sizes) in one records folder with a manifest."""
    d = tmp_path_factory.mktemp("coord")
    root = str(d / "data")
    stacks = {}
    for i, (h, w) in enumerate(((H, W), (H + 8, W - 8), (H, W + 4))):
        ldr, hdr = coordinate_scene(h, w)
        hdr[..., 2] = i + 1  # GT channel 2 tells the scene apart (small ints: exact in RGBE)
        stacks[f"s{i}"] = (ldr, (0, 1, 2), hdr)
    write_kalantari(root, stacks, "Training")
    from hdrkeras.data import kalantari
    out = str(d / "rec")
    records.write_records(kalantari.list_scenes(root, "train"), out, shard_size=2)
    return out, root


def _check_aligned(batch, p):
    ldr = np.round(batch["ldr"].numpy() * 65535)  # [B,N,p,p,3]: ch0 = y, ch1 = x, ch2 = frame
    hdr = batch["hdr"].numpy()
    assert ldr.shape[2:] == (p, p, 3) and hdr.shape[1:] == (p, p, 3)
    for b in range(ldr.shape[0]):
        for i in range(ldr.shape[1]):
            np.testing.assert_array_equal(ldr[b, i, ..., :2], hdr[b, ..., :2])  # frames == GT
            assert np.all(ldr[b, i, ..., 2] == i)  # frame order kept
        ys, xs = hdr[b, ..., 0], hdr[b, ..., 1]
        # a p x p window of the scene, possibly rotated/flipped: p distinct rows and columns
        assert len(np.unique(ys)) == p and len(np.unique(xs)) == p
        assert ys.max() - ys.min() == p - 1 and xs.max() - xs.min() == p - 1


def _transform_of(hdr):
    """Identifies the dihedral transform of a coordinate crop (hdr [p,p,3])."""
    y, x = hdr[..., 0], hdr[..., 1]
    transposed = y[0, 0] == y[1, 0]  # y changes along columns
    a, b = (x, y) if transposed else (y, x)
    return (bool(transposed), bool(a[1, 0] < a[0, 0]), bool(b[0, 1] < b[0, 0]))


def test_train_dataset_shapes_alignment_and_augmentation(coord_records):
    out, _ = coord_records
    ds = pipeline.train_dataset(out, 8, 16, seed=3, deterministic=True)
    assert ds.element_spec["ldr"].shape.as_list() == [8, 3, 16, 16, 3]
    assert ds.element_spec["exposures"].shape.as_list() == [8, 3]
    assert ds.element_spec["hdr"].shape.as_list() == [8, 16, 16, 3]
    transforms, scenes = set(), set()
    for batch in ds.take(6):
        assert batch["ldr"].dtype == tf.float32 and batch["hdr"].dtype == tf.float32
        assert 0.0 <= float(tf.reduce_min(batch["ldr"])) and float(tf.reduce_max(batch["ldr"])) <= 1
        np.testing.assert_allclose(batch["exposures"].numpy(), [[1, 2, 4]] * 8)
        _check_aligned(batch, 16)
        for h in batch["hdr"].numpy():
            transforms.add(_transform_of(h))
            scenes.add(int(h[0, 0, 2]))
    assert len(transforms) == 8  # all rotations/flips occur
    assert scenes == {1, 2, 3}


def test_without_augmentation_crops_are_upright(coord_records):
    out, _ = coord_records
    ds = pipeline.train_dataset(out, 4, 12, augment=False, seed=0, crops_per_scene=3)
    for batch in ds.take(3):
        _check_aligned(batch, 12)
        for h in batch["hdr"].numpy():
            assert _transform_of(h) == (False, False, False)
            np.testing.assert_array_equal(h[:, 0, 0], h[0, 0, 0] + np.arange(12))


def test_determinism_with_seed(coord_records):
    out, _ = coord_records

    def first(seed, n=3):
        ds = pipeline.train_dataset(out, 4, 16, seed=seed, deterministic=True, rgb_permute=True)
        return [b["hdr"].numpy() for b in ds.take(n)]

    a, b, c = first(7), first(7), first(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


def test_rgb_permute_and_hook(coord_records):
    out, _ = coord_records

    def hook(ex):
        ex = dict(ex)
        ex["hdr_in"] = ex["ldr"] ** 2.2 / ex["exposures"][:, None, None, None]
        return ex

    ds = pipeline.train_dataset(out, 8, 8, rgb_permute=True, hook=hook, seed=1, augment=False,
                                crops_per_scene=8)
    perms = set()
    for batch in ds.take(4):
        assert batch["hdr_in"].shape == (8, 3, 8, 8, 3)
        ldr = np.round(batch["ldr"].numpy() * 65535)
        hdr = batch["hdr"].numpy()
        for b in range(8):
            # frame channel (0,1,2 per frame) marks where channel 2 went; GT marks it by >= 1
            c_ldr = [c for c in range(3) if np.all(ldr[b, 1, ..., c] == 1)]
            c_hdr = [c for c in range(3) if np.all(hdr[b, ..., c] == hdr[b, 0, 0, c])
                     and hdr[b, 0, 0, c] in (1, 2, 3)]
            assert c_ldr and c_ldr[-1] in c_hdr
            perms.add(c_ldr[-1])
    assert len(perms) > 1


def test_patch_records_and_esbn_records(tmp_path):
    rng = np.random.default_rng(0)
    scenes = {}
    for i in range(2):
        ldr, hdr = random_scene(rng, 24, 24)
        scenes[f"{i}"] = (ldr, (0, 2, 4), hdr)
    root = write_kalantari(str(tmp_path / "d"), scenes)
    from hdrkeras.data import kalantari
    sc = kalantari.list_scenes(root, "train")
    for schema in ("hdrkeras", "esbn"):
        out = str(tmp_path / schema)
        records.write_records(sc, out, mode="patches", schema=schema, patch_size=16, stride=8,
                              augment=True)
        ds = pipeline.train_dataset(out, 4, 16, seed=0)
        batch = next(iter(ds))
        assert batch["ldr"].shape == (4, 3, 16, 16, 3) and batch["hdr"].shape == (4, 16, 16, 3)
        np.testing.assert_allclose(batch["exposures"].numpy(), [[1, 4, 16]] * 4, rtol=1e-6)
        # smaller crops of the 16x16 patches
        assert next(iter(pipeline.train_dataset(out, 2, 8)))["ldr"].shape == (2, 3, 8, 8, 3)


def test_eval_dataset_from_records_and_from_root(coord_records, tmp_path):
    out, root = coord_records
    got = list(pipeline.eval_dataset(out))
    assert sorted(b["scene"].numpy()[0].decode() for b in got) == ["s0", "s1", "s2"]
    for b in got:
        assert b["ldr"].shape[:2] == (1, 3) and b["hdr"].shape[0] == 1
        np.testing.assert_array_equal(np.round(b["ldr"].numpy()[0, 0, ..., :2] * 65535),
                                      b["hdr"].numpy()[0, ..., :2])  # whole, uncropped
    from_root = list(pipeline.eval_dataset(root, split="train"))
    assert [b["scene"].numpy()[0].decode() for b in from_root] == ["s0", "s1", "s2"]
    assert from_root[1]["ldr"].shape == (1, 3, H + 8, W - 8, 3)

    bracket_dir = tmp_path / "br"
    from hdrkeras import io
    os.makedirs(bracket_dir)
    for j, ev in enumerate((0, 1, 2)):
        io.write_ldr(str(bracket_dir / f"{j}.png"), np.full((6, 8, 3), 0.2 * (j + 1)))
    (bracket_dir / "exposure.txt").write_text("0\n1\n2\n")
    (b,) = list(pipeline.eval_dataset(str(bracket_dir)))
    assert "hdr" not in b and b["ldr"].shape == (1, 3, 6, 8, 3)


def test_pipeline_user_errors(coord_records, tmp_path):
    out, _ = coord_records
    with pytest.raises(ConfigError, match="patch_size 64 is larger"):
        pipeline.train_dataset(out, 2, 64)
    with pytest.raises(ConfigError, match="3 frames"):
        pipeline.train_dataset(out, 2, 8, num_frames=5)
    with pytest.raises(RecordError, match="no manifest.json and no"):
        pipeline.train_dataset(str(tmp_path), 2, 8)

    # A shard truncated after the manifest was written.
    m = records.read_manifest(out)
    copy = tmp_path / "copy"
    os.makedirs(copy)
    for f in os.listdir(out):
        data = open(os.path.join(out, f), "rb").read()
        if f == m["shards"][0]["file"]:
            data = data[:-10]
        (copy / f).write_bytes(data)
    msg = m["shards"][0]["file"] + r" is \d+ bytes but its manifest says \d+ \(truncated"
    with pytest.raises(RecordError, match=msg):
        pipeline.train_dataset(str(copy), 2, 8)
    # Without a manifest, the framing scan finds it.
    with pytest.raises(RecordError, match="truncated"):
        pipeline.train_dataset([str(copy / m["shards"][0]["file"])], 2, 8)

    foreign = tf.train.Example(features=tf.train.Features(feature={
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"]))}))
    bad = _write_shard(tmp_path / "foreign.tfrecord", [foreign.SerializeToString()])
    with pytest.raises(RecordError, match="foreign.tfrecord is not an hdrkeras"):
        pipeline.train_dataset([os.path.join(out, m["shards"][0]["file"]), bad], 2, 8)
    with pytest.raises(RecordError, match="foreign.tfrecord"):
        pipeline.eval_dataset(bad)


def test_gt_free_records_have_no_hdr_key(tmp_path):
    ldr, _ = coordinate_scene(20, 20)
    path = _write_shard(tmp_path / "nogt.tfrecord",
                        [S.encode_example(ldr, [1, 2, 4], None, scene="x")] * 2)
    batch = next(iter(pipeline.train_dataset(path, 2, 8, seed=0)))
    assert set(batch) == {"ldr", "exposures"}
