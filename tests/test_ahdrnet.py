"""AHDRNet: parity with the official PyTorch AHDR, config, odd sizes, save/load, RGB import."""


import keras
import numpy as np
import pytest

from conftest import backbone_frames, flip_groups, load_fixture
from hdrkeras.models import frame_dict
from hdrkeras import convert
from hdrkeras.errors import DataError
from hdrkeras.models.ahdrnet import AHDRNet

TINY = {"nChannel": 6, "nDenselayer": 2, "nFeat": 8, "growthRate": 4}


def frames(h, w, seed=0, batch=1, channels=6):
    return frame_dict(backbone_frames(h, w, seed, batch, channels))


def test_parity_with_official_outputs():
    meta, weights, io = load_fixture("ahdrnet")
    out = convert.parity_forward("ahdrnet", weights, meta["config"], io)
    assert out["out_hdr"].shape == io["out_hdr"].shape
    np.testing.assert_allclose(out["out_hdr"], io["out_hdr"], rtol=0,
                               atol=meta["tolerance"]["max_abs"])


def test_param_counts():
    meta, _, _ = load_fixture("ahdrnet")
    assert AHDRNet(**meta["default_config"]).count_params() == meta["default_config_params"] == 1241507
    assert AHDRNet(**meta["config"]).count_params() == meta["fixture_config_params"]


def test_odd_size_inference():
    model = AHDRNet(**TINY)
    out = np.asarray(model(frames(37, 53, batch=2)))
    assert out.shape == (2, 37, 53, 3)
    assert np.all(np.isfinite(out)) and out.min() > 0 and out.max() < 1


def test_keras_round_trip(tmp_path):
    model = AHDRNet(**TINY, name="tiny_ahdr")
    assert model.get_config() == {**TINY, "name": "tiny_ahdr", "trainable": True}
    xs = frames(20, 24, seed=1)
    path = str(tmp_path / "ahdr.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, AHDRNet) and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(np.asarray(loaded(xs)), np.asarray(model(xs)), atol=1e-6)


def test_rgb_import_permutes_first_and_last_convs():
    meta, weights, _ = load_fixture("ahdrnet")
    bgr = convert.load_reference("ahdrnet", weights, meta["config"])
    rgb = convert.load_reference("ahdrnet", weights, {**meta["config"], "rgb": True})
    xs = frames(16, 20, seed=2)
    expect = flip_groups(np.asarray(bgr({k: flip_groups(x) for k, x in xs.items()})))
    got = np.asarray(rgb(xs))
    np.testing.assert_allclose(got, expect, atol=1e-6)
    assert np.abs(got - np.asarray(bgr(xs))).max() > 1e-4  # the permutation did something


def test_strict_key_checking():
    meta, weights, _ = load_fixture("ahdrnet")
    broken = dict(weights)
    del broken["RDB2.conv_1x1.bias"]
    broken["RDB4.conv_1x1.weight"] = np.zeros(1)
    with pytest.raises(DataError, match=r"missing keys \['RDB2.conv_1x1.bias'\].*unexpected keys "
                                        r"\['RDB4.conv_1x1.weight'\]"):
        convert.load_reference("ahdrnet", broken, meta["config"])
    with pytest.raises(DataError, match="conv1 has weight"):
        convert.load_reference("ahdrnet", weights, {**meta["config"], "nChannel": 9})
    prefixed = {"module." + k: v for k, v in weights.items()}  # DataParallel checkpoints
    assert convert.load_reference("ahdrnet", prefixed, meta["config"]).count_params() == 59003
