"""hdrkeras.metrics against straightforward float64 numpy implementations."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from hdrkeras import metrics

MU = 5000.0


def _np_psnr(a, b, data_range=1.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(data_range ** 2 / mse)


def _np_mu(x):
    return np.log(1 + MU * x) / np.log(1 + MU)


def _np_ssim(a, b):
    """Plain SSIM: 2-D Gaussian window (11, sigma 1.5) at every valid position, per channel."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    x = np.arange(11) - 5.0
    g = np.exp(-x ** 2 / (2 * 1.5 ** 2))
    win = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    vals = []
    for c in range(a.shape[-1]):
        pa = np.lib.stride_tricks.sliding_window_view(a[..., c], (11, 11))
        pb = np.lib.stride_tricks.sliding_window_view(b[..., c], (11, 11))
        mu_a = np.einsum("ijkl,kl->ij", pa, win)
        mu_b = np.einsum("ijkl,kl->ij", pb, win)
        va = np.einsum("ijkl,kl->ij", pa ** 2, win) - mu_a ** 2
        vb = np.einsum("ijkl,kl->ij", pb ** 2, win) - mu_b ** 2
        cov = np.einsum("ijkl,kl->ij", pa * pb, win) - mu_a * mu_b
        m = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2))
        vals.append(m)
    return np.mean(vals)


@pytest.fixture
def pair(rng):
    """Two images of a batch of 2: linear HDR target in [0,1] and a noisy prediction."""
    target = (rng.random((2, 23, 19, 3)) ** 3).astype(np.float32)
    noise = rng.normal(0, [[[[0.02]]], [[[0.08]]]], target.shape)
    pred = np.clip(target + noise, 0, 1).astype(np.float32)
    return pred, target


def test_psnr_l_and_mu_match_numpy(pair):
    pred, target = pair
    pl = metrics.psnr_l(pred, target).numpy()
    pm = metrics.psnr_mu(pred, target).numpy()
    assert pl.shape == (2,) and pl.dtype == np.float32
    for i in range(2):
        assert pl[i] == pytest.approx(_np_psnr(pred[i], target[i]), abs=1e-3)
        assert pm[i] == pytest.approx(_np_psnr(_np_mu(pred[i]), _np_mu(target[i])), abs=1e-3)
    assert pl[0] > pl[1]  # per-image, not pooled


def test_psnr_hand_values_and_no_clipping():
    t = np.zeros((1, 4, 4, 3), np.float32)
    assert metrics.psnr_l(t + 0.1, t).numpy()[0] == pytest.approx(20.0, abs=1e-4)
    # PSNR-l does not clip: an over-range prediction is penalised in full
    assert metrics.psnr_l(t + 2.0, t).numpy()[0] == pytest.approx(-10 * np.log10(4.0), abs=1e-4)
    assert np.isinf(metrics.psnr_mu(t + 0.5, t + 0.5).numpy()[0])


def test_ssim_matches_numpy_window_implementation(pair):
    pred, target = pair
    sl = metrics.ssim_l(pred, target).numpy()
    sm = metrics.ssim_mu(pred, target).numpy()
    for i in range(2):
        assert sl[i] == pytest.approx(_np_ssim(pred[i], target[i]), abs=2e-5)
        assert sm[i] == pytest.approx(_np_ssim(_np_mu(pred[i]), _np_mu(target[i])), abs=2e-5)
    np.testing.assert_allclose(metrics.ssim_l(target, target).numpy(), 1.0, atol=1e-6)


def test_ssim_equals_official_calculate_ssim_recipe(pair):
    """The reference scales to [0,255], cv2.filter2D's each channel, crops 5 px, averages."""
    pred, target = pair
    a, b = pred[0].astype(np.float64) * 255, target[0].astype(np.float64) * 255
    g = cv2.getGaussianKernel(11, 1.5)
    w = g @ g.T
    f = lambda x: cv2.filter2D(x, -1, w)[5:-5, 5:-5]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    m1, m2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - m1 ** 2, f(b * b) - m2 ** 2, f(a * b) - m1 * m2
    ref = np.mean(((2 * m1 * m2 + c1) * (2 * s12 + c2)) / ((m1 ** 2 + m2 ** 2 + c1) * (s1 + s2 + c2)))
    assert metrics.ssim_l(pred[:1], target[:1]).numpy()[0] == pytest.approx(ref, abs=2e-5)


def test_ssim_clips_to_unit_range(pair):
    pred, target = pair
    over = pred.copy()
    over[:, :5] += 3.0
    np.testing.assert_allclose(metrics.ssim_l(over, target).numpy(),
                               metrics.ssim_l(np.clip(over, 0, 1), target).numpy(), atol=1e-6)


def test_pu21_psnr_matches_numpy(pair):
    pred, target = pair
    p = (0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627,
         0.09150303166, 0.9099517204, 596.3148142)

    def enc(x):
        y = np.clip(x.astype(np.float64) * 1000.0, 0.005, 10000.0)
        return p[6] * (((p[0] + p[1] * y ** p[3]) / (1 + p[2] * y ** p[3])) ** p[4] - p[5])

    out = metrics.pu21_psnr(pred, target).numpy()
    for i in range(2):
        assert out[i] == pytest.approx(_np_psnr(enc(pred[i]), enc(target[i]), 256.0), abs=1e-3)
    brighter = metrics.pu21_psnr(pred, target, peak_luminance=100.0).numpy()
    assert not np.allclose(brighter, out)


def test_metrics_accept_single_image_and_run_in_graph_mode(pair):
    pred, target = pair
    assert metrics.psnr_mu(pred[0], target[0]).shape == (1,)
    spec = tf.TensorSpec([None, None, None, 3])
    for fn in (metrics.psnr_l, metrics.psnr_mu, metrics.ssim_l, metrics.ssim_mu, metrics.pu21_psnr):
        graph = tf.function(fn, input_signature=[spec, spec])
        np.testing.assert_allclose(graph(pred, target).numpy(), fn(pred, target).numpy(), rtol=1e-5)


def test_metrics_reject_mismatched_shapes(pair):
    pred, target = pair
    with pytest.raises(ValueError, match="differ"):
        metrics.psnr_l(pred[:, :20], target)
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim_l(pred[:, :10], target[:, :10])
