"""SCTNet: parity with the official PyTorch model, any-size inference, config and save/load,
RGB import, shifted-window mask, strict weight loading and the optional-torch reader."""

import sys

import keras
import numpy as np
import pytest

from conftest import (backbone_frames, check_compiled_inference,
                      check_mixed_precision_inference, hide_modules, load_fixture)
from hdrkeras import convert
from hdrkeras.convert import torch_checkpoint
from hdrkeras.errors import ConfigError, MissingWeightsError
from hdrkeras.layers import swin_block
from hdrkeras.layers.shifted_window_mask import shifted_window_mask
from hdrkeras.layers.window_attention import relative_position_index
from hdrkeras.models.sctnet import SCTNet

TINY = {"embed_dim": 12, "depths": [2, 1], "num_heads": [2, 3], "window_size": 8,
        "mlp_ratio": 2.0, "channel_num_heads": 2}


def frames(h, w, seed=0, batch=1):
    """The three backbone frames keyed by the official argument names x1, x2, x3."""
    return dict(zip(("x1", "x2", "x3"), backbone_frames(h, w, seed, batch)))


def test_parity_both_sizes():
    meta, weights, io = load_fixture("sctnet")
    out = convert.parity_forward("sctnet", weights, meta["config"], io)
    assert set(out) == {"out_hdr", "out_hdr_in2"}
    tol = meta["tolerance"]["max_abs"]
    for key in out:
        assert out[key].shape == io[key].shape, key
        err = np.abs(out[key] - io[key]).max()
        assert err <= tol, f"{key}: max abs error {err:.3g} > {tol}"


def test_param_counts():
    meta, _, _ = load_fixture("sctnet")
    assert SCTNet().count_params() == 994_555 == meta["default_config_params"]
    assert (SCTNet(embed_dim=24, depths=[2, 2], num_heads=[3, 3]).count_params()
            == meta["fixture_config_params"])


def test_mask_and_position_index_match_official_buffers():
    _, weights, _ = load_fixture("sctnet")
    official = weights["layers.0.residual_group.blocks.1.attn_mask"]  # img_size 64x64
    np.testing.assert_array_equal(shifted_window_mask(64, 64, 8, 4).numpy(), official)
    np.testing.assert_array_equal(
        relative_position_index(8), weights["layers.0.residual_group.blocks.0.attn.relative_position_index"])


def test_odd_size_in_equals_size_out():
    model = SCTNet(**TINY)
    x = frames(37, 53)
    y = model(x, training=False).numpy()
    assert y.shape == (1, 37, 53, 3)
    assert np.isfinite(y).all() and y.min() >= 0 and y.max() <= 1
    uncropped = SCTNet(**TINY, crop_output=False)
    uncropped.set_weights(model.get_weights())
    y_pad = uncropped(x, training=False).numpy()
    assert y_pad.shape == (1, 40, 56, 3)
    np.testing.assert_allclose(y_pad[:, :37, :53], y, atol=1e-6)


def test_band_loop_equals_vectorised_path():
    """Inference runs window attention per row of windows; training in one pass."""
    model = SCTNet(**TINY, drop_path_rate=0.0)
    x = frames(24, 40, batch=2)
    np.testing.assert_allclose(model(x, training=False).numpy(),
                               model(x, training=True).numpy(), atol=2e-6)


def test_mixed_precision_compiled_inference():
    check_mixed_precision_inference(lambda: SCTNet(**TINY, drop_path_rate=0.0), frames(24, 40))


@pytest.mark.parametrize("h,w", [(37, 53), (5, 7)])
def test_compiled_inference_equals_eager(h, w, monkeypatch):
    """Inside a tf.function, CPU inference runs each Swin block (its rows split into
    concurrent parts, here more parts than a 5x7 input has rows) and SCAB XLA-compiled."""
    monkeypatch.setattr(swin_block, "inference_parts", lambda: 3)
    model = SCTNet(**TINY)
    x = frames(h, w)
    check_compiled_inference(model, x)


def test_keras_save_load_round_trip(tmp_path):
    model = SCTNet(**TINY, crop_output=False)
    assert model.get_config()["depths"] == [2, 1]
    assert SCTNet.from_config(model.get_config()).get_config() == model.get_config()
    path = tmp_path / "sctnet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SCTNet) and loaded.crop_output is False
    x = frames(16, 24, seed=3)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_rgb_conversion_permutes_first_and_last_convs():
    meta, weights, io = load_fixture("sctnet")
    bgr = convert.load_reference("sctnet", weights, meta["config"])
    from hdrkeras.convert.sctnet import load_reference
    rgb = load_reference("sctnet", weights, meta["config"], rgb=True)
    x_bgr = {f"x{i}": np.transpose(io[f"x{i}"], (0, 2, 3, 1)) for i in (1, 2, 3)}
    perm = [2, 1, 0, 5, 4, 3]
    x_rgb = {k: v[..., perm] for k, v in x_bgr.items()}
    y_bgr = bgr(x_bgr).numpy()
    y_rgb = rgb(x_rgb).numpy()
    np.testing.assert_allclose(y_rgb, y_bgr[..., ::-1], atol=1e-6)
    assert np.abs(y_rgb - y_bgr).max() > 1e-4  # the permutation is not a no-op


def test_module_prefix_and_inferred_config():
    meta, weights, io = load_fixture("sctnet")
    wrapped = {"module." + k: v for k, v in weights.items()}
    model = convert.load_reference("sctnet", wrapped, None)  # config inferred
    assert model.embed_dim == 24 and model.depths == [2, 2] and model.num_heads == [3, 3]
    x = {f"x{i}": np.transpose(io[f"in2_x{i}"], (0, 2, 3, 1)) for i in (1, 2, 3)}
    np.testing.assert_allclose(np.transpose(model(x).numpy(), (0, 3, 1, 2)),
                               io["out_hdr_in2"], atol=meta["tolerance"]["max_abs"])


def test_strict_loading_names_missing_and_unexpected_keys():
    meta, weights, _ = load_fixture("sctnet")
    broken = dict(weights)
    del broken["channel_layers_rm.1.attn.temperature"]
    broken["extra.weight"] = np.zeros(3, np.float32)
    with pytest.raises(ConfigError, match=r"channel_layers_rm\.1\.attn\.temperature") as e:
        convert.load_reference("sctnet", broken, meta["config"])
    assert "extra.weight" in str(e.value)
    with pytest.raises(ConfigError, match="shape"):
        convert.load_reference("sctnet", weights, dict(meta["config"], mlp_ratio=4))


def test_torch_checkpoint_reader_without_torch(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    hide_modules(monkeypatch, "torch")
    with pytest.raises(MissingWeightsError, match=r"pip install hdrkeras\[convert\]"):
        torch_checkpoint.read_torch_checkpoint(tmp_path / "sctnet.pth")


def test_checkpoint_unwrapping():
    sd = {"conv1.weight": np.zeros((2, 6, 3, 3))}
    assert torch_checkpoint._unwrap({"state_dict": sd}, "x.pth") is sd
    assert torch_checkpoint._unwrap({"epoch": 3, "model": sd}, "x.pth") is sd
    assert torch_checkpoint.strip_module_prefix({"module.a": 1, "b": 2}) == {"a": 1, "b": 2}
