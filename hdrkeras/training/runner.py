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
  RUN_DIR/run.json            the method the folder belongs to, the stage model.keras came from

A run that stops at start-up leaves nothing behind (no empty run or stage folders, no event
logs); checkpoint temporaries of a killed run (`ckpt-N_temp`) are removed by the next one.

Under `--strategy multi_worker` every worker trains in lock step, but only the chief writes
RUN_DIR: the others restore from the chief's checkpoints (RUN_DIR must be on storage all
workers see) and write theirs, as TensorFlow requires every worker to take part in a save,
to a private temporary folder that is removed at once.
"""

import dataclasses
import glob
import hashlib
import json
import math
import os
import shutil
import signal
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from hdrkeras import checks
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.io.atomic import atomic_write_text, missing_folders, remove_folders
from hdrkeras.methods.base import TrainTask
from hdrkeras.training import best as best_ckpt
from hdrkeras.training.config import RunConfig
from hdrkeras.training.optimizers import build_optimizer, learning_rate_schedule, scaled_steps
from hdrkeras.training.strategy import make_strategy, set_precision, worker_role


class Interrupted(Exception):
    """Training stopped by a signal after writing a checkpoint; rerun to resume."""


def stage_dir(run_dir, stage_name):
    return os.path.join(run_dir, stage_name)


def _done_path(run_dir, stage_name):
    return os.path.join(stage_dir(run_dir, stage_name), "done.json")


def stage_finished(run_dir, stage_name):
    return os.path.exists(_done_path(run_dir, stage_name))


def _read_json(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


RUN_INFO = "run.json"


def _record_run(config, method_name, model_stage=None):
    """RUN_DIR/run.json: which method the folder belongs to (and which stage wrote
    model.keras), so another method's run is never overwritten without a word."""
    path = os.path.join(config.run_dir, RUN_INFO)
    info = _read_json(path) or {}
    new = dict(info, method=method_name)
    if model_stage is not None:
        new["model_stage"] = model_stage
        new.pop("model_stale", None)
    if new != info:
        atomic_write_text(path, json.dumps(new, indent=2))


def _check_records(flag, path, split):
    """A records root or an image dataset given where a records folder is expected gets a
    message that says what to pass instead."""
    if not path or not os.path.isdir(path):
        return  # missing paths, shard files and globs: the pipeline's own messages
    if os.path.isfile(os.path.join(path, "manifest.json")) or glob.glob(
            os.path.join(path, "*.tfrecord*")):
        return
    sub = os.path.join(path, split)
    if os.path.isfile(os.path.join(sub, "manifest.json")):
        raise ConfigError(f"{flag} {path} is a records root; pass {flag} {sub}")
    if split == "train" and any(os.path.isdir(os.path.join(path, d))
                                for d in ("Training", "Test")):
        raise ConfigError(
            f"{flag} {path} is an image dataset, not records; make them with "
            f"`python -m hdrkeras.make_tfrecord --data {path} --out OUT` and pass "
            f"{flag} OUT/train")


def check_run(method, config: RunConfig):
    """Output and input locations of a run, checked before anything is built or written."""
    checks.output_dir("--run_dir", config.run_dir)
    _check_records("--train_records", config.train_records, "train")
    _check_records("--val", config.val_source, "test")
    run_dir = config.run_dir
    info = _read_json(os.path.join(run_dir, RUN_INFO))
    if info is not None:
        if info.get("method") != method.name:
            raise ConfigError(
                f"--run_dir {run_dir} holds a {info.get('method')} run; training {method.name} "
                f"there would overwrite its model.keras: choose another --run_dir")
        return
    if not os.path.isdir(run_dir):
        return
    own = {s.name for s in method.stages}
    stages = [d for d in os.listdir(run_dir)
              if os.path.isfile(_done_path(run_dir, d))
              or os.path.isdir(os.path.join(run_dir, d, "ckpt"))]
    foreign = sorted(set(stages) - own)
    if foreign or (os.path.exists(os.path.join(run_dir, "model.keras")) and not stages):
        what = f"stages {', '.join(foreign)}" if foreign else "a model.keras"
        raise ConfigError(
            f"--run_dir {run_dir} holds {what} of another run, not of {method.name}; choose "
            f"another --run_dir")


