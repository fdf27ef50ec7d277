"""hdrkeras.io: round trips through real files, exposure parsing, and every bad-input error."""

import os

import cv2
import numpy as np
import pytest
from PIL import Image

from hdrkeras import io
from hdrkeras.errors import DataError


# --- LDR ------------------------------------------------------------------------------

def test_png8_round_trip(tmp_path, rng):
    img = rng.random((6, 9, 3)).astype(np.float32)
    io.write_ldr(tmp_path / "a.png", img)
    back = io.read_ldr(tmp_path / "a.png")
    assert back.dtype == np.float32 and back.shape == (6, 9, 3)
    np.testing.assert_allclose(back, np.round(img * 255) / 255, atol=1e-7)


def test_tif16_round_trip_exact_to_one_code(tmp_path, rng):
    img = rng.random((5, 4, 3)).astype(np.float32)
    io.write_ldr(tmp_path / "a.tif", img, bits=16)
    back = io.read_ldr(tmp_path / "a.tif")
    assert np.max(np.abs(back - img)) <= 0.5 / 65535 + 1e-7


def test_read_ldr_channel_order_depth_gray_and_alpha(tmp_path):
    bgr = np.zeros((2, 3, 3), np.uint16)
    bgr[..., 2] = 65535  # red in OpenCV's BGR
    cv2.imwrite(str(tmp_path / "red16.png"), bgr)
    np.testing.assert_array_equal(io.read_ldr(tmp_path / "red16.png")[0, 0], [1, 0, 0])
    gray = np.full((3, 2), 51, np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    np.testing.assert_allclose(io.read_ldr(tmp_path / "g.png"), np.full((3, 2, 3), 0.2), atol=1e-7)
    bgra = np.zeros((2, 2, 4), np.uint8)
    bgra[..., 0], bgra[..., 3] = 255, 10  # blue, nearly transparent
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    np.testing.assert_array_equal(io.read_ldr(tmp_path / "a.png")[0, 0], [0, 0, 1])


def test_jpeg_reads_close(tmp_path):
    img = np.full((16, 16, 3), [0.2, 0.5, 0.8], np.float32)
    io.write_ldr(tmp_path / "a.jpg", img)
    np.testing.assert_allclose(io.read_ldr(tmp_path / "a.jpg"), img, atol=3 / 255)


def test_read_ldr_errors(tmp_path, rng):
    with pytest.raises(DataError, match="not found"):
        io.read_ldr(tmp_path / "missing.png")
    with pytest.raises(DataError, match="extension"):
        io.read_ldr(tmp_path / "x.bmp")
    io.write_ldr(tmp_path / "full.png", rng.random((64, 64, 3)))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="half.png.*cannot decode"):
        io.read_ldr(tmp_path / "half.png")
    (tmp_path / "junk.tif").write_bytes(b"not an image at all")
    with pytest.raises(DataError, match="junk.tif"):
        io.read_ldr(tmp_path / "junk.tif")


def test_write_ldr_errors(tmp_path):
    with pytest.raises(DataError, match="16-bit"):
        io.write_ldr(tmp_path / "a.jpg", np.zeros((2, 2, 3)), bits=16)
    with pytest.raises(DataError, match="non-finite"):
        io.write_ldr(tmp_path / "a.png", np.full((2, 2, 3), np.nan))
    assert not os.listdir(tmp_path)  # nothing half-written


# --- HDR ------------------------------------------------------------------------------

def _hdr_image(rng):
    return (rng.random((7, 5, 3)) * np.array([1.0, 20.0, 0.01])).astype(np.float32)


def test_exr_round_trip_is_exact(tmp_path, rng):
    img = _hdr_image(rng)
    io.write_hdr(tmp_path / "a.exr", img)
    back = io.read_hdr(tmp_path / "a.exr")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, img)


def test_exr_half_round_trip(tmp_path, rng):
    img = _hdr_image(rng) + 1e-3
    io.write_hdr(tmp_path / "h.exr", img, half=True)
    np.testing.assert_allclose(io.read_hdr(tmp_path / "h.exr"), img, rtol=1e-3)


