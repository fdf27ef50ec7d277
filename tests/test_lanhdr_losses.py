"""LAN-HDR objective: parity with utils/loss.py + trainer.py (lanhdr_losses), the VGG19
relu5_1 MSE term and its missing-weights error."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import load_fixture
from hdrkeras import convert, vgg
from hdrkeras.errors import MissingWeightsError
from hdrkeras.losses import CharbonnierLoss, FrequencyL1, LanHdrLoss
from hdrkeras.ops.tonemap import mu_law


def test_loss_parity():
    meta, weights, io = load_fixture("lanhdr_losses")
    out = convert.parity_forward("lanhdr_losses", weights, meta["config"], io)
    assert set(out) == {k for k in io if k.startswith("out_")}
    tol = meta["tolerance"]["max_abs"]
    for key, value in out.items():
        assert value.shape == io[key].shape, key
        err = np.abs(value - io[key]).max()
        assert err <= tol, f"{key}: max abs error {err:.3g} > {tol}"


def test_frequency_and_charbonnier_formulas(rng):
    a = rng.random((2, 6, 5, 3), dtype=np.float32)
    b = rng.random((2, 6, 5, 3), dtype=np.float32)

    def spec(x):
        return np.fft.fft2(np.transpose(mu_law(x.astype(np.float64)), (0, 3, 1, 2)))

    np.testing.assert_allclose(FrequencyL1()(a, b).numpy(), np.abs(spec(a) - spec(b)).mean(),
                               rtol=1e-5)
    np.testing.assert_allclose(CharbonnierLoss()(a, b).numpy(),
                               np.sqrt((a - b) ** 2 + 1e-12).mean(), rtol=1e-6)


class _PixelFeatures:
    """Stand-in for the VGG (its ImageNet weights are not available in tests): the
    'features' are the input pixels, so the perceptual term must be their MSE."""

    def __init__(self, arch, layers, weights_path=None):
        assert arch == "vgg19" and list(layers) == ["relu5_1"]

    def __call__(self, images):
        return [images]


def test_perceptual_term_is_mse_of_relu5_1(monkeypatch, rng):
    monkeypatch.setattr(vgg, "VGGFeatures", _PixelFeatures)
    x = [rng.random((1, 8, 8, 3), dtype=np.float32) for _ in range(4)]
    terms = LanHdrLoss().terms(*x)
    tp, tt = mu_law(x[0]), mu_law(x[1])
    np.testing.assert_allclose(terms["vgg"].numpy(), ((tp - tt) ** 2).mean(), rtol=1e-5)
    expected = terms["l1"] + 0.1 * (terms["vgg"] + terms["frequency"] + terms["temporal"])
    np.testing.assert_allclose(terms["total"].numpy(), expected.numpy(), rtol=1e-6)


def test_missing_vgg_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="VGG19"):
        LanHdrLoss()
    with pytest.raises(MissingWeightsError, match="nowhere.h5"):
        LanHdrLoss(vgg_weights_path=tmp_path / "nowhere.h5")
    loss = LanHdrLoss(vgg_weight=0.0)  # no VGG needed
    x = tf.fill((1, 8, 8, 3), 0.25)
    assert float(loss.terms(x, x * 2, x, x)["vgg"]) == 0.0
