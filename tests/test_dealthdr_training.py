"""DeAltHDR's supervised and self-supervised stages: the official schedules and loss
pieces, and a few optimiser steps (the runner's compiled step, optimiser and after_step)
lowering each stage's loss on a tiny synthetic clip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hdrkeras import methods
from hdrkeras.methods.dealthdr_recipe import (MIXED_POINTS, SelfSupervisedTask,
                                              SupervisedTask, sample_sensitivity,
                                              subset_index, teacher_of, window_indices)
from hdrkeras.training import RunConfig
from hdrkeras.training.runner import make_optimizer, stage_hyperparameters
from video_clip import moving_clip

TINY = {"dim": 8, "Enc_blocks": [1, 1, 1], "Middle_blocks": 1, "Dec_blocks": [1, 1, 1]}


@pytest.fixture(scope="module")
def method():
    return methods.get("dealthdr")


@pytest.fixture(scope="module")
def clip():
    """One 5-frame clip, 32x32, short/long 1:8, with per-frame linear ground truth."""
    seq = moving_clip(5, 32, 32, levels=(1.0, 8.0), base=0.5)
    return {"ldr": np.stack([seq.ldr(i) for i in range(5)])[None],
            "exposures": np.asarray(seq.exposures, np.float32)[None],
            "hdr": np.stack([seq.hdr(i) for i in range(5)])[None].astype(np.float32)}


def test_official_schedules(method):
    sup, real = method.stage("supervised"), method.stage("selfsup")
    assert (sup.steps, sup.batch_size, sup.patch_size, sup.learning_rate) == (
        200_000, 6, 128, 4e-4)
    o = sup.optimizer
    assert (o.kind, o.beta_1, o.beta_2, o.weight_decay, o.clip_global_norm, o.schedule,
            o.warmup_steps, o.min_learning_rate) == ("adam", 0.9, 0.99, 0.0, 5.0, "cosine",
                                                     4000, 1e-7)
    assert (real.steps, real.batch_size, real.learning_rate) == (50_000, 2, 1e-5)
    o = real.optimizer
    assert (o.kind, o.weight_decay, o.beta_2, o.clip_global_norm, o.warmup_steps) == (
        "adamw", 1e-4, 0.99, 5.0, 0)


def test_loss_pieces_follow_the_official_code():
    assert window_indices(0) == [0, 0, 0, 1, 2] and window_indices(4) == [2, 3, 4, 4, 4]
    assert subset_index(0, 3) == [0, 2, 2, 3, 2] and subset_index(4, 1) == [2, 1, 2, 2, 4]
    assert len(MIXED_POINTS) == 16 and MIXED_POINTS[7] == 1.0 + 99.0 / 6
    gen = tf.random.Generator.from_seed(3)
    draws = np.array([float(sample_sensitivity(gen)) for _ in range(1600)])
    # P(0) = P(1000) = 1/4 + 1/2 * 1/16; each other point 1/32.
    assert abs(np.mean(draws == 0.0) - 9 / 32) < 0.04
    assert abs(np.mean(draws == 1000.0) - 9 / 32) < 0.04
    assert abs(np.mean(draws == 15.0) - 1 / 32) < 0.015
    assert set(np.unique(draws)) <= set(np.float32(MIXED_POINTS))


def _steps(method, stage_name, task, batch, steps, lr):
    """`steps` eager optimiser steps with the stage's optimiser settings (the runner's
    `make_optimizer`: Adam/AdamW, betas, clipping, warm-up + cosine scaled to `steps`)
    and `after_step`; eager because tracing the 5-window step graph costs minutes on 2
    busy cores. Returns the losses."""
    stage = method.stage(stage_name)
    hp = stage_hyperparameters(stage, RunConfig(run_dir="", train_records="", steps=steps,
                                                learning_rate=lr))
    optimizer = make_optimizer(stage, hp)
    variables = task.trainable_variables()
    optimizer.build(variables)
    batch = {k: tf.constant(v) for k, v in batch.items()}
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss, _, _ = task.loss(batch, training=True)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        task.after_step()
        losses.append(float(loss))
    return losses


@pytest.mark.slow  # eager 5-window steps: ~2.5 min on 2 busy cores
def test_supervised_steps_lower_the_loss(method, clip):
    task = SupervisedTask(method.build_inference_model(TINY), seed=1)
    before, logs, _ = task.loss(clip, training=False)  # s = 15, fixed
    assert set(logs) == {"l_pix", "l_temporal", "sensitivity"}
    _steps(method, "supervised", task, clip, 6, 2e-3)
    after, _, _ = task.loss(clip, training=False)
    assert float(after) < 0.9 * float(before)


@pytest.mark.slow  # ~2 min on 2 busy cores
def test_selfsup_steps_lower_the_loss_and_move_the_ema_teacher(method, clip):
    keras.utils.set_random_seed(3)  # the same initial weights in every run
    student = method.build_inference_model(TINY)
    teacher = teacher_of(student, lambda: method.build_inference_model(TINY))
    task = SelfSupervisedTask(student, teacher, sensitivity=15.0, seed=2)
    assert not task.teacher.trainable_variables and task.trainable == ("dealthdr",)
    batch = {"ldr": clip["ldr"], "exposures": clip["exposures"]}
    start = [v.numpy().copy() for v in teacher.ema_variables]
    _steps(method, "selfsup", task, batch, 1, 1e-5)
    # One step: teacher = 0.999 teacher + 0.001 student.
    for t, s, t0 in zip(teacher.ema_variables, student.trainable_variables, start):
        np.testing.assert_allclose(t.numpy(), 0.999 * t0 + 0.001 * s.numpy(), atol=1e-7)
    # Steps with the stage's optimiser stay finite and train the student.
    before_w = [v.numpy().copy() for v in student.trainable_variables]
    assert np.all(np.isfinite(_steps(method, "selfsup", task, batch, 2, 1e-5)))
    assert max(np.abs(v.numpy() - b).max()
               for v, b in zip(student.trainable_variables, before_w)) > 1e-7
    # The objective's targets (the student's own all-neighbour output and the teacher's)
    # move with the student, so the loss is judged against the targets a step aims at:
    # with the draw and both targets held, a small enough step down its gradient lowers
    # it. Near a random init this loss is small and very sharp (the attention's
    # normalised features and the flow-consistency mask flip with tiny weight changes):
    # Adam's sign-like steps raise it even at 1e-6 and a step of 5e-5 along the gradient
    # may too, so the step is shortened until the loss falls (a gradient of the wrong
    # sign, or none, never lowers it); unheld, any step also moves the student away from
    # its 0.999-EMA teacher.
    tb = {k: tf.constant(v) for k, v in batch.items()}
    task.generator.reset_from_seed(11)
    idx = task.draw_subset()
    hat, ema = task.targets(tb)
    variables = task.trainable_variables()
    before = float(task.consistency(tb, idx, hat, ema)[0])
    with tf.GradientTape() as tape:
        total = task.consistency(tb, idx, hat, ema)[0]
    grads = tape.gradient(total, variables)
    norm = tf.linalg.global_norm(grads)
    start = [v.numpy() for v in variables]
    after = {}
    for step in (1e-5, 1e-6, 1e-7):
        for v, g, w in zip(variables, grads, start):
            v.assign(w - step * g / norm)
        after[step] = float(task.consistency(tb, idx, hat, ema)[0])
        if after[step] < before:
            break
    assert min(after.values()) < before, (before, after)
