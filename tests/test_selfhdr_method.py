"""The SelfHDR method (targets, structure, stru_targets, reconstruction stages) and the
supervised registrations of its backbones."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras import methods
from hdrkeras.data import pipeline, records, synthesize
from hdrkeras.errors import ConfigError, MissingWeightsError
from hdrkeras.methods.selfhdr import Y_COLOR, Y_STRU, produce_targets
from hdrkeras.training import RunConfig, make_train_step, run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def scene_records(tmp_path_factory):
    """Standard scene records (with GT) of three moving synthetic scenes + one test scene."""
    base = tmp_path_factory.mktemp("selfhdr_method")
    root = str(base / "data")
    synthesize.synthesize_dataset(root, num_train=3, num_test=1, height=64, width=80,
                                  motion="large", seed=9)
    from hdrkeras.data import kalantari
    for split in ("train", "test"):
        records.write_records(kalantari.list_scenes(root, split), str(base / split), split=split)
    return str(base / "train"), str(base / "test")


def _config(tmp_path, train, **kw):
    kw.setdefault("method_options", {"backbone": "ahdrnet", "perceptual_weight": 0.0})
    kw.setdefault("val_source", None)
    return RunConfig(run_dir=str(tmp_path / "run"), train_records=train,
                     steps=2, batch_size=2, patch_size=32, log_every=1, checkpoint_every=1,
                     preview_every=0, **kw)


def test_schedules_follow_selfhdr_train_sh():
    method = methods.get("selfhdr")
    assert [s.name for s in method.stages] == ["targets", "structure", "stru_targets",
                                               "reconstruction"]
    cnn = method.configured_stage("structure", {"backbone": "fshdr"})
    assert (cnn.batch_size, cnn.learning_rate, cnn.patch_size) == (16, 1e-4, 128)
    assert cnn.steps == 150 * 1200 and cnn.lr_decay_steps == (60_000, 120_000)
    assert cnn.lr_decay_factor == 2.0
    tr = method.configured_stage("reconstruction", {"backbone": "sctnet"})
    assert (tr.batch_size, tr.learning_rate, tr.steps, tr.lr_decay_steps) == (
        8, 2e-4, 200 * 1200, (120_000,))
    with pytest.raises(ConfigError, match="No backbone named 'unet'"):
        method.configured_stage("structure", {"backbone": "unet"})


@pytest.mark.parametrize("name", ["ahdrnet", "fshdr", "hdr_transformer"])
def test_supervised_backbones_are_registered_on_the_same_schedule(name):
    method = methods.get(name)
    stage = method.stage("train")
    selfhdr = methods.get("selfhdr").configured_stage("structure", {"backbone": name})
    assert (stage.steps, stage.batch_size, stage.learning_rate, stage.lr_decay_steps) == (
        selfhdr.steps, selfhdr.batch_size, selfhdr.learning_rate, selfhdr.lr_decay_steps)
    model = method.build_inference_model()
    out = model({"ldr": np.random.default_rng(0).random((1, 3, 21, 27, 3), np.float32),
                 "exposures": np.array([[1.0, 4.0, 16.0]], np.float32)})
    assert out.shape == (1, 21, 27, 3)


def test_supervised_ahdrnet_steps_lower_the_loss(tmp_path):
    scene = synthesize.synthesize_scene(0, height=32, width=32)
    batch = {"ldr": scene["ldr"][None].repeat(2, 0), "exposures":
             scene["exposures"][None].repeat(2, 0), "hdr": scene["hdr"][None].repeat(2, 0)}
    cfg = RunConfig(run_dir=str(tmp_path), train_records="", learning_rate=1e-3)
    task, _, step = make_train_step(methods.get("ahdrnet"), "train", cfg)
    first = float(task.loss(batch, training=False)[0])
    for _ in range(8):
        step(batch)
    assert float(task.loss(batch, training=False)[0]) < 0.9 * first


def test_targets_stage_ignores_ground_truth(scene_records, tmp_path):
    train, _ = scene_records
    # Same frames, ground truth replaced by NaN: the targets must not change.
    poisoned = str(tmp_path / "poisoned")
    scenes = [{k: v[0].numpy() for k, v in ex.items()}
              for ex in pipeline.eval_dataset(train)]
    records.write_example_records(
        [{"scene": s["scene"].decode(), "ldr": s["ldr"], "exposures": s["exposures"],
          "hdr": np.full_like(s["hdr"], np.nan)} for s in scenes], poisoned)
    outs = []
    for name, source in (("clean", train), ("poisoned", poisoned)):
        cfg = _config(tmp_path / name, source)
        out = produce_targets(methods.get("selfhdr"), cfg, {}, str(tmp_path / name), print)
        info = pipeline.inspect_records(out["records"])
        assert info["targets"] == (Y_COLOR,) and info["has_aligned"] and not info["has_hdr"]
        outs.append({ex["scene"].numpy()[0]: ex[Y_COLOR][0].numpy()
                     for ex in pipeline.eval_dataset(out["records"])})
    assert outs[0].keys() == outs[1].keys()
    for k in outs[0]:
        assert np.all(np.isfinite(outs[1][k]))
        np.testing.assert_array_equal(outs[0][k], outs[1][k])


def test_stages_need_their_predecessors(scene_records, tmp_path):
    train, _ = scene_records
    with pytest.raises(ConfigError, match="run --stage targets first"):
        run(methods.get("selfhdr"), "structure", _config(tmp_path, train))
    with pytest.raises(ConfigError, match="no training step"):
        make_train_step(methods.get("selfhdr"), "targets", _config(tmp_path, train))


def test_all_stages_train_without_ground_truth(scene_records, tmp_path):
    train, test = scene_records
    cfg = _config(tmp_path, train, val_source=test, validate_every=2)
    run(methods.get("selfhdr"), "all", cfg)
    rd = cfg.run_dir
    stru = json.load(open(os.path.join(rd, "stru_targets", "done.json")))["outputs"]
    info = pipeline.inspect_records(stru["records"])
    assert info["targets"] == (Y_COLOR, Y_STRU) and not info["has_hdr"]
    assert sorted(os.listdir(stru["hdr"])) == ["001.hdr", "002.hdr", "003.hdr"]
    ex = next(iter(pipeline.eval_dataset(stru["records"])))
    assert np.all(np.isfinite(ex[Y_STRU].numpy())) and ex[Y_STRU].numpy().min() >= 0
    for stage in ("structure", "reconstruction"):
        assert os.path.isfile(os.path.join(rd, stage, "done.json"))
    model = tf.keras.models.load_model(os.path.join(rd, "model.keras"))
    out = model({"ldr": ex["ldr"], "exposures": ex["exposures"]})
    assert out.shape == ex["ldr"].shape[:1] + ex["ldr"].shape[2:]
    # A fresh process, where no backbone module was imported yet, loads the checkpoint
    # and exports it for serving.
    served_dir = tmp_path / "served"
    proc = subprocess.run(
        [sys.executable, "-m", "hdrkeras.export", "--method", "selfhdr", "--checkpoint", rd,
         "--out", str(served_dir)], cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    served = tf.saved_model.load(str(served_dir / "1")).signatures["serving_default"]
    np.testing.assert_allclose(
        served(ldr=ex["ldr"], exposures=ex["exposures"])["hdr"].numpy(), out.numpy(),
        rtol=1e-4, atol=1e-5)
    # Rerunning finds every stage finished and trains nothing.
    lines = []
    run(methods.get("selfhdr"), "all", cfg, log=lines.append)
    assert any("[targets] already finished" in s for s in lines)
    assert any("[reconstruction] already finished" in s for s in lines)


def _target_batch(seed=0):
    scene = synthesize.synthesize_scene(seed, height=32, width=32)
    hdr = scene["hdr"][None].repeat(2, 0)
    return {"ldr": scene["ldr"][None].repeat(2, 0),
            "exposures": scene["exposures"][None].repeat(2, 0),
            Y_COLOR: hdr, Y_STRU: hdr * 0.9}


@pytest.mark.parametrize("stage", ["structure", "reconstruction"])
def test_training_steps_lower_each_stage_loss(stage, tmp_path):
    cfg = RunConfig(run_dir=str(tmp_path), train_records="", learning_rate=1e-3,
                    method_options={"backbone": "ahdrnet", "perceptual_weight": 0.0})
    task, _, step = make_train_step(methods.get("selfhdr"), stage, cfg)
    batch = _target_batch()
    first = float(task.loss(batch, training=False)[0])
    for _ in range(8):
        step(batch)
    last = float(task.loss(batch, training=False)[0])
    assert np.isfinite(last) and last < 0.9 * first, (first, last)


def test_reconstruction_adds_noise_to_the_reference_only_in_training(tmp_path):
    cfg = RunConfig(run_dir=str(tmp_path), train_records="",
                    method_options={"backbone": "ahdrnet", "perceptual_weight": 0.0})
    task, _, _ = make_train_step(methods.get("selfhdr"), "reconstruction", cfg)
    batch = _target_batch()
    evals = [float(task.loss(batch, training=False)[0]) for _ in range(2)]
    assert evals[0] == evals[1]
    tf.random.set_seed(0)
    trains = {float(task.loss(batch, training=True)[0]) for _ in range(3)}
    assert len(trains) > 1


def test_reconstruction_needs_vgg19_unless_its_weight_is_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = RunConfig(run_dir=str(tmp_path), train_records="",
                    method_options={"backbone": "ahdrnet"})
    with pytest.raises(MissingWeightsError, match="VGG19"):
        make_train_step(methods.get("selfhdr"), "reconstruction", cfg)


def test_fit_cli_rejects_an_unknown_backbone(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "fit.py"), "--method", "selfhdr",
         "--backbone", "unet", "--stage", "structure", "--run_dir", str(tmp_path / "r"),
         "--train_records", str(tmp_path), "--val", ""],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "No backbone named 'unet'" in result.stderr and "Traceback" not in result.stderr
