"""Realism of the synthetic scenes: statistics of the default set pinned to the ranges
documented in docs/synthetic_data.md, and the statistics themselves checked on images with
known answers."""

import io

import numpy as np
import pytest

from hdrkeras.data import procedural, scene_stats, synthesize as syn
from hdrkeras.io import write_hdr

# The first scenes of the default training set (seed 0), at the default size.
NUM_SCENES = 8


@pytest.fixture(scope="module")
def default_set():
    out = []
    for i in range(NUM_SCENES):
        rng = np.random.default_rng(syn._scene_seed(0, 0, i))
        out.append(syn.synthesize_scene(rng, syn.DEFAULT_HEIGHT, syn.DEFAULT_WIDTH)["hdr"])
    return out


@pytest.fixture(scope="module")
def summary(default_set):
    return scene_stats.summarize([scene_stats.image_stats(h) for h in default_set])


# Documented targets (docs/synthetic_data.md, "Calibration"): median over the set.
TARGETS = {
    "saturation": (0.10, 0.30),
    "illuminant_cast": (0.03, 0.25),
    "dr_log10": (3.5, 6.0),
    "clipped": (0.05, 0.40),
    "spectrum_slope": (-3.3, -1.7),
    "gradient_kurtosis": (6.0, 100.0),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_default_set_medians_in_documented_ranges(summary, name):
    lo, hi = TARGETS[name]
    median = summary[name][0]
    assert lo <= median <= hi, (name, summary[name])


def test_default_set_has_colour_spread_and_light_sources(default_set, summary):
    sat = summary["saturation"]
    assert sat[1] >= 0.02 and sat[2] <= 0.8, sat  # no grey world, no cartoon
    assert sat[2] - sat[1] > 0.1, sat  # scenes differ in colourfulness
    lights = [scene_stats.light_fraction(h) > 0 for h in default_set]
    assert 0.2 <= np.mean(lights), lights


def test_statistics_on_known_images():
    rng = np.random.default_rng(0)
    grey = np.ones((64, 64, 3), np.float32) * rng.uniform(0.1, 1.0, (64, 64, 1))
    assert scene_stats.saturation(grey) == pytest.approx(0.0, abs=1e-6)
    red = np.zeros((8, 8, 3), np.float32)
    red[..., 0] = 3.0  # grey 1, deviations 2, 1, 1 -> 4/3
    assert scene_stats.saturation(red) == pytest.approx(4 / 3, rel=1e-5)
    assert scene_stats.saturation(red * 1e-3) == pytest.approx(4 / 3, rel=1e-5)  # scale free
    ramp = np.repeat(np.geomspace(1e-3, 1e2, 1000, dtype=np.float32)[:, None], 3, 1)[:, None]
    assert scene_stats.dynamic_range(ramp) == pytest.approx(5 * 0.998, abs=0.02)
    assert scene_stats.clipped_fraction(ramp) == pytest.approx(0.35, abs=0.02)  # > 1/0.18 x med
    assert scene_stats.light_fraction(ramp) == pytest.approx(0.1, abs=0.01)  # >= 100 x median
    # A 1/f^2 field has slope -2; white noise 0 and Gaussian kurtosis.
    for beta in (0.0, 2.0):
        field = procedural.pink_noise(rng, 256, 256, beta=beta)
        img = np.repeat(np.exp(field)[..., None], 3, -1)
        assert scene_stats.spectrum_slope(img) == pytest.approx(-beta, abs=0.3)
    white = np.repeat(np.exp(rng.normal(size=(128, 128)))[..., None], 3, -1)
    assert scene_stats.gradient_kurtosis(white) == pytest.approx(3.0, abs=0.3)


def test_illuminants_follow_temperature():
    warm, d65, cool = (procedural.blackbody_rgb(t) for t in (2700, 6500, 12000))
    np.testing.assert_allclose(d65, 1.0, atol=1e-5)
    assert warm[0] > warm[1] > warm[2] and cool[2] > cool[1] > cool[0]
    main, second = procedural.scene_illuminants(np.random.default_rng(3), indoor=True)
    assert second[2] / second[0] > main[2] / main[0]  # daylight bluer than the room light


def test_generator_functions_take_a_generator_and_a_size():
    rng = np.random.default_rng(1)
    for fn in (procedural.pink_noise, procedural.foliage, procedural.textured_albedo,
               procedural.shading):
        a = fn(np.random.default_rng(1), 20, 30)
        b = fn(np.random.default_rng(1), 20, 30)
        assert a.shape[:2] == (20, 30) and a.dtype == np.float32 and np.array_equal(a, b)
    colours = np.stack([procedural.material_color(rng) for _ in range(200)])
    assert colours.min() > 0 and colours.max() < 1
    assert np.mean(scene_stats.saturation(colours[:, None]) > 0.1)


def test_stats_command_on_a_set_and_compare_files(tmp_path):
    out = tmp_path / "set"
    syn.synthesize_dataset(str(out), num_train=2, num_test=1, height=48, width=64)
    other = tmp_path / "real.hdr"
    write_hdr(str(other), np.random.default_rng(0).uniform(0.01, 10, (40, 50, 3)).astype(np.float32))
    buf = io.StringIO()
    summary, measured = syn.print_stats(str(out), [str(other)], out=buf)
    text = buf.getvalue()
    assert "set (3 scenes)" in text and "real.hdr" in text
    for name in scene_stats.STAT_NAMES:
        assert name in text.splitlines()[0]
    assert measured[0][1]["saturation"] > 0.3  # independent channels: colourful noise
    with pytest.raises(syn.DataError, match="no HDRImg.hdr"):
        syn.print_stats(str(tmp_path / "empty_dir_that_is_missing"))
