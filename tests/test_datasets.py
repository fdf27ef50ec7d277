"""Scene readers: Kalantari17 / SCTNet layouts, generic bracket folders, and bad inputs."""

import os

import numpy as np
import pytest

from hdrkeras import io
from hdrkeras.data import bracket, kalantari
from hdrkeras.data.scenes import Scene
from hdrkeras.data.testing import random_scene, write_scene
from hdrkeras.errors import ConfigError, DataError


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _scene(rng, root, rel, h=24, w=36, evs=(0, 2, 4), **kw):
    ldr, hdr = random_scene(rng, h, w, evs)
    write_scene(os.path.join(root, rel), ldr, evs, hdr, **kw)
    return ldr, hdr


def test_kalantari_train_and_test_layouts(tmp_path, rng):
    root = str(tmp_path)
    ldr, hdr = _scene(rng, root, "Training/001", frame_names=["262A0898.tif", "262A0899.tif",
                                                             "262A0900.tif"])
    _scene(rng, root, "Training/002")
    _scene(rng, root, "Test/EXTRA/001")
    _scene(rng, root, "Test/PAPER/BarbequeDay")
    train = kalantari.list_scenes(root, "train")
    assert [s.name for s in train] == ["001", "002"]
    assert [os.path.basename(p) for p in train[0].frame_paths] == [
        "262A0898.tif", "262A0899.tif", "262A0900.tif"]
    test = kalantari.list_scenes(root, "test")
    assert [s.name for s in test] == ["EXTRA/001", "PAPER/BarbequeDay"]
    assert all(s.split == "test" for s in test)

    got_ldr, t, got_hdr = train[0].load()
    assert got_ldr.dtype == np.float32 and got_ldr.shape == (3, 24, 36, 3)
    np.testing.assert_array_equal(np.round(got_ldr * 65535).astype(np.uint16), ldr)
    np.testing.assert_allclose(t, [1, 4, 16])
    assert got_hdr.shape == (24, 36, 3)
    # RGBE keeps 8 bits of mantissa relative to the brightest channel of each pixel.
    assert np.all(np.abs(got_hdr - hdr) <= hdr.max(-1, keepdims=True) / 100 + 1e-7)


def test_flat_test_folder_and_sctnet_sizes(tmp_path, rng):
    root = str(tmp_path)
    # SCTNet's test scenes can be 1496 wide instead of 1500: sizes come from the files.
    _scene(rng, root, "Test/scene_a", h=20, w=30, evs=(-2, 0, 2))
    _scene(rng, root, "Test/scene_b", h=21, w=29)
    scenes = kalantari.list_scenes(root, "test", dataset="sctnet")
    assert [s.name for s in scenes] == ["scene_a", "scene_b"]
    ldr, t, hdr = scenes[0].load()
    assert ldr.shape == (3, 20, 30, 3) and hdr.shape == (20, 30, 3)
    np.testing.assert_allclose(t, [1, 4, 16])  # EV -2,0,2 -> shortest = 1
    assert scenes[1].load()[0].shape == (3, 21, 29, 3)


def test_sctnet_cropped_subset_with_label_hdr(tmp_path, rng):
    root = str(tmp_path)
    ldr, hdr = random_scene(rng, 16, 16)
    write_scene(os.path.join(root, "sig17_training_crop128_stride64", "000000"), ldr, (0, 2, 4),
                hdr, frame_names=["0.tif", "1.tif", "2.tif"], gt_name="label.hdr")
    scenes = kalantari.list_scenes(root, "train", dataset="sctnet",
                                   subset="sig17_training_crop128_stride64")
    assert len(scenes) == 1 and scenes[0].hdr_path.endswith("label.hdr")
    with pytest.raises(DataError, match="HDRImg.hdr"):
        kalantari.list_scenes(root, "train", dataset="kalantari",
                              subset="sig17_training_crop128_stride64")


