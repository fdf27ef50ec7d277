"""What a video method needs from the runner: its own training dataset, per-stage optimiser
settings (AdamW, warm-up + cosine, clipping) scaled by --steps, and a post-step hook."""

import json

import keras
import numpy as np
import tensorflow as tf

from hdrkeras.methods.base import Method, OptimizerSettings, Stage, TrainTask
from hdrkeras.training import RunConfig, run


class _Task(TrainTask):
    """A 1x1 conv fitted to a fixed target; an EMA copy follows it through `after_step`."""

    def __init__(self):
        inp = keras.Input((4, 4, 3))
        self.student = keras.Model(inp, keras.layers.Conv2D(3, 1, name="conv")(inp),
                                   name="student")
        self.networks = {"student": self.student}
        self.trainable = ("student",)
        self.steps_seen = tf.Variable(0, trainable=False, dtype=tf.int64)
        self.ema = [tf.Variable(tf.zeros_like(v)) for v in self.student.trainable_variables]

    def loss(self, batch, training=True):
        pred = self.student(batch["x"], training=training)
        loss = tf.reduce_mean(tf.square(pred - batch["y"]))
        return loss, {}, {}

    def after_step(self):
        self.steps_seen.assign_add(1)
        for e, v in zip(self.ema, self.student.trainable_variables):
            e.assign(0.5 * e + 0.5 * v)


class _VideoLike(Method):
    name = "hook_test"
    kind = "video"

    def __init__(self):
        self.task = _Task()
        self.datasets_built = []
        self.stages = (Stage("train", lambda options, previous: self.task, steps=1000,
                             batch_size=2, patch_size=4, learning_rate=1e-2,
                             optimizer=OptimizerSettings(
                                 "adamw", 0.9, 0.99, weight_decay=0.01,
                                 clip_global_norm=1.0, schedule="cosine", warmup_steps=400,
                                 min_learning_rate=1e-7)),)

    def train_dataset(self, stage_name, config, hp, previous):
        self.datasets_built.append((stage_name, hp["batch_size"]))
        rng = np.random.default_rng(0)
        x = rng.random((8, 4, 4, 3)).astype(np.float32)
        return tf.data.Dataset.from_tensor_slices({"x": x, "y": x[..., ::-1] * 2.0}) \
            .repeat().batch(hp["batch_size"])

    def val_dataset(self, config):
        return None


def test_video_method_trains_through_its_hooks(tmp_path):
    method = _VideoLike()
    before = [v.numpy().copy() for v in method.task.student.trainable_variables]
    lines = []
    run(method, "all", RunConfig(run_dir=str(tmp_path / "run"), train_records="", steps=5,
                                 checkpoint_every=5, log_every=5, preview_every=0),
        log=lines.append)
    assert method.datasets_built == [("train", 2)]
    assert int(method.task.steps_seen.numpy()) == 5
    after = [v.numpy() for v in method.task.student.trainable_variables]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(after, before))
    # EMA of the student after 5 updates from zero: a non-zero blend, not the student.
    ema = [e.numpy() for e in method.task.ema]
    assert all(np.abs(e).max() > 0 for e in ema) and not np.allclose(ema[0], after[0])
    done = json.loads((tmp_path / "run" / "train" / "done.json").read_text())
    hp = done["hyperparameters"]
    assert hp["warmup_steps"] == 2  # 400 of 1000 paper steps -> 2 of 5
    assert hp["optimizer"]["kind"] == "adamw" and hp["optimizer"]["clip_global_norm"] == 1.0
    assert any("adamw lr 0.01 (2 warm-up steps, cosine to 1e-07)" in line for line in lines)


class _DeadTask(_Task):
    """The student behind a ReLU whose inputs are all negative: gradients exactly zero."""

    def __init__(self):
        super().__init__()
        conv = self.student.get_layer("conv")
        conv.kernel.assign(tf.zeros_like(conv.kernel))
        conv.bias.assign(-tf.ones_like(conv.bias))

    def loss(self, batch, training=True):
        pred = tf.nn.relu(self.student(batch["x"], training=training))
        return tf.reduce_mean(tf.square(pred - batch["y"])), {}, {}


def test_runner_warns_when_the_gradient_stays_exactly_zero(tmp_path):
    """A saturated output learns nothing; the run says so once (after 20 steps), not never."""
    method = _VideoLike()
    method.task = _DeadTask()
    lines = []
    run(method, "all", RunConfig(run_dir=str(tmp_path / "run"), train_records="", steps=25,
                                 checkpoint_every=25, log_every=25, preview_every=0),
        log=lines.append)
    warnings = [line for line in lines if "gradient has been exactly zero" in line]
    assert len(warnings) == 1 and "since step 1" in warnings[0], lines


def test_runner_does_not_warn_while_learning(tmp_path):
    lines = []
    run(_VideoLike(), "all", RunConfig(run_dir=str(tmp_path / "run"), train_records="",
                                       steps=25, checkpoint_every=25, log_every=25,
                                       preview_every=0), log=lines.append)
    assert not [line for line in lines if "WARNING" in line], lines
