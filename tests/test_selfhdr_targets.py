"""SelfHDR's colour component: alignment, triangle-weight merge, the Training_align tree and
records, and make_selfhdr_targets.py (which must never read ground truth)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.data import alignment, kalantari, pipeline, records, selfhdr_targets, synthesize
from hdrkeras.data import schema as S
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.ops import mu_law, reexpose, remap_bicubic, triangle_weight

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "tfrecord_tools", "make_selfhdr_targets.py")


def _psnr_mu(a, b):
    return 10 * np.log10(1.0 / np.mean((mu_law(a) - mu_law(b)) ** 2))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Three synthetic training scenes with large object and camera motion."""
    root = str(tmp_path_factory.mktemp("selfhdr") / "data")
    synthesize.synthesize_dataset(root, num_train=3, num_test=1, height=96, width=128,
                                  motion="large", seed=5)
    return root


def test_triangle_weight_numpy_and_tensor_agree():
    x = np.linspace(0, 1, 11, dtype=np.float32)
    w = triangle_weight(x)
    np.testing.assert_allclose(w, np.where(x < 0.5, 2 * x, 2 - 2 * x))
    np.testing.assert_allclose(triangle_weight(tf.constant(x)).numpy(), w)


def test_merge_weights_follow_the_paper():
    x = np.array([0.1, 0.25, 0.5, 0.8, 1.0], np.float32)
    w_short, w_ref, w_long = selfhdr_targets.merge_weights(x)
    np.testing.assert_allclose(w_ref, [0.2, 0.5, 1.0, 0.4, 0.0], atol=1e-6)
    np.testing.assert_allclose(w_long, [0.8, 0.5, 0.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(w_short, [0.0, 0.0, 0.0, 0.6, 1.0], atol=1e-6)
    np.testing.assert_allclose(w_short + w_ref + w_long, 1.0, atol=1e-6)


def test_static_stack_merges_to_the_radiance():
    hdr = np.random.default_rng(0).random((16, 20, 3), np.float32) ** 2 * 0.2
    t = np.array([1.0, 4.0, 16.0], np.float32)
    frames = np.stack([reexpose(hdr, ti) for ti in t])
    np.testing.assert_allclose(selfhdr_targets.color_component(frames, t), hdr,
                               rtol=1e-4, atol=1e-6)


def test_remap_bicubic_shifts_and_flags_pixels_that_left():
    img = np.random.default_rng(1).random((10, 12, 3), np.float32)
    flow = np.zeros((10, 12, 2), np.float32)
    flow[..., 0] = 2.0  # out(y, x) = img(y, x + 2)
    out, inside = remap_bicubic(img, flow)
    np.testing.assert_allclose(out[:, :10], img[:, 2:], atol=1e-5)
    assert inside[:, :10].all() and not inside[:, 10:].any()


def test_alignment_undoes_motion_and_fills_from_the_reference(dataset):
    scene = kalantari.list_scenes(dataset, "train")[0]
    ldr, t, gt = scene.load()
    ideal = np.stack([reexpose(gt, ti) for ti in t])
    aligned, inside = alignment.align_to_reference(ldr, t)
    np.testing.assert_array_equal(aligned[1], ldr[1])
    for i in (0, 2):
        before = np.mean((ldr[i] - ideal[i]) ** 2)
        after = np.mean((aligned[i] - ideal[i]) ** 2)
        assert after < 0.35 * before, (i, before, after)
    # Filled pixels are the reference re-exposed to the frame's exposure.
    fill = reexpose(ldr[1] ** 2.2 / t[1], t[0])
    np.testing.assert_allclose(aligned[0][~inside[0]], fill[~inside[0]], atol=1e-6)


def test_color_component_beats_merging_unaligned_frames(dataset):
    for scene in kalantari.list_scenes(dataset, "train"):
        ldr, t, gt = scene.load()
        y_color = selfhdr_targets.build_targets(ldr, t)["y_color"]
        assert np.all(np.isfinite(y_color)) and y_color.min() >= 0
        unaligned = selfhdr_targets.color_component(ldr, t)
        assert _psnr_mu(y_color, gt) > _psnr_mu(unaligned, gt) + 3.0, scene.name


def test_only_three_frame_stacks():
    with pytest.raises(ConfigError, match="3 frames"):
        selfhdr_targets.color_component(np.zeros((5, 4, 4, 3)), [1, 2, 4, 8, 16])


def _poison_ground_truth(root):
    """Replaces every training GT with bytes no HDR reader accepts."""
    for scene in os.listdir(os.path.join(root, "Training")):
        with open(os.path.join(root, "Training", scene, "HDRImg.hdr"), "wb") as f:
            f.write(b"not an image")


def test_cli_builds_tree_and_records_without_reading_ground_truth(dataset, tmp_path):
    import shutil

    root = str(tmp_path / "data")
    shutil.copytree(dataset, root)
    clean = {s.name: s.load() for s in kalantari.list_scenes(root, "train")}
    _poison_ground_truth(root)
    out = str(tmp_path / "records")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, SCRIPT, "--data", root, "--out", out], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]

    from hdrkeras import io
    for name, (ldr, t, gt) in clean.items():
        folder = os.path.join(root, "Training_align", name)
        assert sorted(os.listdir(folder)) == sorted(
            [os.path.basename(p) for p in kalantari.list_scenes(root, "train", ground_truth=False)
             [0].frame_paths] + ["HDRImg.hdr", "exposure.txt"])
        y_color = io.read_hdr(os.path.join(folder, "HDRImg.hdr"))
        assert _psnr_mu(y_color, gt) > _psnr_mu(selfhdr_targets.color_component(ldr, t), gt)

    manifest = records.read_manifest(out)
    assert manifest["targets"] == ["y_color"] and not manifest["has_hdr"]
    recs = pipeline.read_records_numpy(os.path.join(out, manifest["shards"][0]["file"]))
    assert len(recs) == 3
    for rec in recs:
        ldr, t, gt = clean[rec["scene"]]
        np.testing.assert_allclose(rec["ldr"], ldr, atol=1e-4)  # unaligned frames
        assert not rec["has_hdr"] and not rec["hdr"].any()
        expected = selfhdr_targets.build_targets(ldr, t)
        np.testing.assert_allclose(rec["y_color"], expected["y_color"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rec["ldr_aligned"], expected["ldr_aligned"], atol=2e-5)


def test_cli_refuses_to_clobber_and_reuses_an_existing_tree(dataset, tmp_path):
    import shutil

    root = str(tmp_path / "data")
    shutil.copytree(dataset, root)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)

    def run(*args):
        return subprocess.run([sys.executable, SCRIPT, "--data", root, *args], env=env,
                              capture_output=True, text=True, timeout=300)

    assert run("--out", "").returncode == 0
    again = run("--out", "")
    assert again.returncode == 1 and "Training_align already exists" in again.stderr
    assert "Traceback" not in again.stderr
    reuse = run("--out", str(tmp_path / "rec"), "--use_existing")
    assert reuse.returncode == 0, reuse.stderr[-2000:]
    assert records.read_manifest(str(tmp_path / "rec"))["num_records"] == 3
    os.remove(os.path.join(root, "Training_align", "002", "HDRImg.hdr"))
    broken = run("--out", str(tmp_path / "rec2"), "--use_existing")
    assert broken.returncode == 1
    assert "002" in broken.stderr and "HDRImg.hdr is missing" in broken.stderr