def test_missing_root_and_empty_split(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        kalantari.list_scenes(str(tmp_path / "nope"), "train")
    with pytest.raises(DataError, match="Training"):
        kalantari.list_scenes(str(tmp_path), "train")
    os.makedirs(tmp_path / "Training")
    with pytest.raises(DataError, match="no scenes"):
        kalantari.list_scenes(str(tmp_path), "train")
    with pytest.raises(ConfigError):
        kalantari.list_scenes(str(tmp_path), "val")


def test_missing_exposure_txt(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/007")
    os.unlink(tmp_path / "Training/007/exposure.txt")
    with pytest.raises(DataError, match=r"scene 007: .*exposure.txt is missing"):
        kalantari.list_scenes(str(tmp_path), "train")


def test_missing_gt(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/003")
    os.unlink(tmp_path / "Training/003/HDRImg.hdr")
    with pytest.raises(DataError, match=r"scene 003: ground truth HDRImg.hdr"):
        kalantari.list_scenes(str(tmp_path), "train")


def test_two_frames_instead_of_three(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/004")
    os.unlink(tmp_path / "Training/004/002.tif")
    with pytest.raises(DataError, match=r"scene 004: expected 3 .tif frames.*found 2"):
        kalantari.list_scenes(str(tmp_path), "train")


def test_frame_size_mismatch(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/005")
    io.write_ldr(str(tmp_path / "Training/005/001.tif"), np.zeros((24, 35, 3)), bits=16)
    (scene,) = kalantari.list_scenes(str(tmp_path), "train")
    msg = r"scene 005: frame .*001.tif is 35x24 but .*000.tif is 36x24"
    with pytest.raises(DataError, match=msg):
        scene.load()


def test_gt_size_mismatch(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/006")
    io.write_hdr(str(tmp_path / "Training/006/HDRImg.hdr"), np.ones((20, 36, 3), np.float32))
    (scene,) = kalantari.list_scenes(str(tmp_path), "train")
    with pytest.raises(DataError, match=r"scene 006: ground truth .*HDRImg.hdr is 36x20"):
        scene.load()


def test_non_increasing_exposures(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/008", evs=(0, 2, 4))
    with open(tmp_path / "Training/008/exposure.txt", "w") as f:
        f.write("0\n4\n2\n")
    (scene,) = kalantari.list_scenes(str(tmp_path), "train")
    with pytest.raises(DataError, match=r"scene 008 .*strictly increasing"):
        scene.load()


def test_exposure_count_mismatch(tmp_path, rng):
    _scene(rng, str(tmp_path), "Training/009")
    with open(tmp_path / "Training/009/exposure.txt", "w") as f:
        f.write("0\n2\n")
    (scene,) = kalantari.list_scenes(str(tmp_path), "train")
    with pytest.raises(DataError, match=r"scene 009 .*2 exposures for 3 frames"):
        scene.load()


def test_nan_in_ground_truth(tmp_path, rng):
    # Radiance RGBE cannot hold NaN, so the non-finite GT is an OpenEXR file.
    import OpenEXR
    ldr, hdr = random_scene(rng, 8, 8)
    write_scene(str(tmp_path / "s"), ldr, (0, 2, 4), None)
    hdr[3, 4, 1] = np.nan
    exr = str(tmp_path / "s" / "gt.exr")
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                      {c: np.ascontiguousarray(hdr[..., i]) for i, c in enumerate("RGB")}) as f:
        f.write(exr)
    scene = Scene("nan_scene", "train", sorted(str(p) for p in (tmp_path / "s").glob("*.tif")),
                  exposure_path=str(tmp_path / "s" / "exposure.txt"), hdr_path=exr)
    with pytest.raises(DataError, match=r"scene nan_scene: .*gt.exr.*non-finite"):
        scene.load()


def test_bracket_folder_with_exposure_txt_sorts_by_exposure(tmp_path, rng):
    ldr, _ = random_scene(rng, 10, 12, (0, 1, 3))
    folder = tmp_path / "bracket"
    os.makedirs(folder)
    # file names in a different order than exposures: c (EV 0), a (EV 3), b (EV 1)
    for name, frame in (("c.png", ldr[0]), ("a.png", ldr[2]), ("b.png", ldr[1])):
        io.write_ldr(str(folder / name), frame.astype(np.float32) / 65535, bits=16)
    with open(folder / "exposure.txt", "w") as f:
        f.write("3\n1\n0\n")  # sorted names a, b, c
    scene = bracket.bracket_scene(str(folder))
    assert [os.path.basename(p) for p in scene.frame_paths] == ["c.png", "b.png", "a.png"]
    got, t, hdr = scene.load()
    assert hdr is None
    np.testing.assert_allclose(t, [1, 2, 8])
    np.testing.assert_array_equal(np.round(got * 65535).astype(np.uint16), ldr)


def test_bracket_folder_from_exif(tmp_path):
    from PIL import Image
    folder = tmp_path / "exif"
    os.makedirs(folder)
    for name, t in (("x.jpg", 1 / 30), ("y.jpg", 1 / 250), ("z.jpg", 1 / 60)):
        exif = Image.Exif()
        ifd = exif.get_ifd(0x8769)
        ifd[0x829A] = t  # ExposureTime
        ifd[0x8827] = 100  # ISO
        ifd[0x829D] = 4.0  # FNumber
        Image.new("RGB", (8, 6), (128, 128, 128)).save(folder / name, exif=exif)
    scene = bracket.bracket_scene(str(folder))
    assert [os.path.basename(p) for p in scene.frame_paths] == ["y.jpg", "z.jpg", "x.jpg"]
    ldr, t, _ = scene.load()
    assert ldr.shape == (3, 6, 8, 3)
    np.testing.assert_allclose(t, [1, 250 / 60, 250 / 30], rtol=1e-3)


def test_bracket_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        bracket.bracket_scene(str(tmp_path / "none"))
    os.makedirs(tmp_path / "one")
    io.write_ldr(str(tmp_path / "one" / "a.png"), np.zeros((4, 4, 3)))
    with pytest.raises(DataError, match="at least 2 images"):
        bracket.bracket_scene(str(tmp_path / "one"))
