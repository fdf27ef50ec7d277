"""ESBN: parity with the official TF1 graphs, checkpoint-name handling, and the
`python -m hdrkeras.convert` CLI on TF1 checkpoints written here with tf.compat.v1.Saver."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO_ROOT, parity_dir
from hdrkeras import convert
from hdrkeras.convert import esbn as esbn_convert
from hdrkeras import export, saving
from hdrkeras.convert.__main__ import convert_method
from hdrkeras.errors import ConfigError, DataError


def load(name):
    """(meta, weights, io) of a parity fixture; fails with 'fixture missing' when absent."""
    root = parity_dir(name)
    meta = json.loads((root / "meta.json").read_text())
    return meta, dict(np.load(root / "weights.npz")), dict(np.load(root / "io.npz"))


@pytest.fixture(scope="module")
def fusion_fixture():
    return load("esbn_fusion")


@pytest.fixture(scope="module")
def align_fixture():
    return load("esbn_align")


def write_tf1_checkpoint(prefix, arrays):
    """Saves `arrays` (name -> value) as a TF1 Saver checkpoint with exactly those names."""
    graph = tf.Graph()
    with graph.as_default():
        variables = {}
        for name, value in arrays.items():
            name = name[:-2] if name.endswith(":0") else name
            variables[name] = tf.compat.v1.Variable(np.asarray(value), name=name)
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, str(prefix), write_meta_graph=False)
    return str(prefix)


def assert_matches(out, io, key, meta):
    assert out[key].shape == io[key].shape
    np.testing.assert_allclose(out[key], io[key], rtol=0, atol=meta["tolerance"]["max_abs"])


# --- parity ---------------------------------------------------------------------------

def test_fusion_parity(fusion_fixture):
    meta, weights, io = fusion_fixture
    assert_matches(convert.parity_forward("esbn_fusion", weights, meta["config"], io),
                   io, "out_output_hdr", meta)


def test_align_parity(align_fixture):
    meta, weights, io = align_fixture
    assert_matches(convert.parity_forward("esbn_align", weights, meta["config"], io),
                   io, "out_output_low", meta)


def test_align_high_scope_names(align_fixture):
    """Checkpoints using the *_high scope names (network_align2's second branch) load."""
    meta, weights, io = align_fixture
    renamed = {k.replace("Align_Encoder_midforlow", "Align_Encoder_midforhigh")
                .replace("Align_Encoder_low", "Align_Encoder_high")
                .replace("Align_Decoder_low", "Align_Decoder_high"): v
               for k, v in weights.items()}
    assert not any("_low" in k for k in renamed)
    model = esbn_convert.build_from_state("align", renamed, {"name": "align_high"})
    out = np.asarray(model([io["x_nonref"], io["x_ref"]], training=False))
    np.testing.assert_allclose(out, io["out_output_low"], rtol=0,
                               atol=meta["tolerance"]["max_abs"])


# --- variable names ---------------------------------------------------------------------

def test_names_without_tensor_suffix_and_optimizer_slots(fusion_fixture):
    meta, weights, io = fusion_fixture
    state = {k[:-2]: v for k, v in weights.items()}
    state.update({f"{k}/Adam": np.zeros_like(v) for k, v in state.items()})
    state.update({"beta1_power": np.float32(0.9), "global_step": np.int64(3)})
    out = convert.parity_forward("esbn_fusion", state, meta["config"], io)
    assert_matches(out, io, "out_output_hdr", meta)


def test_missing_and_unused_variables_are_named(fusion_fixture):
    _, weights, _ = fusion_fixture
    gone = "fusion_conv2/fusion_conv2_biases:0"
    state = {k: v for k, v in weights.items() if k != gone}
    with pytest.raises(DataError,
                       match="missing variables 1 \\(fusion_conv2/fusion_conv2_biases\\)"):
        convert.load_reference("esbn_fusion", state)
    extra = dict(weights, **{"fusion_conv3/fusion_conv3_weights:0": np.zeros((3, 3, 128, 64))})
    with pytest.raises(DataError,
                       match="unused variables 1 \\(fusion_conv3/fusion_conv3_weights\\)"):
        convert.load_reference("esbn_fusion", extra)
    # strict=False tolerates unused variables (never missing ones).
    model = convert.load_reference("esbn_fusion", extra, {"strict": False})
    assert model.count_params() == 388_419
    wrong = dict(weights)
    wrong["fusion_conv4/fusion_conv4_weights:0"] = np.zeros((3, 3, 64, 4), np.float32)
    with pytest.raises(DataError, match="fusion_conv4/fusion_conv4_weights has shapes"):
        convert.load_reference("esbn_fusion", wrong)
    with pytest.raises(DataError, match="holds the fusion net, not an alignment net"):
        convert.load_reference("esbn_align", weights)
    with pytest.raises(ConfigError, match="unknown config keys"):
        convert.load_reference("esbn_fusion", weights, {"nFeat": 64})


# --- CLI ------------------------------------------------------------------------------

def run_cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "hdrkeras.convert", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def test_cli_converts_tf1_checkpoint(fusion_fixture, tmp_path):
    """`python -m hdrkeras.convert`: TF1 checkpoint (with Adam slots) -> a working .keras."""
    meta, weights, io = fusion_fixture
    state = {k: v for k, v in weights.items()}
    state["fusion_conv4/fusion_conv4_weights/Adam"] = np.zeros((3, 3, 64, 3), np.float32)
    prefix = write_tf1_checkpoint(tmp_path / "ckpt" / "iter_250000", state)
    out = tmp_path / "nets"
    result = run_cli("--method", "esbn", "--checkpoint", prefix, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out / 'fusion.keras'} (fusion, 388,419 parameters)" in result.stdout
    model = keras.saving.load_model(out / "fusion.keras")
    y = np.asarray(model([io["x_low"], io["x_mid"], io["x_high"]], training=False))
    np.testing.assert_allclose(y, io["out_output_hdr"], rtol=0,
                               atol=meta["tolerance"]["max_abs"])
    # Unreadable checkpoint data: DataError naming the checkpoint, nothing written.
    with open(prefix + ".data-00000-of-00001", "r+b") as f:
        f.truncate(100)
    with pytest.raises(DataError, match=f"{prefix}: cannot read TF checkpoint"):
        convert_method("esbn", [prefix], str(tmp_path / "never"))
    assert sorted(os.listdir(tmp_path)) == ["ckpt", "nets"]


def test_cli_subprocess_user_errors(tmp_path):
    """`python -m hdrkeras.convert` itself: exit 1 and one short 'error:' line for a bad
    path and for a TF checkpoint that is not an official one (a TF2 object checkpoint,
    whose serialized object graph must not end up in the message)."""
    bad_out = tmp_path / "never.keras"
    result = run_cli("--method", "esbn", "--checkpoint", str(tmp_path / "nope" / "iter_1"),
                     "--out", str(bad_out))
    assert result.returncode == 1, result.stderr
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "nope/iter_1: no such checkpoint" in errors[0]
    ckpt = tf.train.Checkpoint(w=tf.Variable(np.ones((3, 3), np.float32)))
    prefix = ckpt.write(str(tmp_path / "tf2" / "ckpt"))
    result = run_cli("--method", "esbn", "--checkpoint", prefix, "--out", str(bad_out))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "CHECKPOINTABLE" not in result.stderr
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "not an ESBN checkpoint" in errors[0] and len(errors[0]) < 300
    assert not bad_out.exists() and os.listdir(tmp_path) == ["tf2"]


def test_cli_directory_mode_and_errors(fusion_fixture, tmp_path):
    _, weights, _ = fusion_fixture
    ckpt_dir = tmp_path / "ckpt_fusion"
    write_tf1_checkpoint(ckpt_dir / "iter_000010", weights)
    out_dir = tmp_path / "converted"
    # A directory checkpoint resolves through its `checkpoint` index file.
    written = convert_method("esbn", [f"fusion={ckpt_dir}"], str(out_dir))
    assert written == [str(out_dir / "fusion.keras")] and (out_dir / "fusion.keras").is_file()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(DataError, match="holds the fusion net, not an alignment net"):
        convert_method("esbn", [f"align_low={ckpt_dir}"], str(tmp_path / "a"))
    with pytest.raises(ConfigError, match="unknown role 'align_mid'"):
        convert_method("esbn", ["align_mid=x"], str(tmp_path / "b.keras"))
    with pytest.raises(ConfigError, match="two checkpoints were given as fusion"):
        convert_method("esbn", [str(ckpt_dir), str(ckpt_dir)], str(tmp_path / "c.keras"))
    with pytest.raises(ConfigError, match="needs a checkpoint for each of align_low, "
                                          "align_high, fusion \\(missing align_low, align_high\\)"):
        convert_method("esbn", [str(ckpt_dir)], str(tmp_path / "c.keras"))
    with pytest.raises(ConfigError, match="'reference_only' has no official checkpoint"):
        convert_method("reference_only", [str(ckpt_dir)], str(tmp_path / "d.keras"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="holds no TF checkpoint"):
        convert_method("esbn", [str(empty)], str(tmp_path / "e.keras"))
    assert sorted(os.listdir(tmp_path)) == sorted(before + ["empty"])


@pytest.mark.slow
def test_cli_three_networks_to_an_exportable_model(align_fixture, fusion_fixture, tmp_path):
    """The full ESBN set: both alignment nets (same variable names) + fusion -> the ESBN
    inference model in one .keras, which export takes as --method esbn only."""
    meta, align_weights, io = align_fixture
    align_ckpt = write_tf1_checkpoint(tmp_path / "low" / "iter_most", align_weights)
    fusion_ckpt = write_tf1_checkpoint(tmp_path / "fusion" / "iter_1", fusion_fixture[1])
    with pytest.raises(ConfigError, match="two checkpoints were given as align_low"):
        convert_method("esbn", [align_ckpt, align_ckpt], str(tmp_path / "out0"))
    out = tmp_path / "esbn.keras"
    convert_method("esbn", [f"align_low={align_ckpt}", f"align_high={align_ckpt}",
                            f"fusion={fusion_ckpt}"], str(out))
    model = saving.load_keras(out)
    assert model.name == "esbn"
    y = np.asarray(model.get_layer("align_high")([io["x_nonref"], io["x_ref"]], training=False))
    np.testing.assert_allclose(y, io["out_output_low"], rtol=0,
                               atol=meta["tolerance"]["max_abs"])
    _, loaded = export.build_model("esbn", str(out))
    with pytest.raises(ConfigError, match="holds a 'esbn' model, not a 'sctnet' one"):
        export.build_model("sctnet", str(out))
    path = export.export_saved_model("esbn", loaded, tmp_path / "served")
    assert saving.read_metadata(path)["method"] == "esbn"