def _check_rerun(method, stage_name, hp, config):
    """A finished stage rerun with other options is refused: its done.json would record
    options it never trained with, and later stages were built on its weights."""
    done = _read_json(_done_path(config.run_dir, stage_name))
    if done is None:
        return
    if done.get("stale"):
        raise ConfigError(
            f"stage {stage_name!r} in {config.run_dir} is stale ({done['stale']}); delete "
            f"{stage_dir(config.run_dir, stage_name)} to retrain it on the new weights")
    was = {"hyperparameters": done.get("hyperparameters", hp),
           "options": done.get("options", dict(config.method_options))}
    now = {"hyperparameters": hp, "options": dict(config.method_options)}
    changed = [f"{k}: {was[group].get(k)} -> {now[group].get(k)}"
               for group in was for k in sorted(set(was[group]) | set(now[group]))
               if was[group].get(k) != now[group].get(k)]
    if changed:
        raise ConfigError(
            f"stage {stage_name!r} of {method.name} already finished in {config.run_dir} with "
            f"other options ({'; '.join(changed)}); use another --run_dir, or delete "
            f"{stage_dir(config.run_dir, stage_name)} to retrain it")


def _mark_later_stages_stale(method, stage_name, config, log):
    """After `stage_name` is (re)trained, finished later stages and a model.keras they wrote
    are built on its old weights: say so in their done.json / run.json and in the log."""
    names = [s.name for s in method.stages]
    finished = time.strftime("%Y-%m-%dT%H:%M:%S")
    reason = f"stage {stage_name!r} was retrained at {finished}"
    stale = []
    for later in names[names.index(stage_name) + 1:]:
        path = _done_path(config.run_dir, later)
        done = _read_json(path)
        if done is not None and not done.get("stale"):
            atomic_write_text(path, json.dumps(dict(done, stale=reason), indent=2))
            stale.append(later)
    info_path = os.path.join(config.run_dir, RUN_INFO)
    info = _read_json(info_path)
    if info is not None and info.get("model_stage") in stale:
        atomic_write_text(info_path, json.dumps(dict(info, model_stale=reason), indent=2))
    if stale:
        log(f"[{stage_name}] warning: finished stages {', '.join(stale)} were built on the old "
            f"weights and are marked stale; delete their folders and retrain them")


def _remove_checkpoint_temporaries(ckpt_dir, stage_name, log):
    """`ckpt-N_temp` folders are what a checkpoint write killed half way leaves (tens of MB);
    no later save reuses or removes them, so the next run does."""
    for path in sorted(glob.glob(os.path.join(ckpt_dir, "*_temp"))):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            log(f"[{stage_name}] removed {path}, left by an interrupted checkpoint write")


def _has_checkpoint(path):
    """Whether a stage folder (or a run folder, any stage) holds a checkpoint or done.json."""
    return bool(glob.glob(os.path.join(path, "ckpt", "checkpoint"))
                or os.path.isfile(os.path.join(path, "done.json"))
                or glob.glob(os.path.join(path, "*", "ckpt", "checkpoint"))
                or glob.glob(os.path.join(path, "*", "done.json")))


def resolve_stages(method, requested):
    """'all' -> every stage; otherwise the one named (validated)."""
    if requested == "all":
        return [s.name for s in method.stages]
    try:
        method.stage(requested)
    except KeyError as e:  # an unknown stage name is the user's error
        raise ConfigError(f"--stage: {e.args[0]}") from None
    return [requested]