def test_target_crops_stay_aligned_with_the_frames(tmp_path):
    """Targets go through the same crops and rotations/flips as the frames."""
    rng = np.random.default_rng(2)
    ldr = rng.random((3, 40, 48, 3), np.float32)
    t = np.array([1.0, 4.0, 16.0], np.float32)
    target = (ldr[1] ** 2.2 / t[1]).astype(np.float32)
    out = str(tmp_path / "rec")
    records.write_example_records(
        [{"scene": "a", "ldr": ldr, "exposures": t, "targets": {"y_color": target},
          "ldr_aligned": ldr[::-1]}], out)
    info = pipeline.inspect_records(out)
    assert info["targets"] == ("y_color",) and info["has_aligned"] and not info["has_hdr"]
    for augment in (True, False):
        ds = pipeline.train_dataset(out, 8, 16, augment=augment, seed=3, deterministic=True)
        batch = next(iter(ds))
        assert "hdr" not in batch and batch["y_color"].shape == (8, 16, 16, 3)
        ref = batch["ldr"][:, 1].numpy()
        np.testing.assert_allclose(batch["y_color"].numpy(), ref ** 2.2 / 4.0, atol=1e-4)
    scene = next(iter(pipeline.eval_dataset(out)))
    np.testing.assert_allclose(scene["ldr_aligned"][0].numpy(), ldr[::-1], atol=2e-5)
    np.testing.assert_allclose(scene["y_color"][0].numpy(), target)


def test_example_records_check_their_input(tmp_path):
    ldr = np.zeros((3, 8, 8, 3), np.float32)
    t = [1.0, 2.0, 4.0]
    with pytest.raises(DataError, match="targets"):
        records.write_example_records(
            [{"scene": "a", "ldr": ldr, "exposures": t, "targets": {"y_color": ldr[0]}},
             {"scene": "b", "ldr": ldr, "exposures": t}], str(tmp_path / "r"))
    assert not os.path.exists(tmp_path / "r")
    with pytest.raises(DataError, match="no scenes"):
        records.write_example_records([], str(tmp_path / "r"))
