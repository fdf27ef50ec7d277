"""Synthetic HDR video: exposure patterns, per-frame ground truth, blur, noise, layouts."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hdrkeras.data import synthesize_video as sv
from hdrkeras.data.deephdrvideo import synthetic_sequences
from hdrkeras.data.video_folder import dealthdr_sequences
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.io.hdr import write_hdr
from hdrkeras.ops import response

S = 64


def clip(seed=0, n=5, **kw):
    return sv.synthesize_clip(seed, n, S, S, **kw)


def test_deterministic_by_seed():
    a, b, c = clip(3), clip(3), clip(4)
    np.testing.assert_array_equal(a["ldr"], b["ldr"])
    np.testing.assert_array_equal(a["hdr"], b["hdr"])
    assert not np.array_equal(a["ldr"], c["ldr"])


@pytest.mark.parametrize("kw, pattern", [
    (dict(ratio=4, phase=0), [1, 4, 1, 4, 1]),
    (dict(ratio=8, phase=1), [8, 1, 8, 1, 8]),
    (dict(num_exposures=3, ratio=4, phase=2), [16, 1, 4, 16, 1]),
])
def test_exposure_patterns(kw, pattern):
    c = clip(**kw)
    np.testing.assert_allclose(c["exposures"], pattern)
    assert c["ldr"].shape == c["hdr"].shape == (5, S, S, 3)


def test_profile_validation():
    with pytest.raises(ConfigError, match="ratio must be 4 or 8"):
        clip(ratio=2)
    with pytest.raises(ConfigError, match="1/4/16"):
        clip(num_exposures=3, ratio=8)
    with pytest.raises(ConfigError, match="bits must be 8 or 16"):
        clip(bits=12)


def _rel_error(c, k, gt_index):
    """Mean |linearised frame k - ground truth| over pixels that are well exposed."""
    t = c["exposures"][k]
    lin = response.ldr_to_linear(c["ldr"][k]) / t
    gt = c["hdr"][gt_index]
    ok = (c["ldr"][k] > 0.15) & (c["ldr"][k] < 0.9)
    return float(np.abs(lin - gt)[ok].mean() / gt[ok].mean())


def test_ground_truth_is_in_each_frames_own_coordinates():
    c = clip(1, n=7, motion="large", iso=100, ratio=4, phase=0)
    for k in (2, 4):  # short frames: little blur, low noise at ISO 100
        own = _rel_error(c, k, k)
        other = _rel_error(c, k, k - 2)
        assert own < 0.05, own
        assert other > 2 * own, (own, other)


def test_long_frames_blur_more():
    c = clip(2, n=6, motion="large", iso=100, ratio=8, phase=0, duty=1.0)
    errors = {1.0: [], 8.0: []}
    for k in range(1, 5):
        t, gt = float(c["exposures"][k]), c["hdr"][k]
        lin = response.ldr_to_linear(c["ldr"][k]) / t
        # where the scene moves between the neighbouring instants, and the frame is exposed
        moving = np.abs(c["hdr"][k + 1] - c["hdr"][k - 1]).max(-1) > 0.3 * gt.mean()
        ok = (c["ldr"][k] > 0.05) & (c["ldr"][k] < 0.95) & moving[..., None]
        errors[t].append(np.abs(lin - gt)[ok].mean() / gt[ok].mean())
    assert np.mean(errors[8.0]) > 2.5 * np.mean(errors[1.0]), errors


def test_noise_grows_with_iso_and_bits_quantise():
    lo = clip(5, motion="none", iso=100, bits=16, phase=0)
    hi = clip(5, motion="none", iso=6400, bits=8, phase=0)
    np.testing.assert_array_equal(lo["hdr"], hi["hdr"])  # same scene, other sensor
    ref = response.reexpose(lo["hdr"][0], 1.0)
    ok = (ref > 0.2) & (ref < 0.8)
    assert np.std((hi["ldr"][0] - ref)[ok]) > 3 * np.std((lo["ldr"][0] - ref)[ok])
    np.testing.assert_allclose(hi["ldr"] * 255, np.round(hi["ldr"] * 255), atol=1e-3)


def test_default_layout_reads_back(tmp_path):
    summary = sv.synthesize_video_dataset(tmp_path, num_clips=2, num_frames=5, height=S,
                                          width=S, seed=7)
    seqs = synthetic_sequences(tmp_path, 2)
    assert [s.name for s in seqs] == summary["clips"]
    # phase varies per clip: clip 0 starts short, clip 1 long
    np.testing.assert_allclose(seqs[0].exposures, [1, 4, 1, 4, 1])
    np.testing.assert_allclose(seqs[1].exposures, [4, 1, 4, 1, 4])
    again = sv.synthesize_clip(np.random.default_rng(sv.clip_seed(7, 1)), 5, S, S, phase=1)
    assert seqs[1].valid.all()
    np.testing.assert_allclose(seqs[1].ldr(3), again["ldr"][3], atol=1e-6)
    # RGBE: an 8-bit mantissa shared by the pixel's channels, so the error of a channel is
    # bounded by the pixel's largest channel / 128, not by its own value.
    got, want = seqs[1].hdr(3), again["hdr"][3]
    assert np.all(np.abs(got - want) <= want.max(-1, keepdims=True) / 128 + 1e-6)
    assert sv.read_synthetic_video(tmp_path)[1].name == "clip_001"


def test_dealthdr_profile_layout_reads_back(tmp_path):
    sv.synthesize_video_dataset(tmp_path, num_clips=1, num_frames=4, height=S, width=S,
                                profile="dealthdr")
    assert sorted(os.listdir(tmp_path)) == ["blur", "gt", "synthesis.json"]
    (seq,) = dealthdr_sequences(tmp_path)
    np.testing.assert_allclose(seq.exposures, [1, 8, 1, 8])
    assert seq.hdr(1).dtype == np.float32 and seq.frames[0].endswith(".png")
    ref = sv.synthesize_clip(np.random.default_rng(sv.clip_seed(0, 0)), 4, S, S, "dealthdr")
    np.testing.assert_allclose(seq.ldr(1), ref["ldr"][1], atol=1e-6)
    assert json.loads((tmp_path / "synthesis.json").read_text())["profile"]["iso"] == 1600


def test_user_hdr_frame_sequence(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.random((40, 50, 3)).astype(np.float32) * 3
    for i in range(6):
        write_hdr(tmp_path / f"src{i}.exr", np.roll(base, i, axis=1))
    c = sv.synthesize_clip(0, 5, 32, 32, hdr_frames=str(tmp_path), motion="none")
    assert c["kind"] == "source" and np.isfinite(c["hdr"]).all()
    with pytest.raises(DataError, match="6 frames, fewer than the 7 frames"):
        sv.synthesize_clip(0, 7, 32, 32, hdr_frames=str(tmp_path))


def test_cli_writes_clips_and_strip(tmp_path):
    out, png = tmp_path / "clips", tmp_path / "strip.png"
    env = dict(os.environ, PYTHONPATH=os.getcwd(), TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-m", "hdrkeras.data.synthesize_video", "--out",
                        str(out), "--clips", "1", "--frames", "3", "--height", "32", "--width",
                        "32", "--strip_png", str(png)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert png.is_file() and len(synthetic_sequences(out, 2)) == 1