def stage_hyperparameters(stage, config: RunConfig):
    """The stage's paper defaults with the run's overrides applied.

    When --steps shortens the schedule, the learning-rate drop points are scaled with it, so
    a short run keeps the shape of the paper's schedule (e.g. /10 at two thirds).
    """
    steps = stage.steps if config.steps is None else config.steps
    boundaries = scaled_steps(stage.lr_decay_steps, stage.steps, steps)
    hp = {
        "steps": int(steps),
        "batch_size": int(stage.batch_size if config.batch_size is None else config.batch_size),
        "patch_size": int(stage.patch_size if config.patch_size is None else config.patch_size),
        "learning_rate": float(stage.learning_rate if config.learning_rate is None
                               else config.learning_rate),
        "lr_boundaries": boundaries,
        "lr_factor": float(stage.lr_decay_factor),
    }
    opt = stage.optimizer
    if opt != type(opt)():  # recorded only where a stage departs from plain Adam steps
        hp["optimizer"] = dataclasses.asdict(opt)
        if opt.warmup_steps:
            hp["warmup_steps"] = scaled_steps([opt.warmup_steps], stage.steps, steps)[0]
    return hp


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
            stale = (_read_json(_done_path(config.run_dir, stage.name)) or {}).get("stale")
            if stale:
                raise ConfigError(
                    f"stage {upto_stage!r} of {method.name} would start from stage "
                    f"{stage.name!r}, which is stale ({stale}); delete "
                    f"{stage_dir(config.run_dir, stage.name)} and retrain it first")
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
    schedule = learning_rate_schedule(stage.optimizer, hp["learning_rate"], hp["steps"],
                                      hp["lr_boundaries"], hp["lr_factor"],
                                      hp.get("warmup_steps", 0))
    return build_optimizer(stage.optimizer, schedule)


def _schedule_text(stage, hp):
    opt = stage.optimizer
    if opt.schedule == "cosine":
        return (f"{hp.get('warmup_steps', 0)} warm-up steps, cosine to "
                f"{opt.min_learning_rate:g}")
    if not hp["lr_boundaries"]:
        return "constant"
    return f"/{hp['lr_factor']:g} at {hp['lr_boundaries']}"


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
    _check_rerun(method, stage_name, hp, config)
    sdir = stage_dir(config.run_dir, stage_name)
    if worker_role(strategy)[2]:
        os.makedirs(sdir, exist_ok=True)

    task, optimizer, variables = _build_stage(method, stage, hp, config, previous, strategy)
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

    train_records = method.train_records(stage_name, config, previous)
    if method.kind == "image":  # video methods read clips their own way
        pipeline.check_records(train_records, user=f"method {method.name}, stage {stage_name}",
                               num_frames=method.num_frames,
                               ground_truth="hdr" in task.batch_keys,
                               targets=[k for k in task.batch_keys if k != "hdr"])
    dataset = method.train_dataset(stage_name, config, hp, previous)
    checkpoint_iterator = config.deterministic and config.strategy == "default"
    if config.strategy == "default":
        iterator = iter(dataset)
    else:
        # Shard by element, not by file: a small dataset may be a single shard file, and
        # every worker reads the same seeded order, so elements split without overlap.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA)
        iterator = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))

    best = best_ckpt.StageBest(sdir, stage_name, task.networks,
                               write=worker_role(strategy)[2])
    items = dict(task.networks, optimizer=optimizer, step=step)
    if checkpoint_iterator:
        items["data"] = iterator
    ckpt = tf.train.Checkpoint(**items)
    if worker_role(strategy)[2]:
        _remove_checkpoint_temporaries(os.path.join(sdir, "ckpt"), stage_name, log)
    manager = _CheckpointWriter(ckpt, os.path.join(sdir, "ckpt"), strategy)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).expect_partial()
        log(f"[{stage_name}] resuming from {manager.latest_checkpoint} at step {int(step.numpy())}")

    total = hp["steps"]
    if int(step.numpy()) >= total:
        log(f"[{stage_name}] already finished ({total} steps)")
        kept = best.restore(int(step.numpy()), log)
        _finish(task, config, stage_name, int(step.numpy()), hp, log, method.name, strategy,
                kept)
        return task

    step_fn = _compiled_step(task, optimizer, variables, strategy, config)
    val_dataset = method.val_dataset(config)
    writer = (tf.summary.create_file_writer(os.path.join(sdir, "logs"))
              if worker_role(strategy)[2] else tf.summary.create_noop_writer())
    log(f"[{stage_name}] training {total} steps: batch {hp['batch_size']}, patch "
        f"{hp['patch_size']}, {stage.optimizer.kind} lr {hp['learning_rate']:g} "
        f"({_schedule_text(stage, hp)}), {strategy.num_replicas_in_sync} replica(s)")

    started = time.time()
    zero_grads = _ZeroGradientWatch(stage_name, log)
    first_step = int(step.numpy())
    last_saved = first_step
    with _SignalFlag() as stop, writer.as_default():
        try:
            while int(step.numpy()) < total:
                with pipeline.record_errors(train_records):  # names a damaged shard
                    batch = next(iterator)
                loss, logs = step_fn(batch)
                step.assign_add(1)
                s = int(step.numpy())
                loss_value = float(loss)
                zero_grads.observe(s, logs)
                if not math.isfinite(loss_value):
                    raise DataError(
                        f"[{stage_name}] loss became {loss_value} at step {s} on a batch of "
                        f"{config.train_records}{_batch_scenes(batch)} (a ground truth with "
                        f"absurd values, or too high a --learning_rate?); last good "
                        f"checkpoint: {manager.latest_checkpoint}")
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
                    _record_run(config, method.name)
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
                _record_run(config, method.name)
            writer.flush()
            raise Interrupted(
                f"[{stage_name}] stopped at step {s}/{total} ({exc or 'interrupt'}); checkpoint "
                f"written to {manager.latest_checkpoint}; rerun the same command to resume") from None
        s = int(step.numpy())
        if s != last_saved:
            manager.save(checkpoint_number=s)
    writer.flush()
    kept = best.restore(s, log)
    if worker_role(strategy)[2]:
        _mark_later_stages_stale(method, stage_name, config, log)
    _finish(task, config, stage_name, s, hp, log, method.name, strategy, kept)
    return task


