"""hdrkeras.export: TF Serving SavedModels that run in a TensorFlow-only process, any H x W,
version directories, XLA, in-graph validation, atomic writes and the CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_saved_model_tf_only
from hdrkeras import export, methods, saving
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.ops import tonemap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _inputs(h, w, b=2, seed=0):
    rng = np.random.default_rng(seed)
    ldr = rng.uniform(size=(b, 3, h, w, 3)).astype(np.float32)
    ldr[:, :, : h // 4] = 1.0  # saturated band: exercises the fall-back path
    exposures = np.array([[1.0, 4.0, 16.0], [1.0, 2.0, 4.0]], np.float32)[:b]
    return ldr, exposures


@pytest.fixture(scope="module")
def merge_model():
    return methods.get("classical_merge").build_inference_model()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, merge_model):
    base = tmp_path_factory.mktemp("export")
    path = export.export_saved_model("classical_merge", merge_model, base)
    return base, path


def _keras_hdr(model, ldr, exposures):
    return model({"ldr": ldr, "exposures": exposures}, training=False).numpy()


def test_layout_and_metadata(exported):
    base, path = exported
    assert path == os.path.join(str(base), "1")
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    assert sorted(os.listdir(base)) == ["1"]  # no temporary left behind
    meta = saving.read_metadata(path)
    assert meta["method"] == "classical_merge" and meta["num_frames"] == 3


def test_runs_in_a_tensorflow_only_process(exported, merge_model, tmp_path):
    """What TF Serving does: load with TensorFlow alone, call serving_default."""
    _, path = exported
    ldr, exposures = _inputs(37, 53)
    out = run_saved_model_tf_only(path, ldr, exposures, tmp_path)
    expected = _keras_hdr(merge_model, ldr, exposures)
    assert out["hdr"].shape == (2, 37, 53, 3) and out["hdr"].dtype == np.float32
    np.testing.assert_allclose(out["hdr"], expected, rtol=1e-5, atol=1e-6)
    assert out["preview"].dtype == np.uint8
    np.testing.assert_array_equal(out["preview"], tonemap.preview(expected))


@pytest.mark.parametrize("h,w", [(37, 53), (1, 1), (64, 17)])
def test_any_height_and_width(exported, merge_model, h, w):
    _, path = exported
    f = tf.saved_model.load(path).signatures["serving_default"]
    ldr, exposures = _inputs(h, w, b=1)
    out = f(ldr=tf.constant(ldr), exposures=tf.constant(exposures))
    assert out["hdr"].shape == (1, h, w, 3) and out["preview"].shape == (1, h, w, 3)
    np.testing.assert_allclose(out["hdr"].numpy(), _keras_hdr(merge_model, ldr, exposures),
                               rtol=1e-5, atol=1e-6)


def test_saved_model_cli_lists_the_signature(exported):
    _, path = exported
    cli = os.path.join(VENV_BIN, "saved_model_cli")
    cmd = [cli] if os.path.exists(cli) else [sys.executable, "-m",
                                             "tensorflow.python.tools.saved_model_cli"]
    proc = subprocess.run(cmd + ["show", "--dir", path, "--all"], capture_output=True,
                          text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    assert "signature_def['serving_default']" in text
    for needle in ("inputs['ldr']", "inputs['exposures']", "outputs['hdr']",
                   "outputs['preview']", "shape: (-1, 3, -1, -1, 3)", "shape: (-1, 3)",
                   "DT_UINT8", "DT_FLOAT"):
        assert needle in text, needle


def test_version_directories_increment(tmp_path, merge_model):
    base = tmp_path / "m"
    assert saving.next_version(base) == 1
    assert export.export_saved_model("classical_merge", merge_model, base).endswith(os.sep + "1")
    assert export.export_saved_model("classical_merge", merge_model, base).endswith(os.sep + "2")
    assert export.export_saved_model("classical_merge", merge_model, base,
                                     version=7).endswith(os.sep + "7")
    assert saving.list_versions(base) == [1, 2, 7] and saving.next_version(base) == 8
    with pytest.raises(ConfigError, match="version 2 already exists"):
        export.export_saved_model("classical_merge", merge_model, base, version=2)
    with pytest.raises(ConfigError, match="positive integer"):
        export.export_saved_model("classical_merge", merge_model, base, version=0)


def test_xla_export_matches(tmp_path, merge_model):
    path = export.export_saved_model("classical_merge", merge_model, tmp_path, xla=True)
    assert saving.read_metadata(path)["xla"] is True
    f = tf.saved_model.load(path).signatures["serving_default"]
    ldr, exposures = _inputs(29, 31)
    out = f(ldr=tf.constant(ldr), exposures=tf.constant(exposures))
    np.testing.assert_allclose(out["hdr"].numpy(), _keras_hdr(merge_model, ldr, exposures),
                               rtol=1e-5, atol=1e-6)


def test_in_graph_validation(exported):
    _, path = exported
    f = tf.saved_model.load(path).signatures["serving_default"]
    ldr, exposures = _inputs(8, 8)
    bad = ldr.copy()
    bad[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-finite"):
        f(ldr=tf.constant(bad), exposures=tf.constant(exposures))
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch sizes"):
        f(ldr=tf.constant(ldr), exposures=tf.constant(exposures[:1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="exposures must be > 0"):
        f(ldr=tf.constant(ldr), exposures=tf.constant(-exposures))


def test_interrupted_export_leaves_nothing(tmp_path, merge_model, monkeypatch):
    base = tmp_path / "m"
    export.export_saved_model("classical_merge", merge_model, base)
    real_save = tf.saved_model.save

    def crash(obj, export_dir, signatures=None):
        real_save(obj, export_dir, signatures=signatures)  # half-done: files exist
        raise KeyboardInterrupt("killed mid-export")

    monkeypatch.setattr(tf.saved_model, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        export.export_saved_model("classical_merge", merge_model, base)
    assert sorted(os.listdir(base)) == ["1"]
    assert saving.next_version(base) == 2


def test_model_that_cannot_take_odd_sizes_is_rejected(tmp_path):
    import keras

    ldr = keras.Input((3, None, None, 3), name="ldr")
    exposures = keras.Input((3,), name="exposures")
    # stride-2 conv + 2x upsampling: a 37x53 input comes back 38x54
    x = keras.layers.Conv2D(3, 3, strides=2, padding="same")(ldr[:, 1])
    x = keras.layers.UpSampling2D(2)(x)
    model = keras.Model({"ldr": ldr, "exposures": exposures}, x)
    with pytest.raises(ConfigError, match="37x53"):
        export.export_saved_model("reference_only", model, tmp_path)
    assert not os.listdir(tmp_path)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "hdrkeras.export", *args], capture_output=True,
                          text=True, env=_env(), cwd=str(cwd), timeout=300)


def test_cli_exports_keras_checkpoint(tmp_path, merge_model):
    run_dir = tmp_path / "run"  # what the training driver leaves: <run_dir>/model.keras
    saving.save_keras(merge_model, run_dir / "model.keras")
    proc = _cli("--method", "classical_merge", "--checkpoint", str(run_dir), "--out",
                str(tmp_path / "merge"), "--version", "3", "--xla", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "exported classical_merge to" in proc.stdout
    meta = saving.read_metadata(str(tmp_path / "merge" / "3"))
    assert meta["xla"] is True and meta["method"] == "classical_merge"
    f = tf.saved_model.load(str(tmp_path / "merge" / "3")).signatures["serving_default"]
    ldr, exposures = _inputs(10, 12)
    np.testing.assert_allclose(f(ldr=tf.constant(ldr), exposures=tf.constant(exposures))["hdr"],
                               _keras_hdr(merge_model, ldr, exposures), rtol=1e-5, atol=1e-6)


def test_baseline_needs_no_checkpoint(tmp_path):
    method, model = export.build_model("reference_only")
    path = export.export_saved_model(method.name, model, tmp_path)
    assert saving.read_metadata(path)["method"] == "reference_only"


def test_cli_user_errors_are_one_line(tmp_path):
    proc = _cli("--method", "classical_merge", "--checkpoint", str(tmp_path / "nothing"),
                "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and "nothing: checkpoint does not exist" in lines[-1]
    assert not any("Traceback" in ln for ln in lines)
    assert not (tmp_path / "o").exists()


def test_learned_method_needs_checkpoint_and_checkpoint_errors(tmp_path):
    trained = [n for n in methods.names() if methods.get(n).stages]
    assert trained, "no trained method registered"
    with pytest.raises(ConfigError, match="pass --checkpoint"):
        export.build_model(trained[0])
    with pytest.raises(ConfigError, match="No method named"):
        export.build_model("no_such_method")
    (tmp_path / "run").mkdir()
    with pytest.raises(DataError, match="has no model.keras"):
        saving.resolve_checkpoint(tmp_path / "run")
    (tmp_path / "w.h5").write_bytes(b"x")
    with pytest.raises(DataError, match="not a .keras file"):
        saving.resolve_checkpoint(tmp_path / "w.h5")
    with pytest.raises(ConfigError, match="must end in .keras"):
        saving.save_keras(None, tmp_path / "x.h5")


def test_metadata_is_json(exported):
    _, path = exported
    with open(os.path.join(path, saving.METADATA_FILE)) as f:
        assert json.load(f)["signature"] == "serving_default"
