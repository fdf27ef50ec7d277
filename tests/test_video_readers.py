"""Video readers: each dataset layout written as a tiny tree and read back; bad input."""

import os

import numpy as np
import pytest
from PIL import Image

from hdrkeras.data import deephdrvideo, vimeo, video_folder
from hdrkeras.errors import DataError
from hdrkeras.io.hdr import write_hdr
from hdrkeras.io.images import write_ldr

H, W = 4, 6


def frame(i, h=H, w=W):
    return np.full((h, w, 3), (i + 1) / 16, np.float32)


def write_lines(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def synthetic_tree(root, n=5, evs=("0", "2"), gt_every=1):
    write_lines(root / "scenes_2expo.txt", ["sceneA"])
    d = root / "Images" / "sceneA"
    names = [f"{i:05d}" for i in range(n)]
    write_lines(d / "img_list.txt", names)
    write_lines(d / "Exposures.txt", list(evs))
    for i, nm in enumerate(names):
        write_ldr(d / f"{nm}.tif", frame(i), bits=16)
        if i % gt_every == 0:
            write_hdr(d / f"{nm}.hdr", frame(i) * 3)
    return d


def test_deephdrvideo_synthetic_layout(tmp_path):
    d = synthetic_tree(tmp_path, n=5, gt_every=2)
    (seq,) = deephdrvideo.synthetic_sequences(tmp_path, num_exposures=2)
    assert seq.name == "sceneA" and len(seq) == 5
    np.testing.assert_allclose(seq.exposures, [1, 4, 1, 4, 1])
    assert seq.valid.tolist() == [True, False, True, False, True]
    np.testing.assert_allclose(seq.ldr(3), frame(3), atol=1 / 65535)
    np.testing.assert_allclose(seq.hdr(2), frame(2) * 3, rtol=0.01)
    assert seq.hdr(1) is None
    # the 3-exposure list is another file; wrong Exposures.txt count for 3 exposures
    write_lines(tmp_path / "scenes_3expo.txt", ["sceneA"])
    with pytest.raises(DataError, match=r"Exposures.txt: 2 exposures, expected 3"):
        deephdrvideo.synthetic_sequences(tmp_path, num_exposures=3)
    assert d.exists()


def real_tree(root, n=6, gt=True, evs=("-1", "2")):
    write_lines(root / "scene_all.txt", ["s1"])
    d = root / "s1"
    names = [f"img_{i}.tif" for i in range(n)]
    for i, nm in enumerate(names):
        write_ldr(d / nm, frame(i), bits=16)
    write_lines(d / "Exposures.txt", list(evs))
    if gt:
        lines = []
        for i, nm in enumerate(names):
            if i % 3 == 1:
                write_hdr(d / f"hdr_{i}.hdr", frame(i))
                lines.append(f"{nm} hdr_{i}.hdr")
            else:
                lines.append(f"{nm} None")
        write_lines(d / "img_hdr_list.txt", lines)
    else:
        write_lines(d / "img_list.txt", names)
    return d


def test_deephdrvideo_real_layout_with_and_without_gt(tmp_path):
    real_tree(tmp_path / "dyn", gt=True)
    (seq,) = deephdrvideo.real_sequences(tmp_path / "dyn")
    np.testing.assert_allclose(seq.exposures, [1, 8] * 3)
    assert seq.valid.tolist() == [False, True, False, False, True, False]
    np.testing.assert_allclose(seq.hdr(4), frame(4), rtol=0.01)
    (no_gt,) = deephdrvideo.real_sequences(tmp_path / "dyn", ground_truth=False)
    assert not no_gt.valid.any() and len(no_gt) == 6
    real_tree(tmp_path / "nogt", gt=False, evs=("0", "2", "4"))
    (seq3,) = deephdrvideo.real_sequences(tmp_path / "nogt")
    np.testing.assert_allclose(seq3.exposures, [1, 4, 16, 1, 4, 16])
    assert seq3.period == 3 and not seq3.valid.any()


def test_deephdrvideo_real_bad_input(tmp_path):
    d = real_tree(tmp_path, gt=True)
    os.remove(d / "hdr_1.hdr")
    with pytest.raises(DataError, match=r"ground truth .*hdr_1.hdr is missing"):
        deephdrvideo.real_sequences(tmp_path)
    d = real_tree(tmp_path / "b", gt=False, evs=("0", "1", "2", "3"))
    with pytest.raises(DataError, match=r"Exposures.txt: 4 exposures, expected 2 or 3"):
        deephdrvideo.real_sequences(tmp_path / "b")
    d = real_tree(tmp_path / "c", gt=False)
    write_ldr(d / "img_3.tif", frame(3, h=H + 2), bits=16)
    with pytest.raises(DataError, match=r"img_3.tif is 6x6 but .*img_0.tif is 6x4"):
        deephdrvideo.real_sequences(tmp_path / "c")
    d = real_tree(tmp_path / "d", gt=False)
    (d / "img_2.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(DataError, match=r"img_2.tif is unreadable"):
        deephdrvideo.real_sequences(tmp_path / "d")
    os.remove(d / "img_2.tif")
    with pytest.raises(DataError, match=r"frame .*img_2.tif is missing"):
        deephdrvideo.real_sequences(tmp_path / "d")


def test_tog13_camera_curve_read_and_named_when_absent(tmp_path):
    from scipy import io as scipy_io  # the test extra (pyproject.toml)
    write_lines(tmp_path / "2Exp_scenes.txt", ["Ninja-2Exp-3Stop"])
    d = tmp_path / "Ninja-2Exp-3Stop"
    names = [f"{i:04d}.tif" for i in range(4)]
    for i, nm in enumerate(names):
        write_ldr(d / nm, frame(i), bits=16)
    write_lines(d / "img_list.txt", names)
    write_lines(d / "Exposures.txt", ["0", "3"])
    with pytest.raises(DataError, match=r"BaslerCRF.mat: camera curve file is missing"):
        deephdrvideo.tog13_sequences(tmp_path)
    # a curve that is 2 * code**2 in red, code in green, 3 * code in blue (codes in [0,1])
    codes = np.arange(65536) / 65535.0
    crf = np.stack([2 * codes ** 2, codes, 3 * codes], axis=1)
    scipy_io.savemat(str(tmp_path / "BaslerCRF.mat"), {"BaslerCRF": crf})
    (seq,) = deephdrvideo.tog13_sequences(tmp_path)
    assert not seq.valid.any()
    np.testing.assert_allclose(seq.exposures, [1, 8, 1, 8])
    lin = seq.linearize(seq.ldr(2))
    v = frame(2)[0, 0, 0]
    np.testing.assert_allclose(lin[0, 0], [2 * v ** 2 / 3, v / 3, v], atol=1e-4)
    (gamma,) = deephdrvideo.tog13_sequences(tmp_path, camera_curve="gamma")
    assert gamma.linearize is None


def test_vimeo_septuplets(tmp_path):
    write_lines(tmp_path / "sep_trainlist.txt", ["00001/0001", "00001/0002"])
    write_lines(tmp_path / "sep_testlist.txt", ["00002/0001"])
    for entry in ("00001/0001", "00001/0002", "00002/0001"):
        for i in range(1, 8):
            write_ldr(tmp_path / "sequences" / entry / f"im{i}.png", frame(i))
    train = vimeo.vimeo_sequences(tmp_path, "train")
    assert [s.name for s in train] == ["00001/0001", "00001/0002"]
    s = train[1]
    assert len(s) == 7 and not s.valid.any()
    np.testing.assert_allclose(s.exposures, 1)
    np.testing.assert_allclose(s.ldr(0), frame(1), atol=1 / 255)
    assert [s.name for s in vimeo.vimeo_sequences(tmp_path, "test")] == ["00002/0001"]
    os.remove(tmp_path / "sequences" / "00002/0001" / "im5.png")
    with pytest.raises(DataError, match=r"im5.png is missing"):
        vimeo.vimeo_sequences(tmp_path, "test")


def write_folder(d, n=6, bits=8):
    for i in range(n):
        write_ldr(d / f"frame{i + 1}.png", frame(i), bits=bits)  # frame10 sorts after frame9
    return d


def test_generic_folder_exposure_sources(tmp_path):
    d = write_folder(tmp_path / "seq", n=10)
    s = video_folder.folder_sequence(d, exposures="1,4")
    assert os.path.basename(s.frames[9]) == "frame10.png"
    np.testing.assert_allclose(s.exposures, [1, 4] * 5)
    s = video_folder.folder_sequence(d, exposures=[2, 8, 32])
    np.testing.assert_allclose(s.exposures[:4], [1, 4, 16, 1])
    write_lines(d / "exposures.txt", ["0", "3"])  # EV stops of one period
    np.testing.assert_allclose(video_folder.folder_sequence(d).exposures[:3], [1, 8, 1])
    with pytest.raises(DataError, match=r"4 exposures for 10 frames"):
        video_folder.folder_sequence(d, exposures="1,4,1,4")
    write_lines(d / "bad.txt", ["0", "1", "2", "3"])
    with pytest.raises(DataError, match=r"bad.txt: 4 exposures for 10 frames"):
        video_folder.folder_sequence(d, exposures=str(d / "bad.txt"))


def test_generic_folder_exif_and_ground_truth(tmp_path):
    d = tmp_path / "exif"
    d.mkdir()
    for i, t in enumerate([1 / 400, 1 / 100, 1 / 400]):
        img = Image.fromarray((frame(i) * 255).astype(np.uint8))
        exif = Image.Exif()
        exif[0x8769] = {0x829A: t, 0x829D: 2.8, 0x8827: 100}
        img.save(d / f"f{i}.jpg", exif=exif)
    s = video_folder.folder_sequence(d, exposures="exif")
    np.testing.assert_allclose(s.exposures, [1, 4, 1], rtol=1e-3)
    g = tmp_path / "gt"
    for i in range(2):
        write_hdr(g / f"f{i}.exr", frame(i))
    with pytest.raises(DataError, match=r"ground-truth file .*f2.hdr .*missing"):
        video_folder.folder_sequence(d, exposures="1,4", ground_truth=g)
    write_hdr(g / "f2.hdr", frame(2))
    s = video_folder.folder_sequence(d, exposures="1,4", ground_truth=g)
    assert s.valid.all()
    np.testing.assert_allclose(s.hdr(0), frame(0), atol=1e-6)


def test_dealthdr_tree(tmp_path):
    for i in range(4):
        write_ldr(tmp_path / "blur" / "vid1" / f"{i:05d}.png", frame(i))
        write_ldr(tmp_path / "gt" / "vid1" / f"{i:05d}.png", frame(i) * 0.5)
    (seq,) = video_folder.dealthdr_sequences(tmp_path)
    np.testing.assert_allclose(seq.exposures, [1, 8, 1, 8])
    # official loader: 8-bit ground truth read as code / 255
    np.testing.assert_allclose(seq.hdr(3), np.round(frame(3) * 0.5 * 255) / 255, atol=1e-6)
    os.remove(tmp_path / "gt" / "vid1" / "00002.png")
    with pytest.raises(DataError, match=r"ground-truth file for frame .*00002.png is missing"):
        video_folder.dealthdr_sequences(tmp_path)
