"""ESBN networks: parameter counts, official hyperparameters, odd sizes, .keras round trip,
and the official input construction (FrameInputs("esbn"))."""

import json

import keras
import numpy as np
import pytest

from conftest import parity_dir
from hdrkeras.layers.frame_inputs import FrameInputs
from hdrkeras.models import ALIGN_INPUTS, FRAME_INPUTS, esbn, frame_dict

# From the parity fixtures' meta.json: default_config_params (trainable) and
# non_trainable_params (BatchNorm moving mean/variance).
ALIGN_TRAINABLE, ALIGN_NON_TRAINABLE = 15_265_091, 10_752
FUSION_PARAMS = 388_419


def n_weights(weights):
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.fixture(scope="module")
def align_net():
    return esbn.ESBNAlign()


@pytest.fixture(scope="module")
def fusion_net():
    return esbn.ESBNFusion()


def frames(h, w, n, seed=0, batch=1):
    """The input dict of the align (n=2) or fusion (n=3) net."""
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1, 3, (batch, h, w, 6)).astype(np.float32) for _ in range(n)]
    return frame_dict(xs, ALIGN_INPUTS if n == 2 else FRAME_INPUTS)


def test_param_counts(align_net, fusion_net):
    meta = json.loads((parity_dir("esbn_fusion") / "meta.json").read_text())
    assert n_weights(align_net.trainable_weights) == ALIGN_TRAINABLE
    assert n_weights(align_net.non_trainable_weights) == ALIGN_NON_TRAINABLE
    assert align_net.count_params() == ALIGN_TRAINABLE + ALIGN_NON_TRAINABLE
    assert fusion_net.count_params() == FUSION_PARAMS == meta["default_config_params"]
    assert not fusion_net.non_trainable_weights


def test_official_hyperparameters(align_net, fusion_net):
    bns = [l for l in align_net.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == 2 + 1 + 2 * 9 + 3
    assert all(l.momentum == 0.9 and l.epsilon == 1e-5 and l.center and l.scale for l in bns)
    lrelus = [l for m in (align_net, fusion_net) for l in m.layers
              if isinstance(l, keras.layers.LeakyReLU)]
    assert lrelus and all(abs(l.negative_slope - 0.2) < 1e-7 for l in lrelus)
    convs = [l for m in (align_net, fusion_net) for l in m.layers
             if isinstance(l, keras.layers.Conv2D)]
    assert all(l.padding == "same" for l in convs)
    init = convs[0].kernel_initializer
    assert isinstance(init, keras.initializers.TruncatedNormal) and init.stddev == 0.01
    # 5x5 stride-2 encoder convs, 3x3 residual convs, 1x1 last dense-block conv.
    assert align_net.get_layer("enc_nonref_conv1").strides == (2, 2)
    assert align_net.get_layer("enc_nonref_conv1").kernel_size == (5, 5)
    assert align_net.get_layer("dec_resb8_conv2").kernel_size == (3, 3)
    assert fusion_net.get_layer("resden1_conv7").kernel_size == (1, 1)


def test_odd_size_align_pads_reflect_and_crops(align_net):
    x = frames(61, 83, 2, seed=1)
    out = np.asarray(align_net(x, training=False))
    assert out.shape == (1, 61, 83, 3)
    assert np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
    # Same as reflect-padding bottom/right to 64x88 ourselves and cropping the top-left.
    padded = {k: np.pad(v, ((0, 0), (0, 3), (0, 5), (0, 0)), mode="reflect")
              for k, v in x.items()}
    ref = np.asarray(align_net(padded, training=False))[:, :61, :83]
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5)


def test_odd_size_fusion(fusion_net):
    out = np.asarray(fusion_net(frames(61, 83, 3, seed=2, batch=2), training=False))
    assert out.shape == (2, 61, 83, 3)
    assert np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0


def test_small_config_and_unit_output():
    raw = esbn.ESBNAlign(name="align_high", filters=8, num_res_blocks=2)
    unit = esbn.ESBNAlign(name="u", filters=8, num_res_blocks=2, unit_output=True)
    unit.set_weights(raw.get_weights())
    x = frames(24, 40, 2, seed=3)
    y_raw, y_unit = np.asarray(raw(x)), np.asarray(unit(x))
    assert raw.name == "align_high" and y_raw.shape == (1, 24, 40, 3)
    np.testing.assert_allclose(y_unit, (y_raw + 1) / 2, atol=1e-6)
    fusion = esbn.ESBNFusion(filters=16, growth_rate=8, num_dense_layers=3,
                                   unit_output=True)
    y = np.asarray(fusion(frames(9, 11, 3, seed=4)))
    assert y.shape == (1, 9, 11, 3) and y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize("which", ["align", "fusion"])
def test_keras_round_trip(which, align_net, fusion_net, tmp_path):
    model = align_net if which == "align" else fusion_net
    rng = np.random.default_rng(5)
    # Non-trivial weights (BN statistics included) so a lost weight shows up.
    model.set_weights([w + rng.normal(0, 0.02, w.shape).astype(np.float32)
                       if "variance" not in v.path else np.abs(w) + 0.5
                       for v, w in zip(model.weights, model.get_weights())])
    x = frames(40, 56, 2 if which == "align" else 3, seed=6)
    path = tmp_path / f"{which}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.name == model.name and loaded.count_params() == model.count_params()
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)),
                               np.asarray(model(x, training=False)), rtol=0, atol=1e-6)


def test_frame_inputs_reproduce_official_construction():
    """Rebuilds the fixture's inputs from 8-bit LDR and exposures t = (1, 4, 16)."""
    io = np.load(parity_dir("esbn_fusion") / "io.npz")
    meta = json.loads((parity_dir("esbn_fusion") / "meta.json").read_text())
    evs = np.array(meta["input_construction"]["evs_low_mid_high"])
    official = [io[k] for k in ("x_low", "x_mid", "x_high")]
    u8 = [np.round((x[..., :3] + 1.0) * 127.5) for x in official]
    ldr = np.stack(u8, axis=1).astype(np.float32) / 255.0  # [B, 3, H, W, 3]
    exposures = np.tile(2.0 ** (evs - evs.min()), (ldr.shape[0], 1)).astype(np.float32)
    ours = FrameInputs("esbn", relative_to=1)(ldr, exposures)
    assert len(ours) == 3
    for got, want in zip(ours, official):
        assert got.shape == want.shape
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=2e-6)
    # Only exposure ratios matter (ESBN divides by t_i / t_ref).
    again = FrameInputs("esbn", relative_to=1)(ldr, exposures * 0.37)
    for a, b in zip(again, ours):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
