"""Stage optimisers: schedules against their closed forms, AdamW's decoupled decay and
global-norm clipping against a numpy Adam written from the update rule."""

import math

import numpy as np
import pytest

from hdrkeras.training.optimizers import (OptimizerSettings, build_optimizer,
                                          learning_rate_schedule, scaled_steps)
from hdrkeras.training.schedules import StepDecay, WarmupCosine


def test_warmup_cosine_closed_form():
    s = WarmupCosine(4e-4, total_steps=100, warmup_steps=10, min_learning_rate=1e-7)
    got = [float(s(k)) for k in (0, 4, 9, 10, 55, 100, 150)]
    cos = lambda t: 1e-7 + (4e-4 - 1e-7) * 0.5 * (1 + math.cos(math.pi * t))
    want = [4e-4 * 1 / 10, 4e-4 * 5 / 10, 4e-4, cos(0.0), cos(45 / 90), 1e-7, 1e-7]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert WarmupCosine.from_config(s.get_config()).get_config() == s.get_config()


def test_step_schedule_scaled_with_the_run():
    assert scaled_steps([200_000], 300_000, 300) == [200]
    sched = learning_rate_schedule(OptimizerSettings(), 1e-4, 300, [200], 10.0)
    assert isinstance(sched, StepDecay)
    np.testing.assert_allclose([float(sched(199)), float(sched(200))], [1e-4, 1e-5], rtol=1e-6)
    const = learning_rate_schedule(OptimizerSettings(), 1e-4, 300)
    assert float(const(0)) == pytest.approx(1e-4) and float(const(10 ** 6)) == pytest.approx(1e-4)


def numpy_adam(x, grads, lr, b1, b2, eps, wd=0.0, clip=None):
    m = v = np.zeros_like(x)
    for t, g in enumerate(grads, 1):
        if clip is not None:
            g = g * min(1.0, clip / np.linalg.norm(g))
        x = x - lr * wd * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        x = x - lr * mhat / (np.sqrt(vhat) + eps)
    return x


@pytest.mark.parametrize("settings", [
    OptimizerSettings("adamw", 0.9, 0.999, 1e-8, weight_decay=0.01),
    OptimizerSettings("adam", 0.9, 0.99, 1e-8, clip_global_norm=1.0),
])
def test_update_rule_matches_numpy(settings):
    import tensorflow as tf

    x0 = np.array([0.5, -1.0, 2.0], np.float32)
    grads = [np.array([100.0, -50.0, 20.0], np.float32), np.array([0.1, 0.2, -0.3], np.float32),
             np.array([3.0, 0.0, -4.0], np.float32)]
    var = tf.Variable(x0)
    opt = build_optimizer(settings, learning_rate_schedule(settings, 1e-2, 10))
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
    want = numpy_adam(x0.astype(np.float64), [g.astype(np.float64) for g in grads], 1e-2,
                      settings.beta_1, settings.beta_2, settings.epsilon,
                      settings.weight_decay, settings.clip_global_norm)
    np.testing.assert_allclose(var.numpy(), want, rtol=1e-5, atol=1e-6)
    if settings.clip_global_norm:  # the clip matters: unclipped Adam ends elsewhere
        unclipped = numpy_adam(x0.astype(np.float64), [g.astype(np.float64) for g in grads],
                               1e-2, settings.beta_1, settings.beta_2, settings.epsilon)
        assert np.abs(unclipped - want).max() > 1e-3


def test_invalid_settings_named():
    with pytest.raises(ValueError, match="'sgd'"):
        OptimizerSettings(kind="sgd")
    with pytest.raises(ValueError, match="coupled"):
        OptimizerSettings(kind="adam", weight_decay=0.01)
    with pytest.raises(ValueError, match="schedule"):
        OptimizerSettings(schedule="linear")
