"""Winograd F(2x2, 3x3) conv and the FastConv2D layer that picks it: equal to tf.nn.conv2d,
and chosen only where cpu_inference.use_winograd says so."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.errors import ConfigError
from hdrkeras.layers import cpu_inference
from hdrkeras.layers.fast_conv2d import FastConv2D
from hdrkeras.ops import winograd


@pytest.mark.parametrize("batch,height,width,cin,cout", [
    (2, 5, 7, 3, 4), (1, 1, 1, 8, 2), (1, 2, 3, 5, 6), (1, 9, 4, 33, 17), (2, 8, 8, 64, 3)])
def test_winograd_equals_conv2d(rng, batch, height, width, cin, cout):
    x = rng.standard_normal((batch, height, width, cin)).astype(np.float32)
    k = rng.standard_normal((3, 3, cin, cout)).astype(np.float32)
    want = tf.nn.conv2d(x, k, 1, "SAME").numpy()
    got = winograd.conv3x3_same(tf.constant(x), winograd.transform_kernel(tf.constant(k)))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=2e-5 * np.abs(want).max())


def _pair(cin, cout, **kwargs):
    """A keras Conv2D and a FastConv2D with the same weights, built for `cin` inputs."""
    plain = keras.layers.Conv2D(cout, 3, padding="same", **kwargs)
    fast = FastConv2D(cout, 3, padding="same", **kwargs)
    for layer in (plain, fast):
        layer.build((None, None, None, cin))
    fast.set_weights([w + 0.1 * np.float32(i) for i, w in enumerate(plain.get_weights())])
    plain.set_weights(fast.get_weights())
    return plain, fast


@pytest.mark.parametrize("forced", ["1", "0"])
def test_fast_conv2d_matches_conv2d_eager_graph_and_portable(rng, monkeypatch, forced):
    monkeypatch.setenv(cpu_inference.WINOGRAD_VAR, forced)
    plain, fast = _pair(40, 7, activation="relu")
    x = tf.constant(rng.standard_normal((1, 11, 6, 40)).astype(np.float32))
    want = plain(x).numpy()
    np.testing.assert_allclose(fast(x).numpy(), want, atol=1e-4)
    np.testing.assert_allclose(tf.function(fast)(x).numpy(), want, atol=1e-4)
    with cpu_inference.portable_graphs():
        np.testing.assert_allclose(tf.function(fast)(x).numpy(), want, atol=1e-4)


def test_fast_conv2d_runs_winograd_only_where_the_policy_says(rng, monkeypatch):
    calls = []
    original = winograd.conv3x3_same
    monkeypatch.setattr(winograd, "conv3x3_same", lambda *a: calls.append(1) or original(*a))
    x = tf.constant(rng.standard_normal((1, 6, 6, 32)).astype(np.float32))
    monkeypatch.setenv(cpu_inference.WINOGRAD_VAR, "1")
    with cpu_inference.portable_graphs():  # not XLA-compiled, so the call is seen eagerly
        _pair(32, 4)[1](x)
        assert len(calls) == 1
        _pair(32, 4)[1](x, training=True)          # training keeps tf.nn.conv2d
        _pair(31, 4)[1](x[..., :31])               # too narrow
        for kwargs in ({"strides": 2}, {"dilation_rate": 2}):
            _pair(32, 4, **kwargs)[1](x)
        assert len(calls) == 1


def test_winograd_policy(monkeypatch):
    monkeypatch.setenv(cpu_inference.WINOGRAD_VAR, "auto")
    monkeypatch.setattr(cpu_inference, "has_avx512", lambda: False)
    assert not cpu_inference.use_winograd(False, 64)        # eager: plain conv

    @tf.function
    def traced(training, channels):
        return cpu_inference.use_winograd(training, channels)

    assert traced(False, 64) and not traced(True, 64) and not traced(False, 16)
    monkeypatch.setattr(cpu_inference, "has_avx512", lambda: True)
    assert not tf.function(lambda: cpu_inference.use_winograd(False, 64))()
    monkeypatch.setenv(cpu_inference.WINOGRAD_VAR, "1")
    assert cpu_inference.use_winograd(False, 64)
    monkeypatch.setenv(cpu_inference.WINOGRAD_VAR, "yes")
    with pytest.raises(ConfigError, match="HDRKERAS_WINOGRAD"):
        cpu_inference.use_winograd(False, 64)
