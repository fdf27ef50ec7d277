"""LAN-HDR's on-the-fly training data: frame choice, exposure patterns, re-exposure, shared
crops between the two windows, determinism."""

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.methods import lanhdr_recipe as recipe


def source(h=40, w=56, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random((h, w, 3)).astype(np.float32) * 0.9 + 0.05
    # Seven frames of one scene, each shifted a pixel: a slow pan.
    return np.stack([np.roll(base, k, axis=1) for k in range(7)])


@pytest.mark.parametrize("nexps,nframes", [(2, 5), (3, 7)])
def test_shapes_patterns_and_determinism(nexps, nframes):
    seed = tf.constant([3, 4], tf.int32)
    a = recipe.training_pair(source(), seed, nexps, nframes, crop=32)
    b = recipe.training_pair(source(), seed, nexps, nframes, crop=32)
    assert a["ldr"].shape == (2, nframes, 32, 32, 3) and a["hdr"].shape == (2, 32, 32, 3)
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
    t = a["exposures"].numpy()
    levels = sorted(set(t.ravel().tolist()))
    assert len(levels) == nexps and levels[0] == 1.0
    assert levels[1:] in ([4.0], [8.0], [4.0, 16.0])
    # Window 2 continues window 1's alternation, and the pattern alternates.
    np.testing.assert_array_equal(t[1][:-1], t[0][1:])
    assert all(t[0][i] != t[0][i + 1] for i in range(nframes - 1))
    assert a["ldr"].numpy().min() >= 0 and a["ldr"].numpy().max() <= 1
    assert 0 <= a["hdr"].numpy().min() and a["hdr"].numpy().max() <= 1
    c = recipe.training_pair(source(), tf.constant([3, 5], tf.int32), nexps, nframes, crop=32)
    assert not np.array_equal(a["ldr"].numpy(), c["ldr"].numpy())


def test_frame_choice():
    for s in range(20):
        idx = recipe.frame_indices(tf.constant([s, 1]), 2).numpy()
        assert len(idx) == 6 and len(set(idx)) == 6
        assert list(idx) in (sorted(idx), sorted(idx)[::-1])
        idx3 = recipe.frame_indices(tf.constant([s, 1]), 3).numpy()
        fwd = idx3 if idx3[0] == 0 else idx3[::-1]
        assert list(fwd[:7]) == list(range(7)) and fwd[7] in (4, 5, 6)


def _ratio_spread(out, nframes):
    """Spread of (L^2.2/t) window-1 frame k+1 over window-2 frame k, well-exposed pixels: the
    same source frame re-exposed with two anchors, so a constant when crops are shared."""
    ldr, t = out["ldr"].numpy(), out["exposures"].numpy()
    spreads = []
    for k in range(nframes - 1):
        a, b = ldr[0, k + 1], ldr[1, k]
        ok = (a > 0.2) & (a < 0.8) & (b > 0.2) & (b < 0.8)
        r = (a[ok] ** 2.2 / t[0, k + 1]) / (b[ok] ** 2.2 / t[1, k])
        spreads.append(np.std(r) / np.mean(r))
    return min(spreads)


def test_windows_share_one_crop_unless_asked_otherwise():
    seed = tf.constant([11, 2], tf.int32)
    shared = recipe.training_pair(source(), seed, 2, 5, crop=32)
    assert _ratio_spread(shared, 5) < 0.02
    independent = recipe.training_pair(source(), seed, 2, 5, crop=32, independent_windows=True)
    assert _ratio_spread(independent, 5) > 0.1


def test_reexposure_and_noise():
    linear = tf.constant(np.linspace(0.0, 0.5, 5 * 8 * 8 * 3, dtype=np.float32)
                         .reshape(5, 8, 8, 3))
    t = tf.constant([1.0, 4.0, 1.0, 4.0, 1.0])
    ldr, hdr = recipe.reexpose(linear, t, tf.constant([1, 2]))
    np.testing.assert_allclose(ldr.numpy(), np.clip((hdr.numpy() * t.numpy()[:, None, None, None])
                                                    ** (1 / 2.2), 0, 1), atol=1e-6)
    # Short centre frame: its maximum is scaled by U(0.1, 1).
    assert 0.05 - 1e-6 <= hdr.numpy()[2].max() <= 0.5 + 1e-6
    hits = 0
    for s in range(30):
        noisy = recipe.perturb_darker_frames(ldr, t, tf.constant([s, 9])).numpy()
        changed = [not np.allclose(noisy[i], ldr.numpy()[i]) for i in range(5)]
        assert not changed[1] and not changed[3]  # long frames stay clean
        hits += changed[0]
    assert 20 <= hits <= 30  # p = 0.9


def test_linear_source_skips_the_camera_curve():
    lin = source() * 100.0
    out = recipe.training_pair(lin, tf.constant([1, 1]), 2, 5, crop=16, linear=True)
    assert np.isfinite(out["hdr"].numpy()).all() and out["hdr"].numpy().max() <= 1.0
