"""FSHDR: parity with the official PyTorch FSHDR, odd sizes, save/load, RGB import.

Its fixture (7.3 MB) is not copied into the repo: it is read from ../shared/parity/fshdr.
"""

import keras
import numpy as np
import pytest

from conftest import backbone_frames, flip_groups, load_fixture
from hdrkeras.models import frame_dict
from hdrkeras import convert
from hdrkeras.errors import DataError
from hdrkeras.models.fshdr import FSHDR


def frames(h, w, seed=0, batch=1, channels=6):
    return frame_dict(backbone_frames(h, w, seed, batch, channels))


@pytest.fixture(scope="module")
def fixture():
    return load_fixture("fshdr")


@pytest.fixture(scope="module")
def models(fixture):
    meta, weights, _ = fixture
    return (convert.load_reference("fshdr", weights, meta["config"]),
            convert.load_reference("fshdr", weights, {**meta["config"], "rgb": True}))


def test_parity_with_official_outputs(fixture):
    meta, weights, io = fixture
    out = convert.parity_forward("fshdr", weights, meta["config"], io)
    assert out["out_hdr"].shape == io["out_hdr"].shape
    np.testing.assert_allclose(out["out_hdr"], io["out_hdr"], rtol=0,
                               atol=meta["tolerance"]["max_abs"])


def test_param_count(fixture, models):
    meta = fixture[0]
    assert models[0].count_params() == meta["default_config_params"] == 1833603


def test_odd_size_inference(models):
    out = np.asarray(models[0](frames(23, 31, batch=2)))
    assert out.shape == (2, 23, 31, 3)
    assert np.all(np.isfinite(out)) and out.min() > 0 and out.max() < 1


def test_keras_round_trip(tmp_path, models):
    model = models[0]
    assert model.get_config() == {"nChannel": 6, "name": model.name, "trainable": True}
    path = str(tmp_path / "fshdr.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, FSHDR)
    xs = frames(12, 16, seed=3)
    np.testing.assert_allclose(np.asarray(loaded(xs)), np.asarray(model(xs)), atol=1e-6)


def test_rgb_import_permutes_first_and_last_convs(models):
    bgr, rgb = models
    xs = frames(16, 20, seed=2)
    expect = flip_groups(np.asarray(bgr({k: flip_groups(x) for k, x in xs.items()})))
    got = np.asarray(rgb(xs))
    np.testing.assert_allclose(got, expect, atol=1e-6)
    assert np.abs(got - np.asarray(bgr(xs))).max() > 1e-4


def test_strict_key_checking(fixture):
    meta, weights, _ = fixture
    broken = {k: v for k, v in weights.items() if k != "sdc2.conv3.weight"}
    with pytest.raises(DataError, match=r"missing keys \['sdc2.conv3.weight'\]"):
        convert.load_reference("fshdr", broken, meta["config"])
