"""LAN-HDR: parity with the official 2E / 3E Generators (outputs, gates, attention and
preprocessing), parameter counts, FFT-block gradients, hard-attention gradient, per-frame /
per-window sub-models, any-size inference, save/load and the checkpoint converter."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import load_fixture
from hdrkeras import convert
from hdrkeras.convert import lanhdr as lanhdr_convert
from hdrkeras.errors import ConfigError
from hdrkeras.layers.fft_residual_block import FFTResidualBlock
from hdrkeras.layers.hard_patch_attention import HardPatchAttention, gathered_max
from hdrkeras.layers.lanhdr_inputs import LanHdrInputs
from hdrkeras.models.lanhdr import LanHdr, lanhdr_2e, lanhdr_3e

TINY = {"ch": 4, "tdim": 2}


def video_inputs(h, w, nframes=5, batch=1, seed=0, pattern=(1.0, 4.0)):
    """Model inputs from random LDR frames with an alternating exposure pattern."""
    rng = np.random.default_rng(seed)
    ldr = rng.random((batch, nframes, h, w, 3), dtype=np.float32)
    exposures = np.tile(np.resize(np.asarray(pattern, np.float32), nframes), (batch, 1))
    return LanHdrInputs()(tf.constant(ldr), tf.constant(exposures))


def nhwc(x):
    return np.transpose(x, (0, 2, 3, 1))


def crop_feeds(io, nframes, h=24, w=40):
    """The fixture's official inputs, NHWC, cropped to h x w (keeps the tests quick)."""
    names = [f"{k}_{i}" for k in ("inputs", "input_ys", "input_exp_ys") for i in range(nframes)]
    return {k: nhwc(io[k])[:, :h, :w] for k in names}


@pytest.fixture(scope="module")
def fixture_2e():
    return load_fixture("lanhdr_2e")


@pytest.fixture(scope="module")
def loaded_2e(fixture_2e):
    """(model with the fixture's weights, cropped official inputs, its output)."""
    meta, weights, io = fixture_2e
    model = convert.load_reference("lanhdr_2e", weights, meta["config"])
    feeds = crop_feeds(io, 5)
    return model, feeds, model(feeds)["output"].numpy()


@pytest.mark.parametrize("name", ["lanhdr_2e", "lanhdr_3e"])
def test_parity_outputs_attention_and_preprocessing(name, fixture_2e):
    meta, weights, io = fixture_2e if name == "lanhdr_2e" else load_fixture(name)
    out = convert.parity_forward(name, weights, meta["config"], io)
    n = meta["config"]["nframes"]
    expected = {k for k in io if k.startswith("out_")}
    expected |= {"aux_tr_out_S", "aux_tr_out_T", "aux_tr_argmax"}
    expected |= {f"aux_corr_{a}_{i}" for a in ("max", "argmax") for i in range(n)}
    expected |= {f"{k}_{i}" for k in ("inputs", "input_ys", "input_exp_ys") for i in range(n)}
    assert set(out) == expected
    tol = meta["tolerance"]["max_abs"]
    for key, value in out.items():
        assert value.shape == io[key].shape, key
        if "argmax" in key:
            np.testing.assert_array_equal(value, io[key], err_msg=key)
        else:
            err = np.abs(value - io[key]).max()
            assert err <= tol, f"{key}: max abs error {err:.3g} > {tol}"
    # The stand-alone attention case is the one where argmax is not the identity.
    assert (out["aux_tr_argmax"] != np.arange(20)).mean() > 0.9


def test_param_counts(fixture_2e, loaded_2e):
    meta, _, _ = fixture_2e
    assert lanhdr_2e().count_params() == 7_315_140 == meta["default_config_params"]
    assert lanhdr_3e().count_params() == 7_388_868
    assert loaded_2e[0].count_params() == meta["fixture_config_params"]


@pytest.mark.parametrize("h,w", [(3, 5), (2, 4)])
def test_fft_block_gradients_float64(h, w):
    """Analytic gradients (through rfft2d / irfft2d of a non-Hermitian spectrum) equal
    finite differences, for odd and even sizes; the frequency branch equals numpy's.
    Seeded: finite differences across a ReLU kink would differ for some weight draws."""
    keras.utils.set_random_seed(0)
    block = FFTResidualBlock(dtype="float64")
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((1, h, w, 2)))
    block(x)
    theoretical, numerical = tf.test.compute_gradient(block, [x])
    assert np.abs(theoretical[0] - numerical[0]).max() < 1e-6
    # numpy reference of the frequency branch: [C real | C imag] spectrum channels.
    k0 = block.main_fft_0.kernel.numpy()[0, 0]
    k2 = block.main_fft_2.kernel.numpy()[0, 0]
    spec = np.fft.rfft2(x.numpy(), axes=(1, 2))
    y = np.maximum(np.concatenate([spec.real, spec.imag], -1) @ k0, 0) @ k2
    ref = np.fft.irfft2(y[..., :2] + 1j * y[..., 2:], s=(h, w), axes=(1, 2))
    np.testing.assert_allclose(block.frequency_branch(x).numpy(), ref, atol=1e-12)


