"""The supervised SCTNet method: registry, training steps, the VGG requirement."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import run_saved_model_tf_only, saved_model_graph, xla_only_functions
from hdrkeras import export, methods
from hdrkeras.errors import MissingWeightsError
from hdrkeras.training import RunConfig, make_train_step

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _batch(seed=0, size=32):
    """A tiny batch from one synthetic scene: frames, exposures and ground truth."""
    from hdrkeras.data import synthesize

    scene = synthesize.synthesize_scene(seed, height=size, width=size)
    return {"ldr": scene["ldr"][None].repeat(2, 0), "exposures":
            scene["exposures"][None].repeat(2, 0), "hdr": scene["hdr"][None].repeat(2, 0)}


def test_registered_with_the_papers_recipe():
    method = methods.get("sctnet")
    stage = method.stage("train")
    assert (stage.batch_size, stage.patch_size, stage.learning_rate) == (22, 128, 2e-4)
    assert (stage.optimizer.kind, stage.optimizer.epsilon) == ("adam", 1e-8)


def test_training_steps_lower_the_loss_without_vgg(tmp_path):
    cfg = RunConfig(run_dir=str(tmp_path), train_records="", learning_rate=1e-3,
                    method_options={"perceptual_weight": 0.0})
    task, _, step = make_train_step(methods.get("sctnet"), "train", cfg)
    batch = _batch()
    first = float(task.loss(batch, training=False)[0])
    for _ in range(8):
        step(batch)
    last = float(task.loss(batch, training=False)[0])
    assert np.isfinite(last) and last < first * 0.9, (first, last)
    model = task.inference_model()
    out = model({"ldr": batch["ldr"][:1, :, :29, :31], "exposures": batch["exposures"][:1]})
    assert out.shape == (1, 29, 31, 3)


def test_missing_vgg_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = RunConfig(run_dir=str(tmp_path), train_records="")
    with pytest.raises(MissingWeightsError, match="--vgg_weights"):
        make_train_step(methods.get("sctnet"), "train", cfg)
    missing = str(tmp_path / "nowhere.h5")
    cfg = RunConfig(run_dir=str(tmp_path), train_records="",
                    method_options={"vgg_weights": missing})
    with pytest.raises(MissingWeightsError, match="nowhere.h5"):
        make_train_step(methods.get("sctnet"), "train", cfg)


def test_fit_cli_reports_missing_vgg_in_one_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", HOME=str(tmp_path),
               KERAS_HOME=str(tmp_path / "k"))
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "train", "fit.py"), "--method", "sctnet",
         "--run_dir", str(tmp_path / "run"), "--train_records", str(tmp_path / "none"),
         "--val", ""], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "VGG16 ImageNet weights not found" in result.stderr
    assert "Traceback" not in result.stderr


SMALL = {"embed_dim": 12, "depths": [2, 1], "num_heads": [2, 3], "channel_num_heads": 2}


@pytest.mark.parametrize("xla", [False, True])
def test_export_round_trip_in_a_tensorflow_only_process(tmp_path, xla):
    """The SavedModel equals the Keras model at an odd size. Without --xla it holds no
    XLA-only function (CPU inference compiles each block in-process; a serving build may
    lack XLA)."""
    model = methods.get("sctnet").build_inference_model(SMALL)
    path = export.export_saved_model("sctnet", model, tmp_path / "served", xla=xla)
    assert bool(xla_only_functions(saved_model_graph(path))) == xla
    batch = _batch(seed=4)
    ldr, exposures = batch["ldr"][:, :, :21, :27], batch["exposures"]
    out = run_saved_model_tf_only(path, ldr, exposures, tmp_path)
    expected = model({"ldr": ldr, "exposures": exposures}, training=False).numpy()
    assert out["hdr"].shape == (2, 21, 27, 3)
    np.testing.assert_allclose(out["hdr"], expected, rtol=1e-4, atol=2e-5)
