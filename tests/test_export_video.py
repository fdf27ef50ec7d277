"""hdrkeras.export of video window models: ldr [B,T,H,W,3] + exposures [B,T] + declared extra
inputs -> the centre frame's hdr/preview, any H x W, shapes and values checked in the graph,
metadata, TF-only loading, and reconstruct/video.py --model on such an export."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO_ROOT, run_saved_model_tf_only
from video_clip import moving_clip

from hdrkeras import export, methods, saving
from hdrkeras.errors import ConfigError
from hdrkeras.io.hdr import read_hdr
from hdrkeras.io.images import write_ldr
from hdrkeras.layers.reference_frame_hdr import ReferenceFrameHDR
from hdrkeras.methods.base import METHODS, InputSpec, Method
from hdrkeras.methods.baselines import _inputs
from hdrkeras.ops import response, tonemap
from hdrkeras.reconstruct_video import entry

FAKE = "test_fake_video"


class FakeVideoMethod(Method):
    """A weight-free video method with a scalar extra input: the centre frame linearised,
    times `sensitivity` (so a test can tell whether the extra input arrived)."""

    name = FAKE
    kind = "video"
    num_frames = 3
    num_exposures = 2
    extra_inputs = (InputSpec("sensitivity", (), "float32 [B] test gain"),)

    def build_inference_model(self, config=None):
        inputs = _inputs(self.num_frames)
        inputs["sensitivity"] = keras.Input(shape=(), name="sensitivity", dtype="float32")
        hdr = ReferenceFrameHDR(name="reference_hdr")(inputs["ldr"], inputs["exposures"])
        hdr = hdr * keras.ops.reshape(inputs["sensitivity"], (-1, 1, 1, 1))
        return keras.Model(inputs=inputs, outputs=hdr, name=FAKE)


@pytest.fixture
def fake_method(monkeypatch):
    """FakeVideoMethod registered for this test only (removed again afterwards)."""
    monkeypatch.setitem(METHODS._entries, FAKE, FakeVideoMethod())
    return methods.get(FAKE)


def _window(b, t, h, w, seed=0):
    rng = np.random.default_rng(seed)
    ldr = rng.uniform(size=(b, t, h, w, 3)).astype(np.float32)
    exposures = np.tile((4.0 ** (np.arange(t) % 2)).astype(np.float32), (b, 1))
    exposures[-1] *= 2.0  # a second example with other times
    return ldr, exposures


def _centre_hdr(ldr, exposures):
    c = ldr.shape[1] // 2
    return np.stack([response.ldr_to_hdr(ldr[i, c], exposures[i, c]) for i in range(len(ldr))])


@pytest.fixture(scope="module")
def cli_export_t5(tmp_path_factory):
    """`python -m hdrkeras.export --method video_reference_only --frames 5`, as a user runs it."""
    base = tmp_path_factory.mktemp("vexport") / "ref5"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "hdrkeras.export", "--method",
                           "video_reference_only", "--frames", "5", "--out", str(base)],
                          capture_output=True, text=True, env=env, cwd=str(base.parent),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return str(base / "1")


def test_cli_export_of_a_video_window_runs_tf_only(cli_export_t5, tmp_path):
    meta = saving.read_metadata(cli_export_t5)
    assert meta["method"] == "video_reference_only" and meta["kind"] == "video"
    assert meta["num_frames"] == 5 and meta["num_exposures"] is None
    assert meta["extra_inputs"] == [] and "centre frame" in meta["outputs"]["hdr"]
    assert "[B, 5, H, W, 3]" in meta["inputs"]["ldr"]
    ldr, exposures = _window(2, 5, 37, 53)
    out = run_saved_model_tf_only(cli_export_t5, ldr, exposures, tmp_path)
    want = _centre_hdr(ldr, exposures)
    assert out["hdr"].shape == (2, 37, 53, 3)
    np.testing.assert_allclose(out["hdr"], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["preview"], tonemap.preview(out["hdr"]))


def test_window_of_three_any_size(tmp_path):
    method, model = export.build_model("video_reference_only")
    path = export.export_saved_model(method.name, model, tmp_path)
    assert saving.read_metadata(path)["num_frames"] == 3
    f = tf.saved_model.load(path).signatures["serving_default"]
    for h, w in ((1, 1), (19, 23)):
        ldr, exposures = _window(2, 3, h, w, seed=h)
        out = f(ldr=tf.constant(ldr), exposures=tf.constant(exposures))
        np.testing.assert_allclose(out["hdr"].numpy(), _centre_hdr(ldr, exposures),
                                   rtol=1e-5, atol=1e-6)


def test_bad_inputs_are_rejected_in_the_graph(cli_export_t5):
    f = tf.saved_model.load(cli_export_t5).signatures["serving_default"]
    ldr, exposures = _window(2, 5, 8, 8)
    inf = ldr.copy()
    inf[1, 4, 3, 5, 2] = np.inf

    def call(l=ldr, t=exposures):
        return f(ldr=tf.constant(l), exposures=tf.constant(t))

    cases = [
        (dict(l=ldr[:, :3], t=exposures[:, :3]), r"ldr must be \[B, 5, H, W, 3\].*dimension 1 differs, got shape\] \[2 3 8 8 3\]"),
        (dict(l=ldr[:, 0]), r"ldr must be \[B, 5, H, W, 3\].*wrong rank, got shape\] \[2 8 8 3\]"),
        (dict(l=np.concatenate([ldr, ldr[..., :1]], -1)),
         r"ldr must be \[B, 5, H, W, 3\].*dimension 4"),
        (dict(t=exposures[:, :4]), r"exposures must be \[B, 5\].*dimension 1"),
        (dict(t=exposures[:1]), "ldr and exposures have different batch sizes"),
        (dict(l=inf), "ldr has non-finite values"),
        (dict(t=np.where(exposures == 4.0, np.nan, exposures).astype(np.float32)),
         "exposures have non-finite values"),
        (dict(t=exposures * np.array([1, 1, 0, 1, 1], np.float32)), "exposures must be > 0"),
    ]
    for kwargs, message in cases:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            call(**kwargs)
    assert call()["hdr"].shape == (2, 8, 8, 3)  # the good input still runs


def test_extra_input_is_in_the_signature_and_checked(fake_method, tmp_path):
    model = fake_method.build_inference_model()
    path = export.export_saved_model(FAKE, model, tmp_path / "fake")
    meta = saving.read_metadata(path)
    assert meta["kind"] == "video" and meta["num_frames"] == 3 and meta["num_exposures"] == 2
    assert meta["extra_inputs"] == [{"name": "sensitivity", "shape": [], "dtype": "float32",
                                     "doc": "float32 [B] test gain"}]
    ldr, exposures = _window(2, 3, 21, 9)
    sensitivity = np.array([2.0, 0.5], np.float32)
    out = run_saved_model_tf_only(path, ldr, exposures, tmp_path,
                                  extra={"sensitivity": sensitivity})
    np.testing.assert_allclose(out["hdr"], _centre_hdr(ldr, exposures)
                               * sensitivity[:, None, None, None], rtol=1e-5, atol=1e-6)

    f = tf.saved_model.load(path).signatures["serving_default"]
    good = dict(ldr=tf.constant(ldr), exposures=tf.constant(exposures))
    for value, message in (([1.0], "ldr and sensitivity have different batch sizes"),
                           ([[1.0], [2.0]], r"sensitivity must be \[B\].*wrong rank, got shape\] \[2 1\]"),
                           ([1.0, np.nan], "sensitivity has non-finite values")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            f(**good, sensitivity=tf.constant(value, tf.float32))


def test_video_export_rejects_an_even_window_and_a_flow_method(tmp_path):
    model = methods.get("video_reference_only").build_inference_model({"num_frames": 3})
    with pytest.raises(ConfigError, match="T must be odd, got 4"):
        export.export_saved_model("video_reference_only", model, tmp_path, num_frames=4)
    with pytest.raises(ConfigError, match="no Keras model to export"):
        export.build_model("video_classical_merge")
    assert not os.listdir(tmp_path)


def test_reconstruct_video_runs_an_export_with_an_extra_input(fake_method, tmp_path, capsys):
    path = export.export_saved_model(FAKE, fake_method.build_inference_model(), tmp_path / "m")
    seq = moving_clip(4, h=17, w=21)
    frames = tmp_path / "in"
    frames.mkdir()
    for i in range(len(seq)):
        write_ldr(str(frames / f"f{i:03d}.png"), seq.ldr(i))
    args = ["video.py", "--model", str(tmp_path / "m"), "--input", str(frames),
            "--exposures", "1,4", "--mp4=false"]

    with pytest.raises(SystemExit) as exc:  # the declared extra input left out
        entry(args + ["--out", str(tmp_path / "o0")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 1 and len(err) == 1
    assert "needs --extra_input sensitivity=VALUE" in err[0]

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        entry(args + ["--out", str(out), "--extra_input", "sensitivity=3"])
    assert exc.value.code == 0, capsys.readouterr().err
    assert "4/4" in capsys.readouterr().out
    # Frame 2's window is frames 1, 2, 3: the result is frame 2 linearised, times 3.
    from hdrkeras.io.images import read_ldr

    centre = read_ldr(str(frames / "f002.png"))
    np.testing.assert_allclose(read_hdr(str(out / "frame_00002.exr")),
                               3.0 * response.ldr_to_hdr(centre, np.float32(1.0)),
                               rtol=1e-3, atol=1e-6)
    assert os.path.isfile(out / "frame_00003_preview.png") and path.endswith("1")


def test_evaluate_video_scores_an_export_beside_its_own_baseline(tmp_path, capsys):
    """An export of video_reference_only is named like the baseline: its rows are labelled
    with its path, and its scores equal the baseline's (same computation, in the graph)."""
    from hdrkeras.evaluate_video import entry as evaluate_entry
    from hdrkeras.io.hdr import write_hdr

    method, model = export.build_model("video_reference_only")
    base = tmp_path / "ref"
    export.export_saved_model(method.name, model, base)
    seq = moving_clip(5, h=24, w=32)
    for i in range(len(seq)):
        write_ldr(str(tmp_path / "seq" / f"f{i:03d}.png"), seq.ldr(i))
        write_hdr(str(tmp_path / "seq" / "gt" / f"f{i:03d}.hdr"), seq.hdr(i))
    with pytest.raises(SystemExit) as exc:
        evaluate_entry(["evaluate.py", "--model", str(base), "--input", str(tmp_path / "seq"),
                        "--exposures", "1,4", "--out", str(tmp_path / "eval")])
    assert exc.value.code == 0, capsys.readouterr().err
    table = (tmp_path / "eval" / "metrics.md").read_text()
    assert table.startswith("| Model | Sequences | PSNR-T |") and "| s/frame |" in table
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0].startswith("video_"):
            rows[cells[0]] = cells[1:-1]  # without the timing column
    exported = f"video_reference_only ({base})"
    assert sorted(rows) == sorted([exported, "video_reference_only", "video_classical_merge"])
    assert rows[exported] == rows["video_reference_only"]