def test_hard_attention_score_gradient_goes_to_the_chosen_key():
    scores = tf.constant([[0.2, 0.9, 0.9, 0.1], [0.3, 0.1, 0.3, 0.8]])
    with tf.GradientTape() as tape:
        tape.watch(scores)
        best, idx = gathered_max(scores)
    np.testing.assert_array_equal(idx.numpy(), [1, 3])  # first index on ties, as torch
    np.testing.assert_array_equal(best.numpy(), np.float32([0.9, 0.8]))
    np.testing.assert_array_equal(tape.gradient(best, scores).numpy(),
                                  [[0, 1, 0, 0], [0, 0, 0, 1]])
    # Through the layer, S is differentiable in the key and T in the value.
    layer = HardPatchAttention(8)
    rng = np.random.default_rng(1)
    q, k, v = (tf.constant(rng.standard_normal((2, 3, 4, 6)), tf.float32) for _ in range(3))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([k, v])
        s, t = layer(q, k, v)
    assert np.abs(tape.gradient(s, k).numpy()).sum() > 0
    assert np.abs(tape.gradient(t, v).numpy()).sum() > 0


@pytest.fixture(scope="module")
def tiny():
    return LanHdr(**TINY)


@pytest.mark.parametrize("h,w", [(37, 53), (9, 5)])
def test_any_size_inference(tiny, h, w):
    y = tiny(video_inputs(h, w), training=False)
    out, gates = y["output"].numpy(), y["gates"].numpy()
    assert out.shape == (1, h, w, 3)
    assert gates.shape == (1, 5, -(-h // 4), -(-w // 4), 1)
    assert np.isfinite(out).all() and out.min() > 0 and out.max() < 1


def test_per_frame_and_per_window_parts_compose_to_the_window_model(tiny):
    """Streaming reuses frame_encoder outputs; composing the parts by hand (frame by
    frame, reference encoded once) equals the batched window model."""
    feeds = video_inputs(20, 28, batch=2, seed=3)
    ref = tiny.ref_extractor(feeds["inputs_2"])
    aligned, gates = [], []
    for i in range(5):
        feats = tiny.frame_encoder([feeds[f"inputs_{i}"], feeds[f"input_ys_{i}"]])
        a, g = tiny.aligner(list(feats) + list(ref) + [feeds[f"input_exp_ys_{i}"]])
        aligned.append(a)
        gates.append(g)
    out = tiny.merge(tf.concat(aligned, -1)).numpy()
    y = tiny(feeds)
    np.testing.assert_allclose(out, y["output"].numpy(), atol=1e-5)
    np.testing.assert_allclose(np.stack(gates, 1), y["gates"].numpy(), atol=1e-5)


def test_reference_encoder_runs_once_per_window(tiny, monkeypatch):
    """The official code encodes the reference once per frame pair; ours once per window
    (and the per-frame encoder once, on all frames as one batch)."""
    calls = {"ref_extractor": [], "mov_extractor": []}

    def counting(sub, seen):
        def call(x, *args, **kwargs):
            seen.append(x.shape[0])  # batch size of each call
            return original(x, *args, **kwargs)
        original = sub.call
        return call

    for name, seen in calls.items():
        sub = getattr(tiny, name)
        monkeypatch.setattr(sub, "call", counting(sub, seen))
    tiny(video_inputs(12, 16, batch=2))
    assert calls == {"ref_extractor": [2], "mov_extractor": [10]}


def test_every_weight_gets_a_gradient(tiny):
    feeds = video_inputs(20, 28, batch=2)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.abs(tiny(feeds, training=True)["output"] - 0.5))
    grads = tape.gradient(loss, tiny.trainable_variables)
    assert not [v.path for v, g in zip(tiny.trainable_variables, grads)
                if g is None or not np.any(g.numpy())]


def test_keras_save_load_round_trip(tiny, tmp_path):
    assert LanHdr.from_config(tiny.get_config()).get_config() == tiny.get_config()
    path = tmp_path / "lanhdr.keras"
    tiny.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, LanHdr) and loaded.tdim == 2 and loaded.nframes == 5
    feeds = video_inputs(16, 24, seed=5)
    np.testing.assert_allclose(loaded(feeds)["output"].numpy(),
                               tiny(feeds)["output"].numpy(), atol=1e-6)


