"""Method-agnostic staged training: checkpoints, resume, TensorBoard, validation.

Nothing here knows about a particular method: a method registers `Stage`s whose
`build_task` returns a `TrainTask` (networks, trainable subset, loss). The runner trains
the requested stages in order; every earlier stage is restored from its finished
checkpoint so that, e.g., ESBN's fusion stage starts behind the trained alignment nets.

On-disk layout of a run:
  RUN_DIR/<stage>/ckpt/       tf.train.Checkpoint (networks, optimizer, step[, data iterator])
  RUN_DIR/<stage>/logs/       TensorBoard events
  RUN_DIR/<stage>/best/       weights of the stage's best validation so far (best.py)
  RUN_DIR/<stage>/done.json   written when the stage finished all its steps; names the kept step
  RUN_DIR/<stage>/model.keras the stage's inference model, with the kept weights
  RUN_DIR/model.keras         the best-scoring stage's inference model (RUN_DIR/model.json
                              says which stage and step; see best.py)
"""

import json
import math
import os
import signal
import time

import keras
import numpy as np
import tensorflow as tf

from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import atomic_write_text
from hdrkeras.training import best as best_ckpt
from hdrkeras.training.config import RunConfig
from hdrkeras.training.schedules import StepDecay
from hdrkeras.training.strategy import make_strategy, set_precision


class Interrupted(Exception):
    """Training stopped by a signal after writing a checkpoint; rerun to resume."""


def stage_dir(run_dir, stage_name):
    return os.path.join(run_dir, stage_name)


def _done_path(run_dir, stage_name):
    return os.path.join(stage_dir(run_dir, stage_name), "done.json")


def stage_finished(run_dir, stage_name):
    return os.path.exists(_done_path(run_dir, stage_name))


def resolve_stages(method, requested):
    """'all' -> every stage; otherwise the one named (validated)."""
    if requested == "all":
        return [s.name for s in method.stages]
    method.stage(requested)  # raises with the known names
    return [requested]


def stage_hyperparameters(stage, config: RunConfig):
    """The stage's paper defaults with the run's overrides applied.

    When --steps shortens the schedule, the learning-rate drop points are scaled with it, so
    a short run keeps the shape of the paper's schedule (e.g. /10 at two thirds).
    """
    steps = config.steps or stage.steps
    scale = steps / float(stage.steps)
    boundaries = [max(1, int(round(b * scale))) for b in stage.lr_decay_steps]
    return {
        "steps": int(steps),
        "batch_size": int(config.batch_size or stage.batch_size),
        "patch_size": int(config.patch_size or stage.patch_size),
        "learning_rate": float(config.learning_rate or stage.learning_rate),
        "lr_boundaries": boundaries,
        "lr_factor": float(stage.lr_decay_factor),
    }


def build_task_chain(method, upto_stage, config: RunConfig, restore=True, log=print):
    """Builds the tasks of all stages before `upto_stage`, restoring each from its finished
    checkpoint, and returns {stage_name: task}.

    Raises ConfigError naming the missing stage when an earlier stage was never finished.
    """
    previous = {}
    for stage in method.stages:
        if stage.name == upto_stage:
            break
        if stage.produce is not None:
            previous[stage.name] = _produced(method, stage, config, upto_stage) if restore else {}
            continue
        task = stage.build_task(dict(config.method_options), previous)
        if restore:
            ckpt_dir = os.path.join(stage_dir(config.run_dir, stage.name), "ckpt")
            latest = best_ckpt.kept_weights(stage_dir(config.run_dir, stage.name))
            if latest is None or not stage_finished(config.run_dir, stage.name):
                raise ConfigError(
                    f"stage {upto_stage!r} of {method.name} starts from stage {stage.name!r}, but "
                    f"{ckpt_dir} holds no finished checkpoint: run --stage {stage.name} first "
                    f"(or --stage all)")
            tf.train.Checkpoint(**task.networks).read(latest).expect_partial()
            log(f"[{stage.name}] restored finished stage from {latest}")
        previous[stage.name] = task
    return previous


