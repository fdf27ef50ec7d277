"""The dealthdr method: registration and options, the serving model with its sensitivity
input (export round trip in a TF-only process at an odd size, bad inputs rejected in the
graph too), streaming equal to per-window results with per-frame / per-pair work done
once, and reconstruct/evaluate taking --sensitivity."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_saved_model_tf_only
from hdrkeras import methods
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.export import export_saved_model
from hdrkeras.methods.dealthdr import DeAltHDRStreaming
from hdrkeras.methods.streaming import stream
from video_clip import moving_clip

TINY = {"dim": 8, "Enc_blocks": [1, 1, 1], "Middle_blocks": 1, "Dec_blocks": [1, 1, 1]}


@pytest.fixture(scope="module")
def method():
    return methods.get("dealthdr")


@pytest.fixture(scope="module")
def model(method):
    return method.build_inference_model(TINY)


def run(model, ldr, exposures, s):
    return np.asarray(model({"ldr": ldr, "exposures": exposures,
                             "sensitivity": np.asarray(s, np.float32)}))


def test_method_contract_and_options(method, model):
    assert method.kind == "video" and method.num_frames == 5
    assert [s.name for s in method.input_specs()] == ["ldr", "exposures", "sensitivity"]
    assert method.parse_options({}).sensitivity == 15.0
    assert method.parse_options({"sensitivity": 0}).sensitivity == 0.0
    for bad in (-1.0, float("nan"), "high"):
        with pytest.raises(ConfigError, match="--sensitivity"):
            method.parse_options({"sensitivity": bad})
    with pytest.raises(ConfigError, match="windows of 5 frames"):
        method.build_inference_model({"num_frames": 3})
    assert model.name == "dealthdr"
    assert sorted(model.input) == ["exposures", "ldr", "sensitivity"]
    # The official checkpoint route: a converted DeAltHDR becomes the serving model.
    from hdrkeras.models.dealthdr import DeAltHDR

    net = DeAltHDR(**TINY)
    served = method.from_official({"network": net}, method.parse_options({}))
    assert served.name == "dealthdr"
    for a, b in zip(served.network.weights, net.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bad_inputs_rejected_eagerly_and_in_graph(model, rng):
    ldr = rng.random((1, 5, 24, 20, 3), dtype=np.float32)
    exposures = np.array([[1, 8, 1, 8, 1]], np.float32)
    from hdrkeras.predictor import keras_predictor

    with pytest.raises(DataError, match="takes 5 frames, got 3"):
        keras_predictor(model, "m", "dealthdr")(ldr[:, :3], exposures[:, :3],
                                                sensitivity=[15.0])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 5\)"):
        run(model, ldr[:, :3], exposures[:, :3], [15.0])
    with pytest.raises(ConfigError, match="sensitivity must be finite and >= 0"):
        run(model, ldr, exposures, [-1.0])
    graph = tf.function(lambda x, t, s: model({"ldr": x, "exposures": t, "sensitivity": s}),
                        input_signature=[tf.TensorSpec([None, None, None, None, 3]),
                                         tf.TensorSpec([None, None]), tf.TensorSpec([None])])
    with pytest.raises(tf.errors.InvalidArgumentError, match="sensitivity must be finite"):
        graph(ldr, exposures, np.array([-1.0], np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="windows of 5 frames"):
        graph(ldr[:, :3], exposures[:, :3], np.array([15.0], np.float32))


def test_export_round_trip_with_sensitivity_tf_only(model, rng, tmp_path):
    """The SavedModel takes `sensitivity` beside ldr/exposures, per batch element; a TF-only
    process gets the Keras model's outputs at an odd size; s changes the result."""
    path = export_saved_model("dealthdr", model, tmp_path / "export")
    ldr = rng.random((2, 5, 37, 53, 3), dtype=np.float32)
    exposures = np.array([[1, 8, 1, 8, 1], [8, 1, 8, 1, 8]], np.float32)
    s = np.array([0.0, 15.0], np.float32)
    out = run_saved_model_tf_only(path, ldr, exposures, tmp_path, extra={"sensitivity": s})
    want = run(model, ldr, exposures, s)
    assert out["hdr"].shape == (2, 37, 53, 3)
    np.testing.assert_allclose(out["hdr"], want, atol=2e-5)
    other = run(model, ldr, exposures, s[::-1])
    assert np.abs(other - want).max() > 1e-4  # the input is used, per example

    loaded = tf.saved_model.load(path).signatures["serving_default"]
    assert set(loaded.structured_input_signature[1]) == {"ldr", "exposures", "sensitivity"}
    with pytest.raises(tf.errors.InvalidArgumentError, match="sensitivity must be finite"):
        loaded(ldr=tf.constant(ldr), exposures=tf.constant(exposures),
               sensitivity=tf.constant([1.0, -1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"ldr must be \[B, 5, H, W, 3\]"):
        loaded(ldr=tf.constant(ldr[:, :4]), exposures=tf.constant(exposures[:, :4]),
               sensitivity=tf.constant(s))


class Counting(DeAltHDRStreaming):
    """Counts the per-frame encoder and per-pair SpyNet calls of the streaming model."""

    def __init__(self, *args):
        super().__init__(*args)
        self.calls = {"encoder": 0, "spynet": 0}
        for branch, fn in list(self._encode.items()):
            self._encode[branch] = self._counted(fn, "encoder", 1)
        self._pair = self._counted(self._pair, "spynet", 2)
        self._flow_only = self._counted(self._flow_only, "spynet", 1)

    def _counted(self, fn, key, n):
        def wrapped(*args):
            self.calls[key] += n
            return fn(*args)
        return wrapped


@pytest.mark.parametrize("s", [0.0, 15.0])
def test_streaming_equals_per_window_with_work_done_once(model, s):
    seq = moving_clip(7, 37, 45, levels=(1.0, 8.0))
    streaming = Counting(model, s)
    outs = dict(stream(streaming, seq))
    windows = [seq.window(c, 5) for c in range(len(seq))]
    for c, idx in enumerate(windows):
        ldr = np.stack([seq.ldr(i) for i in idx])[None]
        t = np.array([[seq.exposures[i] for i in idx]], np.float32)
        np.testing.assert_allclose(outs[c], run(model, ldr, t, [s])[0], atol=1e-6)
    pairs = {tuple(sorted((idx[2], idx[k]))) for idx in windows for k in (0, 1, 3, 4)}
    # One encoder call per frame (the per-window model: 5 per output frame) and two
    # SpyNet calls per frame pair (per window: 8 per output frame).
    assert streaming.calls == {"encoder": len(seq), "spynet": 2 * len(pairs)}
    assert 2 * len(pairs) < 5 * len(seq)


def test_reconstruct_takes_sensitivity(model, tmp_path, capsys):
    """reconstruct/video.py --model M.keras --sensitivity S streams the model at S;
    evaluate --video takes the same flag; bad values are one-line errors."""
    from hdrkeras import evaluate_video, video_inference
    from hdrkeras.io.hdr import read_hdr
    from hdrkeras.io.images import read_ldr, write_ldr
    from hdrkeras.reconstruct_video import entry

    keras_path = str(tmp_path / "dealthdr.keras")
    model.save(keras_path)
    own = video_inference.streaming_model(model=keras_path, extra={"sensitivity": 0.0})
    assert isinstance(own, DeAltHDRStreaming) and own.sensitivity == 0.0
    assert video_inference.streaming_model(model=keras_path).sensitivity == 15.0
    with pytest.raises(ConfigError, match="--sensitivity must be finite and >= 0"):
        video_inference.streaming_model(model=keras_path, extra={"sensitivity": -2.0})
    with pytest.raises(ConfigError, match="takes no extra inputs, got sensitivity"):
        video_inference.streaming_model(method="video_reference_only",
                                        extra={"sensitivity": 1.0})
    with pytest.raises(ConfigError, match="give its model with --model"):
        video_inference.streaming_model(method="dealthdr")
    assert "sensitivity" in evaluate_video.FLAGS

    seq = moving_clip(5, 32, 40, levels=(1.0, 8.0))
    frames = tmp_path / "in"
    frames.mkdir()
    for i in range(len(seq)):
        write_ldr(str(frames / f"f{i:03d}.png"), seq.ldr(i))
    out = str(tmp_path / "out")
    with pytest.raises(SystemExit) as exc:
        entry(["video.py", "--model", keras_path, "--input", str(frames), "--exposures",
               "1,8", "--out", out, "--sensitivity", "0", "--nomp4"])
    assert exc.value.code == 0, capsys.readouterr().err
    reread = type(seq)("in", [read_ldr(str(frames / f"f{i:03d}.png")) for i in range(5)],
                       seq.exposures)
    want = dict(stream(DeAltHDRStreaming(model, 0.0), reread))
    got = read_hdr(f"{out}/frame_00002.exr")
    np.testing.assert_allclose(got, want[2], rtol=2e-3, atol=1e-5)  # half-float EXR
    other = dict(stream(DeAltHDRStreaming(model, 15.0), reread))[2]
    assert np.abs(got - other).max() > 1e-3  # the flag reached the model
    with pytest.raises(SystemExit) as exc:
        entry(["video.py", "--model", keras_path, "--input", str(frames), "--exposures",
               "1,8", "--out", str(tmp_path / "o2"), "--sensitivity", "-1"])
    assert exc.value.code == 1
    assert "--sensitivity must be finite and >= 0" in capsys.readouterr().err