def test_window_model_composes_with_the_input_builder(tiny):
    """A functional video model (ldr [B,T,H,W,3], exposures [B,T]) -> hdr, as the video
    inference contract wants, is LanHdrInputs followed by the window model."""
    ldr = keras.Input((5, None, None, 3), name="ldr")
    exposures = keras.Input((5,), name="exposures")
    hdr = tiny(LanHdrInputs(name="lanhdr_inputs")(ldr, exposures))["output"]
    video = keras.Model({"ldr": ldr, "exposures": exposures}, hdr)
    rng = np.random.default_rng(2)
    x = {"ldr": rng.random((1, 5, 13, 17, 3), dtype=np.float32),
         "exposures": np.float32([[1, 4, 1, 4, 1]])}
    np.testing.assert_array_equal(video(x).numpy(),
                                  tiny(LanHdrInputs()(**x))["output"].numpy())


def test_inputs_per_sample_exposures():
    """Each sample of a batch is re-exposed with its own exposure times."""
    a = video_inputs(6, 8, batch=1, seed=7, pattern=(1.0, 4.0))
    b = video_inputs(6, 8, batch=1, seed=7, pattern=(1.0, 8.0))
    rng = np.random.default_rng(7)
    ldr = rng.random((1, 5, 6, 8, 3), dtype=np.float32)
    both = LanHdrInputs()(tf.constant(np.concatenate([ldr, ldr])),
                          tf.constant([[1, 4, 1, 4, 1], [1, 8, 1, 8, 1]], tf.float32))
    for key in ("input_exp_ys_1", "inputs_3"):
        np.testing.assert_array_equal(both[key].numpy(), np.concatenate([a[key], b[key]]))
    assert np.abs(a["input_exp_ys_1"] - b["input_exp_ys_1"]).max() > 0.01


def test_rgb_import_permutes_colour_channels(fixture_2e, loaded_2e):
    meta, weights, _ = fixture_2e
    _, feeds, y_plain = loaded_2e
    flipped = lanhdr_convert.load_reference("lanhdr_2e", weights, meta["config"], rgb=True)
    perm = {"inputs": [2, 1, 0, 5, 4, 3, 6], "input_ys": [0, 3, 2, 1],
            "input_exp_ys": [0, 3, 2, 1]}
    swapped = {k: v[..., perm[k.rsplit("_", 1)[0]]] for k, v in feeds.items()}
    y_flip = flipped(swapped)["output"].numpy()
    np.testing.assert_allclose(y_flip, y_plain[..., ::-1], atol=1e-5)
    assert np.abs(y_flip - y_plain).max() > 1e-4  # the permutation is not a no-op


def test_module_prefix_and_inferred_config(fixture_2e, loaded_2e):
    _, weights, _ = fixture_2e
    _, feeds, y_plain = loaded_2e
    wrapped = {"module." + k: v for k, v in weights.items()}
    model = convert.load_reference("lanhdr_2e", wrapped, None)
    assert (model.ch, model.tdim, model.nframes, model.nexps) == (16, 6, 5, 2)
    np.testing.assert_array_equal(model(feeds)["output"].numpy(), y_plain)


def test_strict_loading_and_config_errors(fixture_2e, loaded_2e, tiny):
    meta, weights, _ = fixture_2e
    broken = dict(weights)
    del broken["align.Fuser.conv_gate.bias"]
    broken["align.extra.weight"] = np.zeros(3, np.float32)
    with pytest.raises(ConfigError, match=r"align\.Fuser\.conv_gate\.bias") as e:
        lanhdr_convert.assign_weights(loaded_2e[0], broken)
    assert "align.extra.weight" in str(e.value)
    with pytest.raises(ConfigError, match="shape"):  # weights of another config
        lanhdr_convert.assign_weights(tiny, weights)
    with pytest.raises(ConfigError, match="nframes must be 7"):
        convert.load_reference("lanhdr_3e", weights, meta["config"])
    with pytest.raises(ConfigError, match="unknown config keys"):
        convert.load_reference("lanhdr_2e", weights, dict(meta["config"], lr=1e-4))
