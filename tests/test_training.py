"""The staged training driver: stage chaining, checkpoints, resume, fit.py's CLI."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras import methods
from hdrkeras.errors import ConfigError
from hdrkeras.training import RunConfig, run, stage_hyperparameters

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIT = os.path.join(REPO, "train", "fit.py")


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """A tiny synthetic dataset written as scene records (train) plus its test root."""
    from hdrkeras.data import kalantari, records as rec, synthesize

    root = tmp_path_factory.mktemp("training_data")
    data = root / "synthetic"
    synthesize.synthesize_dataset(str(data), num_train=3, num_test=1, height=64, width=80,
                                  seed=3)
    rec.write_records(kalantari.list_scenes(str(data), "train"), str(root / "train"),
                      split="train", mode="scenes")
    rec.write_records(kalantari.list_scenes(str(data), "test"), str(root / "test"),
                      split="test", mode="scenes")
    return root


def _config(tmp_path, records, **kw):
    base = dict(run_dir=str(tmp_path / "run"), train_records=str(records / "train"),
                val_source=str(records / "test"), steps=2, batch_size=2, patch_size=32,
                checkpoint_every=1, log_every=1, preview_every=1, validate_every=2,
                max_val_scenes=1, deterministic=True, seed=1)
    base.update(kw)
    return RunConfig(**base)


def test_short_schedule_scales_lr_drop():
    stage = methods.get("esbn").stage("align_low")
    hp = stage_hyperparameters(stage, RunConfig(run_dir="x", train_records="y", steps=300))
    assert hp["steps"] == 300 and hp["lr_boundaries"] == [200]
    assert hp["batch_size"] == 8 and hp["patch_size"] == 256 and hp["learning_rate"] == 1e-4
    hp = stage_hyperparameters(methods.get("esbn").stage("fusion"),
                               RunConfig(run_dir="x", train_records="y"))
    assert hp["steps"] == 300_000 and hp["lr_boundaries"] == [200_000] and hp["batch_size"] == 4


def test_esbn_linear_weight_adds_an_l1_on_linear_hdr_to_fusion_and_joint():
    from types import SimpleNamespace

    from hdrkeras.methods.esbn import FusionTask
    from hdrkeras.models.esbn import ESBNAlign

    esbn = methods.get("esbn")
    previous = {w: SimpleNamespace(networks={w: ESBNAlign(filters=4, num_res_blocks=1, name=w)})
                for w in ("align_low", "align_high")}
    rng = np.random.default_rng(0)
    batch = {"ldr": tf.constant(rng.uniform(size=(2, 3, 16, 16, 3)), tf.float32),
             "exposures": tf.constant([[1.0, 4.0, 16.0]] * 2),
             "hdr": tf.constant(rng.uniform(0, 2, size=(2, 16, 16, 3)), tf.float32)}
    paper = esbn.stage("fusion").build_task({}, previous)
    assert paper.linear_weight == 0.0
    loss0, logs0, _ = paper.loss(batch, training=False)
    assert set(logs0) == {"l1_mu"}
    weighted = FusionTask(previous, linear_weight=3.0)
    weighted.networks["fusion"].set_weights(paper.networks["fusion"].get_weights())
    loss3, logs3, _ = weighted.loss(batch, training=False)
    hdr, _, _ = paper.forward(batch["ldr"], batch["exposures"], training=False)
    l1 = float(tf.reduce_mean(tf.abs(hdr - batch["hdr"])))
    assert float(logs3["l1_linear"]) == pytest.approx(l1, rel=1e-5)
    assert float(loss3) == pytest.approx(float(loss0) + 3.0 * l1, rel=1e-5)
    joint = esbn.stage("joint").build_task({"linear_weight": 0.5},
                                           {"fusion": SimpleNamespace(networks=weighted.networks)})
    assert joint.joint and joint.linear_weight == 0.5
    with pytest.raises(ConfigError, match="--linear_weight must be a finite number >= 0"):
        esbn.check_options({"linear_weight": -1.0})


def test_fusion_needs_finished_alignment(tmp_path, records):
    with pytest.raises(ConfigError, match="align_low"):
        run(methods.get("esbn"), "fusion", _config(tmp_path, records), log=lambda s: None)


def _restored_net(builder_name, ckpt_dir, checkpoint=None, trainable_only=False):
    """A fresh network restored through the checkpoint's object graph, as the runner does.

    checkpoint: a checkpoint prefix (e.g. ".../ckpt-1"); defaults to the latest in ckpt_dir.
    """
    from hdrkeras.models.esbn import ESBNAlign, ESBNFusion

    build = ESBNFusion if builder_name == "fusion" else ESBNAlign
    net = build(name=builder_name)
    path = checkpoint or tf.train.latest_checkpoint(str(ckpt_dir))
    tf.train.Checkpoint(**{builder_name: net}).read(
        path).expect_partial().assert_existing_objects_matched()
    return [v.numpy() for v in (net.trainable_weights if trainable_only else net.weights)]


def test_all_stages_chain_and_write_a_working_inference_model(tmp_path, records):
    import keras

    lines = []
    run(methods.get("esbn"), "all", _config(tmp_path, records), log=lines.append)
    run_dir = tmp_path / "run"
    for stage in ("align_low", "align_high", "fusion", "joint"):
        assert (run_dir / stage / "done.json").exists(), stage
        assert tf.train.latest_checkpoint(str(run_dir / stage / "ckpt")).endswith("-2")
        assert list((run_dir / stage / "logs").iterdir()), "no TensorBoard events"
    assert any("val_psnr_mu" in line for line in lines), lines

    # Fusion starts behind the trained alignment nets and leaves them frozen; joint moves them.
    aligned = _restored_net("align_low", run_dir / "align_low" / "ckpt")
    in_fusion = _restored_net("align_low", run_dir / "fusion" / "ckpt")
    in_joint = _restored_net("align_low", run_dir / "joint" / "ckpt")
    for a, f in zip(aligned, in_fusion):
        np.testing.assert_array_equal(a, f)
    assert any(not np.array_equal(f, j) for f, j in zip(in_fusion, in_joint))
    fresh = _restored_net("fusion", run_dir / "fusion" / "ckpt")
    assert any(not np.array_equal(f, j) for f, j in
               zip(fresh, _restored_net("fusion", run_dir / "joint" / "ckpt")))

    model = keras.models.load_model(str(run_dir / "model.keras"))
    ldr = np.random.default_rng(0).uniform(size=(1, 3, 37, 45, 3)).astype("float32")
    hdr = model({"ldr": ldr, "exposures": np.array([[1.0, 4.0, 16.0]], "float32")})
    assert hdr.shape == (1, 37, 45, 3)
    assert np.all(np.isfinite(hdr)) and float(np.min(hdr)) >= 0.0
    # Rerunning a finished run trains nothing more.
    lines.clear()
    run(methods.get("esbn"), "all", _config(tmp_path, records), log=lines.append)
    assert sum("already finished" in line for line in lines) == 4


def _fit(run_dir, records, steps, extra=()):
    return [sys.executable, FIT, "--method", "esbn", "--stage", "align_low",
            "--run_dir", str(run_dir), "--train_records", str(records / "train"), "--val", "",
            "--steps", str(steps), "--batch_size", "2", "--patch_size", "32",
            "--checkpoint_every", "2", "--log_every", "1", "--deterministic", "--seed", "5",
            *extra]


def _weights(run_dir):
    return _restored_net("align_low", os.path.join(run_dir, "align_low", "ckpt"))


@pytest.mark.slow
def test_killed_run_resumes_and_matches_uninterrupted(tmp_path, records):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    steps = 8
    ref = subprocess.run(_fit(tmp_path / "ref", records, steps), env=env,
                         capture_output=True, text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr[-2000:]

    # SIGKILL after the step-4 checkpoint: steps since the last checkpoint are redone.
    run_dir = tmp_path / "killed"
    proc = subprocess.Popen(_fit(run_dir, records, steps), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ckpt_dir = run_dir / "align_low" / "ckpt"
    deadline = time.time() + 600
    while time.time() < deadline:
        latest = tf.train.latest_checkpoint(str(ckpt_dir)) if ckpt_dir.exists() else None
        if latest and int(latest.rsplit("-", 1)[1]) >= 4:
            break
        assert proc.poll() is None, proc.stdout.read()[-2000:]
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "align_low" / "done.json").exists()

    resumed = subprocess.run(_fit(run_dir, records, steps), env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = resumed.stdout + resumed.stderr
    assert "resuming from" in out and "step 8/8" in out
    assert "step 1/8" not in out and "step 2/8" not in out  # finished steps not redone
    a, b = _weights(tmp_path / "ref"), _weights(run_dir)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_sigterm_checkpoints_the_current_step(tmp_path, records):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    run_dir = tmp_path / "term"
    proc = subprocess.Popen(_fit(run_dir, records, 1000, ["--checkpoint_every", "1000"]),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "step 3/1000" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 130, out[-2000:]
    assert "rerun the same command to resume" in out
    latest = tf.train.latest_checkpoint(str(run_dir / "align_low" / "ckpt"))
    assert latest is not None and int(latest.rsplit("-", 1)[1]) >= 3


def test_fit_cli_user_errors(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    bad_method = subprocess.run([sys.executable, FIT, "--method", "nope"], env=env,
                                capture_output=True, text=True, timeout=300)
    assert bad_method.returncode == 1
    assert "No method named 'nope'" in bad_method.stderr
    assert "Traceback" not in bad_method.stderr
    missing = subprocess.run(
        [sys.executable, FIT, "--method", "esbn", "--stage", "align_low", "--run_dir",
         str(tmp_path / "r"), "--train_records", str(tmp_path / "absent"), "--val", ""],
        env=env, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1, missing.stderr[-2000:]
    assert str(tmp_path / "absent") in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize("options", [{"jit_compile": True}, {"mixed_precision": True},
                                     {"strategy": "mirrored"}])
def test_xla_mixed_precision_and_mirrored_steps_train(tmp_path, records, options):
    """One short stage under each driver option takes real optimiser steps: the trainable
    weights after step 2 differ from those after step 1, are finite, and the checkpoint
    holds what the task holds in memory."""
    import keras

    cfg = _config(tmp_path, records, val_source=None, preview_every=0, **options)
    try:
        task = run(methods.get("esbn"), "align_low", cfg, log=lambda s: None)
        if options.get("mixed_precision"):
            assert keras.mixed_precision.global_policy().name in ("mixed_bfloat16",
                                                                  "mixed_float16")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    ckpt_dir = tmp_path / "run" / "align_low" / "ckpt"
    after_1 = _restored_net("align_low", ckpt_dir, str(ckpt_dir / "ckpt-1"), trainable_only=True)
    after_2 = _restored_net("align_low", ckpt_dir, trainable_only=True)
    assert all(np.all(np.isfinite(w)) for w in after_2)
    changed = [not np.array_equal(a, b) for a, b in zip(after_1, after_2)]
    # Adam moves every trainable weight that has a gradient: all of them here.
    assert sum(changed) == len(changed) > 0, f"{sum(changed)}/{len(changed)} weights moved"
    restored = _restored_net("align_low", ckpt_dir)
    fresh = [v.numpy() for v in task.networks["align_low"].weights]
    for a, b in zip(restored, fresh):
        np.testing.assert_array_equal(a, b)


def test_a_corrupt_record_stops_training_with_its_shard_named(tmp_path, records):
    """A payload bit flip (framing intact, so the start-up scan passes) met at step 1 is a
    RecordError naming the shard and the record, not TF's bare DataLossError."""
    import shutil

    from hdrkeras.data import tfrecord
    from hdrkeras.errors import RecordError

    train = tmp_path / "train"
    shutil.copytree(records / "train", train)
    shard = sorted(train.glob("*.tfrecord"))[0]
    data = bytearray(shard.read_bytes())
    offset, length = tfrecord.record_spans(str(shard))[1]
    data[offset + tfrecord.HEADER_BYTES + length // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    cfg = _config(tmp_path, records, train_records=str(train), val_source=None, preview_every=0)
    with pytest.raises(RecordError, match=rf"{shard.name}: record 1 is corrupt"):
        run(methods.get("esbn"), "align_low", cfg, log=lambda s: None)


def test_records_without_ground_truth_are_refused_before_training(tmp_path, records):
    """Records that cannot feed the method (here: no ground truth, as SelfHDR's target
    records) stop the run before any step, naming the folder and what it holds."""
    from hdrkeras.data import kalantari, records as rec
    from hdrkeras.errors import RecordError

    rec.write_records(kalantari.list_scenes(str(records / "synthetic"), "train",
                                            ground_truth=False),
                      str(tmp_path / "no_gt"), split="train", mode="scenes")
    cfg = _config(tmp_path, records, train_records=str(tmp_path / "no_gt"), val_source=None)
    with pytest.raises(RecordError, match=r"without ground truth.*method esbn, stage "
                                          r"align_low trains against ground truth"):
        run(methods.get("esbn"), "align_low", cfg, log=lambda s: None)
    assert not (tmp_path / "run").exists()
