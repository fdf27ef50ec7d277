"""DeAltHDR (v1.4.2): parity with the official model at s = 0, 15, 1000 for both exposure
types and on its flow/mask intermediates, per-frame exposure routing, window inference
from standard video inputs, checkpoint import, save/load and bad inputs.

The fixture (20 MB) is not copied into the repo: it is read from ../shared/parity/dealthdr.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import load_fixture
from hdrkeras import convert
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.layers.spy_net import dealthdr_warp
from hdrkeras.models.dealthdr import (DeAltHDR, build_window_inference, infer_window,
                                     preprocess_window)

RUNS = ("out_s0", "out_s15", "out_s1000", "out_s15_short")


@pytest.fixture(scope="module")
def fixture():
    return load_fixture("dealthdr")


@pytest.fixture(scope="module")
def parity(fixture):
    meta, weights, io = fixture
    return convert.parity_forward("dealthdr", weights, meta["config"], io)


@pytest.fixture(scope="module")
def model(fixture):
    meta, weights, _ = fixture
    return convert.load_reference("dealthdr", weights, meta["config"])


def raw_window(io, start):
    """Frames start..start+4 of the fixture clip as standard inputs: ldr [1, 5, H, W, 3]
    in [0,1] and exposures [1, 5] (even absolute index = short 1, odd = long 8)."""
    ldr = io["raw_frames"][start:start + 5].astype(np.float32) / 255.0
    exposures = np.array([8.0 if (start + i) % 2 else 1.0 for i in range(5)], np.float32)
    return ldr[None], exposures[None]


@pytest.mark.parametrize("key", RUNS)
def test_parity_outputs(fixture, parity, key):
    meta, _, io = fixture
    assert parity[key].shape == io[key].shape
    np.testing.assert_allclose(parity[key], io[key], rtol=0, atol=meta["tolerance"]["max_abs"])


def test_parity_flow_and_masks(fixture, parity):
    meta, _, io = fixture
    np.testing.assert_allclose(parity["out_flow_example"], io["out_flow_example"], rtol=0,
                               atol=meta["tolerance"]["max_abs"])
    # the masks are hard steps kept away from their thresholds: they must agree exactly
    np.testing.assert_array_equal(parity["out_mask_s15"], io["out_mask_s15"])
    np.testing.assert_array_equal(parity["out_mask_ratio"], io["out_mask_ratio"])
    assert np.all(parity["out_mask_ratio"][0] == 0)  # s = 0: pure flow warping


def test_warp_samples_like_grid_sample_default():
    """The official warp normalises with W - 1 but samples with align_corners=False:
    zero flow reads x * W / (W - 1) - 0.5, clamped to the border."""
    h, w = 3, 5
    ramp = np.tile(np.arange(w, dtype=np.float32), (h, 1))[None, :, :, None]
    out = np.asarray(dealthdr_warp(ramp, np.zeros((1, h, w, 2), np.float32)))[0, ..., 0]
    expected = np.clip(np.arange(w) * w / (w - 1) - 0.5, 0, w - 1)
    np.testing.assert_allclose(out, np.tile(expected, (h, 1)), atol=1e-6)
    shifted = np.asarray(dealthdr_warp(ramp, np.full((1, h, w, 2), 1.0, np.float32)))
    np.testing.assert_allclose(shifted[0, 0, :, 0],
                               np.clip((np.arange(w) + 1) * w / (w - 1) - 0.5, 0, w - 1),
                               atol=1e-6)


def test_preprocessing_reproduces_official_inputs(fixture):
    _, _, io = fixture
    for key, start in (("inp", 1), ("inp_short", 0)):
        frames, is_long = preprocess_window(*raw_window(io, start))
        official = np.transpose(io[key], (0, 1, 3, 4, 2))
        np.testing.assert_allclose(np.asarray(frames), official, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(is_long)[0],
                                      [(start + i) % 2 for i in range(5)])


def test_window_inference_from_ldr_and_exposures(fixture, model):
    """Standard inputs of a long-centred and a short-centred window, in one batch: the
    routing comes from the exposures alone and reproduces the official outputs."""
    meta, _, io = fixture
    (l1, e1), (l0, e0) = raw_window(io, 1), raw_window(io, 0)
    hdr = np.asarray(infer_window(model, np.concatenate([l1, l0]), np.concatenate([e1, e0]),
                                  15.0))
    tol = meta["tolerance"]["max_abs"]
    np.testing.assert_allclose(hdr[0], np.transpose(io["out_s15"][0], (1, 2, 0)), atol=tol)
    np.testing.assert_allclose(hdr[1], np.transpose(io["out_s15_short"][0], (1, 2, 0)),
                               atol=tol)


def test_each_frame_uses_its_own_exposure_encoder(fixture, model):
    """A sequence starting with a long frame gives the same per-frame results as one
    starting with a short frame shifted by one; the branch really depends on exposure."""
    _, _, io = fixture
    short_first = preprocess_window(*raw_window(io, 0))  # absolute frames 0..4
    long_first = preprocess_window(*raw_window(io, 1))  # absolute frames 1..5
    feats_s = [np.asarray(f) for f in model.encode_frames(*pad(short_first))]
    feats_l = [np.asarray(f) for f in model.encode_frames(*pad(long_first))]
    for fs, fl in zip(feats_s, feats_l):
        np.testing.assert_array_equal(fs[:, 1:], fl[:, :4])  # absolute frames 1..4
    frames, is_long = pad(long_first)
    flipped = [np.asarray(f) for f in model.encode_frames(frames, 1.0 - is_long)]
    assert all(np.abs(a - b).max() > 1e-3 for a, b in zip(flipped, feats_l))


def pad(window):
    frames, is_long = window
    return tf.pad(frames, [[0, 0], [0, 0], [0, 24], [0, 8], [0, 0]]), is_long


def test_param_count_default_config():
    assert DeAltHDR().count_params() == 12_207_224  # official 15,087,824 less 2 SpyNets


def test_odd_size_inference_pads_with_zeros_inside(model, rng):
    ldr = rng.random((2, 5, 21, 35, 3), dtype=np.float32)
    exposures = np.array([[1, 8, 1, 8, 1], [8, 1, 8, 1, 8]], np.float32)
    sensitivity = np.array([15.0, 1000.0], np.float32)
    out = np.asarray(infer_window(model, ldr, exposures, sensitivity))
    assert out.shape == (2, 21, 35, 3) and np.all(np.isfinite(out))
    # equal exposures: every frame is short, the long encoder gets no frame at all
    flat = np.asarray(infer_window(model, ldr[:1], np.ones((1, 5), np.float32), 15.0))
    assert flat.shape == (1, 21, 35, 3) and np.all(np.isfinite(flat))
    # zero LDR maps to zero frames, so explicit zero padding to 32 x 64 changes nothing
    padded = np.pad(ldr, [(0, 0), (0, 0), (0, 11), (0, 29), (0, 0)])
    np.testing.assert_allclose(np.asarray(infer_window(model, padded, exposures,
                                                       sensitivity))[:, :21, :35], out,
                               atol=1e-5)


def test_rgb_import_of_a_bgr_checkpoint(fixture):
    """rgb=True turns a checkpoint trained on BGR frames into an RGB model: fed the
    channel-swapped frames, it returns the channel-swapped official output."""
    meta, weights, io = fixture
    rgb_model = convert.dealthdr.load_reference("dealthdr", weights, meta["config"], rgb=True)
    frames = np.transpose(io["inp"], (0, 1, 3, 4, 2))
    swapped = np.concatenate([frames[..., 2::-1], frames[..., 5:2:-1]], axis=-1)
    out = rgb_model({"frames": swapped, "is_long": np.array([[1, 0, 1, 0, 1]], np.float32),
                     "sensitivity": np.array([15.0], np.float32)})
    expected = np.transpose(io["out_s15"], (0, 2, 3, 1))[..., ::-1]
    np.testing.assert_allclose(np.asarray(out), expected, atol=meta["tolerance"]["max_abs"])
    # the swapped SpyNet statistics are part of the config, so a saved model keeps them
    config = rgb_model.get_config()
    assert config["spynet_mean"] == [0.406, 0.456, 0.485]
    assert DeAltHDR.from_config(config).pair_flow.get_layer("spynet").std == (0.225, 0.224,
                                                                            0.229)


def test_strict_keys_and_dropped_spynets(fixture):
    meta, weights, _ = fixture
    key = "decoder_level2.transformer_blocks.0.ffn.project_in.weight"
    missing = {k: v for k, v in weights.items() if k != key}
    with pytest.raises(ConfigError, match=f"missing keys: {key}"):
        convert.load_reference("dealthdr", missing, meta["config"])
    extra = {**weights, "decoder_level2.extra.weight": np.zeros(3, np.float32)}
    with pytest.raises(ConfigError, match="unexpected keys: decoder_level2.extra.weight"):
        convert.load_reference("dealthdr", extra, meta["config"])
    with pytest.raises(ConfigError, match="unknown config key 'depth'"):
        convert.load_reference("dealthdr", weights, {**meta["config"], "depth": 3})
    with pytest.raises(ConfigError, match="not a DeAltHDR checkpoint"):
        convert.load_reference("dealthdr", {"conv1.weight": np.zeros((1, 1, 1, 1))})
    # only fgma_l3's SpyNet is used: the other two may be absent
    used = {k: v for k, v in weights.items() if not k.startswith(("fgma_l1.spynet",
                                                                  "fgma_l2.spynet"))}
    assert len(used) < len(weights)
    convert.load_reference("dealthdr", used, meta["config"])


def test_module_prefix(fixture, model, caplog):
    meta, weights, _ = fixture
    with caplog.at_level("INFO", logger="hdrkeras.convert.dealthdr"):
        prefixed = convert.load_reference(
            "dealthdr", {f"module.{k}": v for k, v in weights.items()}, meta["config"])
    assert "dropping 124 tensors of the unused fgma_l2/fgma_l1 SpyNets" in caplog.text
    for a, b in zip(prefixed.weights, model.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bad_inputs_rejected(model, rng):
    ldr = rng.random((1, 4, 32, 32, 3), dtype=np.float32)
    with pytest.raises(DataError, match="windows of 5 frames.*got 4"):
        infer_window(model, ldr, np.ones((1, 4), np.float32))
    with pytest.raises(DataError, match="frames must be \\[B, 5"):
        model({"frames": np.zeros((1, 3, 32, 32, 6), np.float32),
               "is_long": np.zeros((1, 3), np.float32),
               "sensitivity": np.zeros((1,), np.float32)})
    ldr = rng.random((1, 5, 32, 32, 3), dtype=np.float32)
    exposures = np.array([[1, 8, 1, 8, 1]], np.float32)
    with pytest.raises(ConfigError, match="sensitivity must be finite and >= 0"):
        infer_window(model, ldr, exposures, -1.0)
    with pytest.raises(DataError, match="exposures must be finite and > 0"):
        infer_window(model, ldr, exposures * 0, 15.0)
    with pytest.raises(ConfigError, match="encoder1_attn_type1 must be one of"):
        DeAltHDR(encoder1_attn_type1="FGMA")


def test_converter_command_and_keras_round_trip(tmp_path, monkeypatch, fixture, model, rng):
    """An official checkpoint converts with the config inferred from the weights (FHR reads
    back as Channel: same parameters, same math) and saves to a .keras file that loads back
    as the same model."""
    from hdrkeras.convert import dealthdr as dealthdr_convert
    from hdrkeras.convert import torch_checkpoint
    from hdrkeras.saving import save_keras

    meta, weights, _ = fixture
    expected = {k: v for k, v in meta["config"].items()
                if k not in ("num_frames_tocache", "training_mode", "sensitivity")}
    expected["latent_attn_type1"] = "Channel"
    assert dealthdr_convert.infer_config(weights) == expected
    monkeypatch.setattr(torch_checkpoint, "read_torch_checkpoint",
                        lambda path: {f"module.{k}": v for k, v in weights.items()})
    out = save_keras(dealthdr_convert.convert_checkpoint("official.pth"),
                     str(tmp_path / "dealthdr.keras"))
    loaded = keras.models.load_model(out)
    assert isinstance(loaded, DeAltHDR)
    config = {k: v for k, v in loaded.get_config().items() if k != "name"}
    assert config == {**{k: v for k, v in model.get_config().items() if k != "name"},
                      "latent_attn_type1": "Channel"}
    assert "sensitivity" not in config  # an input, not a constant
    ldr = rng.random((1, 5, 32, 32, 3), dtype=np.float32)
    exposures = np.array([[8, 1, 8, 1, 8]], np.float32)
    np.testing.assert_allclose(np.asarray(infer_window(loaded, ldr, exposures, 15.0)),
                               np.asarray(infer_window(model, ldr, exposures, 15.0)),
                               atol=1e-6)


def test_variant_configs_run(rng):
    """Linear-only frames, BiasFree norms, biased convs and a 'NoAttn' block, built from
    official config names; eager and traced (unknown batch and size, as for export) agree,
    also when a window has no long frame; a shared encoder builds and runs too."""
    model = DeAltHDR(dim=4, Enc_blocks=[2, 1, 1], Middle_blocks=1, Dec_blocks=[1, 1, 1],
                     use_both_input=False, LayerNorm_type="BiasFree", bias=True,
                     encoder1_attn_type1="NoAttn")
    assert model.frame_channels == 3
    assert model.long_encoder.get_layer("long_exposure_projection").use_bias
    ldr = rng.random((2, 5, 20, 24, 3), dtype=np.float32)
    exposures = np.array([[1, 8, 1, 8, 1], [1, 1, 1, 1, 1]], np.float32)
    sensitivity = np.array([0.0, 15.0], np.float32)
    out = np.asarray(infer_window(model, ldr, exposures, sensitivity))
    assert out.shape == (2, 20, 24, 3) and np.all(np.isfinite(out))
    graph = build_window_inference(model)
    np.testing.assert_allclose(np.asarray(graph(ldr, exposures, sensitivity)), out, atol=1e-5)
    np.testing.assert_allclose(np.asarray(graph(ldr[1:], exposures[1:], sensitivity[1:])),
                               out[1:], atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="sensitivity must be finite"):
        graph(ldr, exposures, np.full([2], -1.0, np.float32))

    shared = DeAltHDR(dim=4, Enc_blocks=[1, 1, 1], Middle_blocks=1, Dec_blocks=[1, 1, 1],
                      use_dual_encoder=False)
    assert shared.long_encoder is shared.short_encoder
    assert shared.long_encoder.get_layer("input_projection")
    out = np.asarray(infer_window(shared, ldr[:1, :, :16, :16], exposures[:1], 15.0))
    assert out.shape == (1, 16, 16, 3) and np.all(np.isfinite(out))