def _batch_scenes(batch):
    """' (scenes a, b)' when the batch carries its scene names (single replica), else ''."""
    names = batch.get("scene") if isinstance(batch, dict) else None
    if not isinstance(names, tf.Tensor):
        return ""
    decoded = sorted({n.decode("utf-8", "replace") for n in np.asarray(names).reshape(-1)})
    return f" (scenes {', '.join(decoded)})" if decoded else ""


class _CheckpointWriter:
    """A CheckpointManager over the stage's `ckpt` folder on the chief; on other workers
    the same save calls go to a private temporary folder that is deleted straight away
    (every worker must take part in a save; only the chief's copy is kept)."""

    def __init__(self, ckpt, directory, strategy, max_to_keep=3):
        self._ckpt = ckpt
        self._chief = worker_role(strategy)[2]
        self.directory = directory
        if self._chief:
            self._manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=max_to_keep)

    @property
    def latest_checkpoint(self):
        return tf.train.latest_checkpoint(self.directory)

    def save(self, checkpoint_number):
        if self._chief:
            return self._manager.save(checkpoint_number=checkpoint_number)
        scratch = tempfile.mkdtemp(prefix="hdrkeras-worker-ckpt-")
        try:
            tf.train.CheckpointManager(self._ckpt, scratch, max_to_keep=1).save(
                checkpoint_number=checkpoint_number)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None


def weights_digest(variables):
    """Short hash of the values of `variables` (first replica): equal digests on two
    workers mean bit-identical weights."""
    h = hashlib.sha256()
    for v in variables:
        h.update(np.ascontiguousarray(np.asarray(v.numpy())).tobytes())
    return h.hexdigest()[:16]


GRAD_NORM = "grad_norm"
# Consecutive steps with an exactly zero gradient before the run warns: a saturated output
# (a sigmoid or tanh pushed far past its range, typically by too high a learning rate)
# passes no gradient, so training goes on for hours without learning anything.
ZERO_GRADIENT_STEPS = 20