def test_radiance_round_trip_within_rgbe_precision(tmp_path, rng):
    img = _hdr_image(rng)
    io.write_hdr(tmp_path / "a.hdr", img)
    back = io.read_hdr(tmp_path / "a.hdr")
    # RGBE shares one exponent per pixel: error bounded relative to the brightest channel
    peak = img.max(axis=-1, keepdims=True)
    assert np.all(np.abs(back - img) <= peak * 2.0 ** -7)
    assert not np.array_equal(back, img)  # really went through a lossy file


def test_rgb_order_in_hdr_files(tmp_path):
    img = np.zeros((2, 2, 3), np.float32)
    img[..., 0] = 4.0
    for name in ("r.exr", "r.hdr"):
        io.write_hdr(tmp_path / name, img)
        np.testing.assert_allclose(io.read_hdr(tmp_path / name)[0, 0], [4, 0, 0])


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_read_exr_rejects_non_finite(tmp_path, value):
    import OpenEXR
    plane = np.ones((3, 3), np.float32)
    bad = plane.copy()
    bad[1, 1] = value
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                      {"R": plane, "G": bad, "B": plane}) as f:
        f.write(str(tmp_path / "bad.exr"))
    with pytest.raises(DataError, match="bad.exr.*1 non-finite"):
        io.read_hdr(tmp_path / "bad.exr")


def test_write_radiance_refuses_non_finite(tmp_path):
    # RGBE cannot even encode NaN/Inf (OpenCV would silently store 0), so refuse up front.
    img = np.ones((2, 2, 3), np.float32)
    img[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="a.hdr.*non-finite"):
        io.write_hdr(tmp_path / "a.hdr", img)
    assert not os.listdir(tmp_path)


def test_hdr_errors(tmp_path, rng):
    with pytest.raises(DataError, match="not found"):
        io.read_hdr(tmp_path / "none.exr")
    with pytest.raises(DataError, match="extension"):
        io.read_hdr(tmp_path / "a.png")
    io.write_hdr(tmp_path / "full.exr", rng.random((64, 64, 3)).astype(np.float32))
    data = (tmp_path / "full.exr").read_bytes()
    (tmp_path / "cut.exr").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.exr"):
        io.read_hdr(tmp_path / "cut.exr")
    (tmp_path / "junk.hdr").write_bytes(b"#?RADIANCE\ngarbage")
    with pytest.raises(DataError, match="junk.hdr"):
        io.read_hdr(tmp_path / "junk.hdr")
    with pytest.raises(DataError, match="non-finite"):
        io.write_hdr(tmp_path / "w.exr", np.full((2, 2, 3), np.inf, np.float32))
    with pytest.raises(DataError, match="shape"):
        io.write_hdr(tmp_path / "w.exr", np.ones((2, 2), np.float32))
    assert not (tmp_path / "w.exr").exists()


def test_write_hdr_replaces_atomically(tmp_path):
    path = tmp_path / "a.exr"
    io.write_hdr(path, np.ones((2, 2, 3), np.float32))
    with pytest.raises(DataError):
        io.write_hdr(path, np.full((2, 2, 3), np.nan, np.float32))
    np.testing.assert_array_equal(io.read_hdr(path), 1.0)  # old file intact
    assert sorted(os.listdir(tmp_path)) == ["a.exr"]


# --- exposures ------------------------------------------------------------------------

@pytest.mark.parametrize("text,expect", [("0\n2\n4\n", [1, 4, 16]),
                                         ("-2.0\n0\n2\n", [1, 4, 16]),
                                         ("0\n3\n\n", [1, 8])])
def test_read_exposure_txt(tmp_path, text, expect):
    (tmp_path / "exposure.txt").write_text(text)
    out = io.read_exposure_txt(tmp_path / "exposure.txt")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expect)


def test_read_exposure_txt_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        io.read_exposure_txt(tmp_path / "exposure.txt")
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(DataError, match="e.txt.*empty"):
        io.read_exposure_txt(tmp_path / "e.txt")
    (tmp_path / "b.txt").write_text("0\ntwo\n")
    with pytest.raises(DataError, match="b.txt"):
        io.read_exposure_txt(tmp_path / "b.txt")
    (tmp_path / "n.txt").write_text("0\nnan\n")
    with pytest.raises(DataError, match="n.txt.*non-finite"):
        io.read_exposure_txt(tmp_path / "n.txt")


