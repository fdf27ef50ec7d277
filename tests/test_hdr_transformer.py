"""HDR-Transformer: parity with the official model (direct and SelfHDR chop paths),
any-size inference, config and save/load, RGB import, strict weight loading."""


import keras
import numpy as np
import pytest

from conftest import (backbone_frames, check_compiled_inference,
                      check_mixed_precision_inference, load_fixture)
from hdrkeras import convert
from hdrkeras.convert.hdr_transformer import load_reference
from hdrkeras.errors import ConfigError
from hdrkeras.models.hdr_transformer import HDRTransformer

TINY = {"embed_dim": 16, "depths": [2, 1], "num_heads": [2, 4], "window_size": 8,
        "mlp_ratio": 2.0}


def frames(h, w, seed=0, batch=1):
    """The three backbone frames keyed by the official argument names x1, x2, x3."""
    return dict(zip(("x1", "x2", "x3"), backbone_frames(h, w, seed, batch)))


def test_parity_direct_and_chop_paths():
    meta, weights, io = load_fixture("hdr_transformer")
    out = convert.parity_forward("hdr_transformer", weights, meta["config"], io)
    assert set(out) == {"out_hdr_chop", "out_hdr_chop_uncropped", "out_hdr_in2",
                        "out_hdr_in2_chop"}
    tol = meta["tolerance"]["max_abs"]
    for key in out:
        assert out[key].shape == io[key].shape, key
        err = np.abs(out[key] - io[key]).max()
        assert err <= tol, f"{key}: max abs error {err:.3g} > {tol}"


def test_param_counts():
    meta, _, _ = load_fixture("hdr_transformer")
    assert HDRTransformer().count_params() == 1_222_113 == meta["default_config_params"]
    assert (HDRTransformer(embed_dim=24, depths=[2, 2], num_heads=[3, 3]).count_params()
            == meta["fixture_config_params"])


@pytest.mark.parametrize("padding", ["bottom_right", "center_chop"])
def test_odd_size_in_equals_size_out(padding):
    model = HDRTransformer(**TINY, padding=padding)
    y = model(frames(37, 53), training=False).numpy()
    assert y.shape == (1, 37, 53, 3)
    assert np.isfinite(y).all() and y.min() >= 0 and y.max() <= 1


def test_band_loop_equals_vectorised_path():
    model = HDRTransformer(**TINY, drop_path_rate=0.0)
    x = frames(24, 40, batch=2)
    np.testing.assert_allclose(model(x, training=False).numpy(),
                               model(x, training=True).numpy(), atol=2e-6)


def test_compiled_inference_equals_eager():
    """Inside a tf.function, CPU inference runs each Swin block XLA-compiled."""
    model = HDRTransformer(**TINY)
    x = frames(37, 53)
    check_compiled_inference(model, x)


def test_mixed_precision_compiled_inference():
    """The compiled LCE folds a float32 LayerNorm into a bf16 conv: dtypes must meet."""
    check_mixed_precision_inference(
        lambda: HDRTransformer(**TINY, drop_path_rate=0.0), frames(24, 40))


def test_keras_save_load_round_trip(tmp_path):
    model = HDRTransformer(**TINY, padding="center_chop")
    assert HDRTransformer.from_config(model.get_config()).get_config() == model.get_config()
    path = tmp_path / "hdr_transformer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, HDRTransformer) and loaded.padding == "center_chop"
    x = frames(20, 28, seed=5)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_rgb_conversion_permutes_first_and_last_convs():
    meta, weights, io = load_fixture("hdr_transformer")
    bgr = load_reference("hdr_transformer", weights, meta["config"])
    rgb = load_reference("hdr_transformer", weights, meta["config"], rgb=True)
    x_bgr = {f"x{i}": np.transpose(io[f"x{i}"], (0, 2, 3, 1)) for i in (1, 2, 3)}
    perm = [2, 1, 0, 5, 4, 3]
    x_rgb = {k: v[..., perm] for k, v in x_bgr.items()}
    y_bgr = bgr(x_bgr).numpy()
    y_rgb = rgb(x_rgb).numpy()
    np.testing.assert_allclose(y_rgb, y_bgr[..., ::-1], atol=1e-6)
    assert np.abs(y_rgb - y_bgr).max() > 1e-4


def test_strict_loading_and_inferred_config():
    meta, weights, _ = load_fixture("hdr_transformer")
    model = convert.load_reference("hdr_transformer",
                                   {"module." + k: v for k, v in weights.items()}, None)
    assert (model.embed_dim, model.depths, model.num_heads) == (24, [2, 2], [3, 3])
    broken = dict(weights)
    del broken["layers.1.residual_group.blocks.0.lce.fc.2.weight"]
    with pytest.raises(ConfigError, match=r"missing keys: layers\.1\.residual_group\.blocks"
                                          r"\.0\.lce\.fc\.2\.weight"):
        convert.load_reference("hdr_transformer", broken, meta["config"])
    with pytest.raises(ConfigError, match="unknown config key 'upscale'"):
        convert.load_reference("hdr_transformer", weights, dict(meta["config"], upscale=2))


@pytest.mark.parametrize("shift", [0, 4])
def test_context_block_compiled_equals_plain_with_trained_like_weights(shift):
    """The XLA inference path folds norm1 into the LCE's first conv and runs its 3x3
    conv as fused products: equal to the plain layers when every LayerNorm scale and
    shift and every bias is non-trivial (fresh layers have gamma 1, beta 0, bias 0)."""
    import tensorflow as tf

    from hdrkeras.layers.shifted_window_mask import ShiftedWindowMask
    from hdrkeras.layers.swin_block import SwinBlock

    rng = np.random.default_rng(shift)
    x = tf.constant(rng.normal(0.5, 2.0, (2, 16, 24, 16)), tf.float32)
    mask = ShiftedWindowMask(8, 4)(x)
    block = SwinBlock(2, 8, shift, 2.0, local_context=True)
    block([x, mask])
    for weight in block.weights:
        weight.assign(weight + rng.normal(0, 0.3, weight.shape).astype("float32"))
    plain = block([x, mask], training=True).numpy()  # vectorised, drop_path is 0
    compiled = tf.function(lambda a, m: block([a, m], training=False))(x, mask).numpy()
    np.testing.assert_allclose(compiled, plain, atol=2e-5, rtol=1e-5)
    lce_plain = block.lce(block.norm1(x)).numpy()
    lce_fused = tf.function(block.lce.compiled_call, jit_compile=True)(x, block.norm1).numpy()
    assert np.abs(lce_plain).max() > 1e-2
    np.testing.assert_allclose(lce_fused, lce_plain, atol=2e-6, rtol=1e-5)