class _ZeroGradientWatch:
    """Warns once per streak when the global gradient norm stays exactly zero."""

    def __init__(self, stage_name, log, patience=ZERO_GRADIENT_STEPS):
        self.stage_name, self.log, self.patience = stage_name, log, patience
        self.since = None

    def observe(self, step, logs):
        if GRAD_NORM not in logs or float(logs[GRAD_NORM]) != 0.0:
            self.since = None
            return
        if self.since is None:
            self.since = step
        if step - self.since + 1 == self.patience:
            self.log(f"[{self.stage_name}] WARNING: the gradient has been exactly zero for "
                     f"{self.patience} steps (since step {self.since}); nothing is learning. "
                     f"Usually an output activation driven far past its range (too high a "
                     f"--learning_rate?); see the loss and grad_norm in TensorBoard.")


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
        present = [g for g in grads if g is not None]
        optimizer.apply_gradients(zip(grads, variables))
        if type(task).after_step is not TrainTask.after_step:  # nothing to trace otherwise
            task.after_step()
        logs = {k: tf.cast(v, tf.float32) for k, v in logs.items()}
        if present:
            norm = tf.linalg.global_norm(present)
            if scales_loss:  # the norm of the loss the user sees, not of the scaled one
                norm = norm / optimizer.scale_loss(tf.constant(1.0))
            logs[GRAD_NORM] = tf.cast(norm, tf.float32)
        return loss, logs

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


def _finish(task, config, stage_name, step, hp, log, method_name, strategy=None, kept=None):
    """Writes the stage's inference model (its kept weights, already loaded into `task`),
    the run's model.keras when this stage is the best so far, run.json and done.json."""
    task_type, task_id, chief = worker_role(strategy or tf.distribute.get_strategy())
    if task_type is not None:
        digest = weights_digest(task.trainable_variables())
        log(f"[{stage_name}] {task_type} {task_id} finished at step {step}: weights digest {digest}")
    if not chief:
        return
    model = task.inference_model()
    model_stage = None
    if model is not None:
        best_ckpt.publish_run_model(config.run_dir, stage_name, model, kept, log)
        model_stage = (_read_json(os.path.join(config.run_dir, best_ckpt.RUN_MODEL_JSON))
                       or {}).get("stage")
    _record_run(config, method_name, model_stage)
    done = _read_json(_done_path(config.run_dir, stage_name)) or {}
    atomic_write_text(_done_path(config.run_dir, stage_name), json.dumps(
        {"stage": stage_name, "steps": step, "hyperparameters": hp,
         "options": dict(config.method_options),
         "kept_step": kept["step"] if kept else step, "kept": kept,
         "finished": done.get("finished", time.strftime("%Y-%m-%dT%H:%M:%S"))}, indent=2))


def run(method, stage, config: RunConfig, log=print):
    """Trains `stage` ("all" or one stage name) of `method`; returns the last stage's task."""
    stages = resolve_stages(method, stage)
    method.check_options(config.method_options)
    check_run(method, config)
    if config.deterministic:
        keras.utils.set_random_seed(config.seed)
        tf.config.experimental.enable_op_determinism()
    else:
        keras.utils.set_random_seed(config.seed)
    set_precision(config.mixed_precision)
    strategy = make_strategy(config.strategy)
    chief = worker_role(strategy)[2]
    created = missing_folders(config.run_dir) if chief else []
    if chief:
        os.makedirs(config.run_dir, exist_ok=True)
    previous = None
    task = None
    for name in stages:
        sdir = stage_dir(config.run_dir, name)
        new_stage = not os.path.exists(sdir)
        try:
            if previous is None:
                with strategy.scope():
                    previous = build_task_chain(method, name, config, log=log)
            task = train_stage(method, name, config, previous, strategy, log=log)
        except BaseException:
            # Stopped before a first checkpoint: no empty stage/run folders or lone event logs.
            if new_stage and not _has_checkpoint(sdir):
                shutil.rmtree(sdir, ignore_errors=True)
            if created and not _has_checkpoint(config.run_dir):
                remove_folders(created, contents=True)
            raise
        previous[name] = task
    return task