def test_deephdrvideo_exposures_tile_over_frames(tmp_path):
    (tmp_path / "Exposures.txt").write_text("3\n0\n")  # high, low alternation
    p = tmp_path / "Exposures.txt"
    np.testing.assert_allclose(io.read_deephdrvideo_exposures(p), [8, 1])
    np.testing.assert_allclose(io.read_deephdrvideo_exposures(p, num_frames=5), [8, 1, 8, 1, 8])
    (tmp_path / "E3.txt").write_text("-3 0 3")
    np.testing.assert_allclose(io.read_deephdrvideo_exposures(tmp_path / "E3.txt", 4),
                               [1, 8, 64, 1])


def _write_with_exif(path, t, f_number, iso, skip=None):
    """Saves a small JPEG/TIFF whose Exif sub-IFD holds the given tags (as cameras do)."""
    im = Image.new("RGB", (8, 8), (100, 120, 140))
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub.update({0x829A: t, 0x829D: f_number, 0x8827: iso})
    if skip is not None:
        del sub[skip]
    im.save(path, exif=exif.tobytes())


def test_exposures_from_exif_jpeg_and_tiff(tmp_path):
    paths = [tmp_path / "a.jpg", tmp_path / "b.tif", tmp_path / "c.jpg"]
    _write_with_exif(paths[0], 1 / 100, 4.0, 100)
    _write_with_exif(paths[1], 1 / 25, 4.0, 100)  # +2 stops by time
    _write_with_exif(paths[2], 1 / 25, 2.0, 200)  # +2 by aperture, +1 by ISO
    out = io.exposures_from_exif(paths)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [1, 4, 32], rtol=1e-6)
    # normalised to the shortest even when it is not first
    np.testing.assert_allclose(io.exposures_from_exif(paths[::-1]), [32, 4, 1], rtol=1e-6)
    # some writers put the tags in IFD0 instead of the Exif sub-IFD
    Image.new("RGB", (4, 4)).save(tmp_path / "ifd0.tif",
                                  tiffinfo={0x829A: 1 / 50, 0x829D: 4.0, 0x8827: 100})
    np.testing.assert_allclose(io.exposures_from_exif([paths[0], tmp_path / "ifd0.tif"]), [1, 2],
                               rtol=1e-6)


@pytest.mark.parametrize("tag,name", [(0x829A, "ExposureTime"), (0x829D, "FNumber"),
                                      (0x8827, "ISOSpeedRatings")])
def test_exif_missing_tag_names_file_and_tag(tmp_path, tag, name):
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    _write_with_exif(good, 1 / 100, 4.0, 100)
    _write_with_exif(bad, 1 / 100, 4.0, 100, skip=tag)
    with pytest.raises(DataError, match=f"bad.jpg.*{name}"):
        io.exposures_from_exif([good, bad])


def test_exif_errors_without_exif_or_file(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    with pytest.raises(DataError, match="plain.png.*ExposureTime"):
        io.exposures_from_exif([tmp_path / "plain.png"])
    with pytest.raises(DataError, match="not found"):
        io.exposures_from_exif([tmp_path / "gone.jpg"])
    (tmp_path / "x.jpg").write_bytes(b"garbage")
    with pytest.raises(DataError, match="x.jpg"):
        io.exposures_from_exif([tmp_path / "x.jpg"])


def test_validate_exposures():
    out = io.validate_exposures([1, 4, 16], "scene_001", expected_count=3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [1, 4, 16])
    with pytest.raises(DataError, match="scene_001.*increasing"):
        io.validate_exposures([1, 4, 4], "scene_001")
    with pytest.raises(DataError, match="scene_001.*increasing"):
        io.validate_exposures([4, 1, 16], "scene_001")
    with pytest.raises(DataError, match="scene_001.*2 exposures for 3 frames"):
        io.validate_exposures([1, 4], "scene_001", expected_count=3)
    with pytest.raises(DataError, match="positive"):
        io.validate_exposures([0, 4], "s")
    with pytest.raises(DataError, match="non-finite"):
        io.validate_exposures([1, np.inf], "s")
    with pytest.raises(DataError, match="1-D"):
        io.validate_exposures([], "s")
