"""Shared pytest helpers: locating parity fixtures and failing loudly when they are absent."""

import builtins
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TESTS_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
LOCAL_PARITY = TESTS_DIR / "fixtures" / "parity"
# Large fixtures live beside the checkout (../shared/parity); HDRKERAS_PARITY_DIR overrides.
SHARED_PARITY = pathlib.Path(
    os.environ.get("HDRKERAS_PARITY_DIR", REPO_ROOT.parent / "shared" / "parity"))


def require_fixture(path):
    """Returns `path` if it exists; otherwise fails the test with "fixture missing: ..."."""
    path = pathlib.Path(path)
    if not path.exists():
        pytest.fail(f"fixture missing: {path}", pytrace=False)
    return path


def parity_dir(name):
    """Directory of parity fixture `name`: tests/fixtures/parity first, then ../shared/parity.

    Fails (never skips) when neither has it.
    """
    for root in (LOCAL_PARITY, SHARED_PARITY):
        if (root / name / "meta.json").is_file():
            return root / name
    pytest.fail(f"fixture missing: parity fixture {name!r} in {LOCAL_PARITY} or {SHARED_PARITY}",
                pytrace=False)


def load_fixture(name):
    """(meta, weights, io) of parity fixture `name` as dicts of numpy arrays; fails loudly
    when it is absent."""
    path = parity_dir(name)
    meta = json.loads((path / "meta.json").read_text())
    return meta, dict(np.load(path / "weights.npz")), dict(np.load(path / "io.npz"))


def backbone_frames(h, w, seed=0, batch=1, channels=6):
    """Three float32 [B, H, W, channels] frames [L**2.2/t, L] with t = 1, 4, 16 (short,
    reference, long), L ~ U[0, 1): the inputs of the HDR backbones."""
    rng = np.random.default_rng(seed)
    out = []
    for t in (1.0, 4.0, 16.0):
        ldr = rng.random((batch, h, w, channels // 2), dtype=np.float32)
        out.append(np.concatenate([ldr ** 2.2 / t, ldr], -1).astype(np.float32))
    return out


def flip_groups(x):
    """Reverses the colour order inside each 3-channel group (RGB <-> BGR), NHWC."""
    return np.concatenate([x[..., i:i + 3][..., ::-1] for i in range(0, x.shape[-1], 3)], -1)


def run_saved_model_tf_only(path, ldr, exposures, workdir, extra=None, catch_invalid=False):
    """Calls serving_default of the SavedModel at `path` in a fresh process that imports
    TensorFlow but not hdrkeras (what TF Serving does). `extra`: dict name -> array of the
    extra inputs the model declares (e.g. {"sensitivity": float32 [B]}). Returns {"hdr",
    "preview"}; with `catch_invalid`, {"error": message} when the call raises (bad values or
    shapes)."""
    workdir = pathlib.Path(workdir)
    extra = dict(extra or {})
    if {"ldr", "exposures"} & set(extra):
        raise ValueError("extra inputs must not be named ldr or exposures")
    np.savez(workdir / "in.npz", ldr=ldr, exposures=exposures, **extra)
    script = (
        "import sys, numpy as np, tensorflow as tf\n"
        f"d = np.load({str(workdir / 'in.npz')!r})\n"
        f"m = tf.saved_model.load({str(path)!r})\n"
        "f = m.signatures['serving_default']\n"
        "try:\n"
        "    out = f(**{k: tf.constant(d[k]) for k in d.files})\n"
        "    out = {k: v.numpy() for k, v in out.items()}\n"
        "except (tf.errors.InvalidArgumentError, ValueError, TypeError) as e:\n"
        f"    if not {bool(catch_invalid)}: raise\n"
        "    out = {'error': np.array(str(e))}\n"
        "assert not any(k.startswith('hdrkeras') for k in sys.modules), 'imported hdrkeras'\n"
        f"np.savez({str(workdir / 'out.npz')!r}, **out)\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=str(workdir), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(workdir / "out.npz"))


def xla_only_functions(graph_def):
    """Names of the functions in `graph_def`'s library marked _XlaMustCompile (they run
    only where XLA is available)."""
    return sorted(f.signature.name for f in graph_def.library.function
                  if f.attr["_XlaMustCompile"].b)


def check_compiled_inference(model, inputs):
    """Graph-mode CPU inference of a Swin model (XLA-compiled blocks) equals eager
    inference; its graph calls XLA-only functions, and none when traced for export."""
    import tensorflow as tf

    from hdrkeras.layers.cpu_inference import portable_graphs

    graph = tf.function(lambda d: model(d, training=False))
    np.testing.assert_allclose(graph(inputs).numpy(), model(inputs, training=False).numpy(),
                               atol=2e-6)
    assert xla_only_functions(graph.get_concrete_function(inputs).graph.as_graph_def())
    with portable_graphs():
        portable = tf.function(lambda d: model(d, training=False)).get_concrete_function(inputs)
    assert xla_only_functions(portable.graph.as_graph_def()) == []


def check_mixed_precision_inference(build_model, inputs):
    """Under mixed_bfloat16 (as `--mixed_precision` on CPU), graph-mode CPU inference
    (XLA-compiled blocks) runs and agrees with the vectorised pass to bf16 precision."""
    import keras
    import tensorflow as tf

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model()
        graph = tf.function(lambda d: model(d, training=False))(inputs)
        plain = model(inputs, training=True)  # the vectorised pass; drop_path_rate is 0
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert graph.dtype == tf.bfloat16
    graph, plain = (tf.cast(t, tf.float32).numpy() for t in (graph, plain))
    assert np.isfinite(graph).all()
    np.testing.assert_allclose(graph, plain, atol=2e-2)


def hide_modules(monkeypatch, *names):
    """Makes `import NAME` (and its submodules) fail as if NAME were not installed, unless
    it is already in sys.modules (a stand-in put there by the code under test)."""
    real_import = builtins.__import__

    def guarded(name, *args, **kwargs):
        top = name.split(".")[0]
        if top in names and name not in sys.modules:
            raise ImportError(f"No module named {top!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", guarded)


def saved_model_graph(path):
    """The GraphDef of the SavedModel directory `path`."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((pathlib.Path(path) / "saved_model.pb").read_bytes())
    return proto.meta_graphs[0].graph_def


@pytest.fixture
def rng():
    """A seeded numpy Generator, so failures reproduce."""
    return np.random.default_rng(1234)