def _produced(method, stage, config, upto_stage):
    """Outputs recorded by a finished producer stage; ConfigError naming it otherwise."""
    path = _done_path(config.run_dir, stage.name)
    if not os.path.isfile(path):
        raise ConfigError(
            f"stage {upto_stage!r} of {method.name} needs the output of stage {stage.name!r}, "
            f"but {path} does not exist: run --stage {stage.name} first (or --stage all)")
    with open(path) as f:
        return json.load(f).get("outputs", {})


def run_producer(method, stage, config: RunConfig, previous, log=print):
    """Runs a data-producing stage once; a finished one is not redone (delete its folder
    to rebuild). Returns its outputs."""
    if stage_finished(config.run_dir, stage.name):
        outputs = _produced(method, stage, config, stage.name)
        log(f"[{stage.name}] already finished: {outputs}")
        return outputs
    out_dir = stage_dir(config.run_dir, stage.name)
    os.makedirs(out_dir, exist_ok=True)
    started = time.time()
    outputs = dict(stage.produce(method, config, previous, out_dir, log))
    atomic_write_text(_done_path(config.run_dir, stage.name), json.dumps(
        {"stage": stage.name, "outputs": outputs, "seconds": round(time.time() - started, 1),
         "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
    log(f"[{stage.name}] done in {time.time() - started:.0f} s: {outputs}")
    return outputs


def make_optimizer(stage, hp):
    schedule = StepDecay(hp["learning_rate"], hp["lr_boundaries"], hp["lr_factor"])
    return keras.optimizers.Adam(learning_rate=schedule, **dict(stage.adam))


def _build_stage(method, stage, hp, config, previous, strategy):
    """The stage's task, its optimiser (built) and the variables it updates."""
    with strategy.scope():
        task = stage.build_task(dict(config.method_options), previous)
        optimizer = make_optimizer(stage, hp)
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
        variables = task.trainable_variables()
        if not variables:
            raise ConfigError(f"stage {stage.name!r} of {method.name} has nothing to train")
        optimizer.build(variables)
    return task, optimizer, variables


def make_train_step(method, stage_name, config: RunConfig, strategy=None, restore=False):
    """Builds (task, optimizer, step_fn) for one stage; step_fn(batch) runs one optimiser step
    and returns (loss, logs). Used by `python -m hdrkeras.bench --train`; earlier stages are
    freshly initialised unless `restore`."""
    strategy = strategy or tf.distribute.get_strategy()
    stage = method.configured_stage(stage_name, config.method_options)
    if stage.produce is not None:
        raise ConfigError(f"stage {stage_name!r} of {method.name} writes data; it has no "
                          f"training step")
    hp = stage_hyperparameters(stage, config)
    with strategy.scope():
        previous = build_task_chain(method, stage_name, config, restore=restore)
    task, optimizer, variables = _build_stage(method, stage, hp, config, previous, strategy)
    return task, optimizer, _compiled_step(task, optimizer, variables, strategy, config)


class _SignalFlag:
    """Turns SIGTERM/SIGINT into a flag checked between steps, so the runner can write a
    checkpoint before leaving instead of dying mid-write."""

    def __init__(self):
        self.raised = None
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame):
        self.raised = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


def _validate(task, val_dataset, max_scenes):
    """Mean validation loss and, where the stage yields an inference model, PSNR-mu."""
    from hdrkeras import metrics

    model = task.inference_model()
    losses, psnrs = [], []
    for i, batch in enumerate(val_dataset):
        if i >= max_scenes:
            break
        if all(k in batch for k in task.batch_keys):
            loss, _, _ = task.loss(batch, training=False)
            losses.append(float(loss))
        if model is not None and "hdr" in batch:
            pred = model({"ldr": batch["ldr"], "exposures": batch["exposures"]}, training=False)
            psnrs.append(float(tf.reduce_mean(metrics.psnr_mu(tf.cast(pred, tf.float32), batch["hdr"]))))
    out = {}
    if losses:
        out["val_loss"] = float(np.mean(losses))
    if psnrs:
        out["val_psnr_mu"] = float(np.mean(psnrs))
    return out


def train_stage(method, stage_name, config: RunConfig, previous, strategy, log=print):
    """Trains one stage to completion (resuming if a checkpoint exists); returns its task
    (or, for a producer stage, its outputs)."""
    from hdrkeras.data import pipeline

    stage = method.configured_stage(stage_name, config.method_options)
    if stage.produce is not None:
        return run_producer(method, stage, config, previous, log)
    hp = stage_hyperparameters(stage, config)
    sdir = stage_dir(config.run_dir, stage_name)
    os.makedirs(sdir, exist_ok=True)

    task, optimizer, variables = _build_stage(method, stage, hp, config, previous, strategy)
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

    dataset = pipeline.train_dataset(
        method.train_records(stage_name, config, previous), hp["batch_size"], hp["patch_size"],
        num_frames=method.num_frames, hook=method.pipeline_hook, augment=method.augment,
        deterministic=config.deterministic, seed=config.seed)
    checkpoint_iterator = config.deterministic and config.strategy == "default"
    if config.strategy == "default":
        iterator = iter(dataset)
    else:
        iterator = iter(strategy.experimental_distribute_dataset(dataset))

    best = best_ckpt.StageBest(sdir, stage_name, task.networks)
    items = dict(task.networks, optimizer=optimizer, step=step)
    if checkpoint_iterator:
        items["data"] = iterator
    ckpt = tf.train.Checkpoint(**items)
    manager = tf.train.CheckpointManager(ckpt, os.path.join(sdir, "ckpt"), max_to_keep=3)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).expect_partial()
        log(f"[{stage_name}] resuming from {manager.latest_checkpoint} at step {int(step.numpy())}")

    total = hp["steps"]
    if int(step.numpy()) >= total:
        log(f"[{stage_name}] already finished ({total} steps)")
        kept = best.restore(int(step.numpy()), log)
        _finish(task, config, stage_name, int(step.numpy()), hp, log, kept)
        return task

    step_fn = _compiled_step(task, optimizer, variables, strategy, config)
    val_dataset = None
    if config.val_source:
        val_dataset = pipeline.eval_dataset(config.val_source, num_frames=method.num_frames)
    writer = tf.summary.create_file_writer(os.path.join(sdir, "logs"))
    log(f"[{stage_name}] training {total} steps: batch {hp['batch_size']}, patch "
        f"{hp['patch_size']}, lr {hp['learning_rate']:g} (/{hp['lr_factor']:g} at "
        f"{hp['lr_boundaries'] or 'never'}), {strategy.num_replicas_in_sync} replica(s)")

    started = time.time()
    first_step = int(step.numpy())
    last_saved = first_step
    with _SignalFlag() as stop, writer.as_default():
        try:
            while int(step.numpy()) < total:
                batch = next(iterator)
                loss, logs = step_fn(batch)
                step.assign_add(1)
                s = int(step.numpy())
                loss_value = float(loss)
                if not math.isfinite(loss_value):
                    raise FloatingPointError(
                        f"[{stage_name}] loss became {loss_value} at step {s}; the last good "
                        f"checkpoint is {manager.latest_checkpoint}")
                if s % config.log_every == 0 or s == total:
                    lr = float(optimizer.learning_rate)
                    tf.summary.scalar("loss", loss_value, step=s)
                    tf.summary.scalar("learning_rate", lr, step=s)
                    for k, v in logs.items():
                        tf.summary.scalar(k, float(v), step=s)
                    rate = (s - first_step) / max(time.time() - started, 1e-6)
                    eta = (total - s) / max(rate, 1e-9)
                    log(f"[{stage_name}] step {s}/{total} loss {loss_value:.5f} "
                        f"{rate:.2f} steps/s, ETA {eta / 60:.1f} min")
                if config.preview_every and s % config.preview_every == 0:
                    _write_previews(task, batch, s, strategy)
                if s % config.checkpoint_every == 0:
                    manager.save(checkpoint_number=s)
                    last_saved = s
                if val_dataset is not None and (s % config.validate_every == 0 or s == total):
                    val = _validate(task, val_dataset, config.max_val_scenes)
                    for k, v in val.items():
                        tf.summary.scalar(k, v, step=s)
                    if val:
                        log(f"[{stage_name}] validation at step {s}: "
                            + ", ".join(f"{k} {v:.4f}" for k, v in val.items()))
                        best.update(s, val, log)
                if stop.raised:
                    raise Interrupted(f"{stop.raised} received")
        except (Interrupted, KeyboardInterrupt) as exc:
            s = int(step.numpy())
            if s != last_saved:
                manager.save(checkpoint_number=s)
            writer.flush()
            raise Interrupted(
                f"[{stage_name}] stopped at step {s}/{total} ({exc or 'interrupt'}); checkpoint "
                f"written to {manager.latest_checkpoint}; rerun the same command to resume") from None
        s = int(step.numpy())
        if s != last_saved:
            manager.save(checkpoint_number=s)
    writer.flush()
    kept = best.restore(s, log)
    _finish(task, config, stage_name, s, hp, log, kept)
    return task


def _compiled_step(task, optimizer, variables, strategy, config):
    """One optimiser step as a tf.function (replica part XLA-compiled with --jit_compile)."""
    replicas = strategy.num_replicas_in_sync
    scales_loss = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)

    def replica_step(batch):
        with tf.GradientTape() as tape:
            loss, logs, _ = task.loss(batch, training=True)
            loss = tf.cast(loss, tf.float32)
            objective = loss / replicas
            if scales_loss:
                objective = optimizer.scale_loss(objective)
        grads = tape.gradient(objective, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss, {k: tf.cast(v, tf.float32) for k, v in logs.items()}

    replica_fn = tf.function(replica_step, jit_compile=bool(config.jit_compile))

    @tf.function
    def step_fn(batch):
        loss, logs = strategy.run(replica_fn, args=(batch,))
        mean = lambda v: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
        return mean(loss), {k: mean(v) for k, v in logs.items()}

    return step_fn


def _write_previews(task, batch, step, strategy):
    if strategy.num_replicas_in_sync != 1:
        return  # previews from per-replica values are not worth the gather
    _, _, previews = task.loss(batch, training=False)
    for name, image in previews.items():
        tf.summary.image(name, tf.clip_by_value(tf.cast(image, tf.float32), 0.0, 1.0),
                         step=step, max_outputs=2)


def _finish(task, config, stage_name, step, hp, log, kept=None):
    """Writes the stage's inference model (its kept weights, already loaded into `task`),
    the run's model.keras when this stage is the best so far, and done.json."""
    model = task.inference_model()
    if model is not None:
        best_ckpt.publish_run_model(config.run_dir, stage_name, model, kept, log)
    atomic_write_text(_done_path(config.run_dir, stage_name), json.dumps(
        {"stage": stage_name, "steps": step, "hyperparameters": hp,
         "kept_step": kept["step"] if kept else step,
         "kept": kept, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))


def run(method, stage, config: RunConfig, log=print):
    """Trains `stage` ("all" or one stage name) of `method`; returns the last stage's task."""
    stages = resolve_stages(method, stage)
    method.check_options(config.method_options)
    if config.deterministic:
        keras.utils.set_random_seed(config.seed)
        tf.config.experimental.enable_op_determinism()
    else:
        keras.utils.set_random_seed(config.seed)
    set_precision(config.mixed_precision)
    strategy = make_strategy(config.strategy)
    os.makedirs(config.run_dir, exist_ok=True)
    previous = None
    task = None
    for name in stages:
        if previous is None:
            with strategy.scope():
                previous = build_task_chain(method, name, config, log=log)
        task = train_stage(method, name, config, previous, strategy, log=log)
        previous[name] = task
    return task
