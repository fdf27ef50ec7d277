"""python -m hdrkeras.bench: inputs, timing/memory fields, isolation, threads, --train."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from hdrkeras import methods, training
from hdrkeras.bench import inference as bench
from hdrkeras.errors import ConfigError
from hdrkeras.methods.base import Method, Stage, TrainTask

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "hdrkeras.bench", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=600)


def test_parse_size():
    assert bench.parse_size("1000x1500") == (1000, 1500)
    assert bench.parse_size("256") == (256, 256)
    for bad in ("axb", "0x5", "1x2x3"):
        with pytest.raises(ConfigError, match="--size"):
            bench.parse_size(bad)


def test_random_inputs_are_ldr_with_increasing_exposures():
    ldr, exposures = bench.random_inputs(2, 3, 8, 9, seed=3)
    assert ldr.shape == (2, 3, 8, 9, 3) and ldr.dtype == np.float32
    assert ldr.min() >= 0.0 and ldr.max() <= 1.0 and ldr.std() > 0.2
    np.testing.assert_array_equal(exposures, [[1, 4, 16], [1, 4, 16]])


def test_measure_inference_in_process():
    r = bench.measure(bench.BenchSpec(method="classical_merge", height=24, width=40, batch=2,
                                      runs=3, warmup=1))
    assert r["mode"] == "inference" and r["params"] == 0 and r["frames"] == 3
    assert 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"]
    assert r["peak_rss_mb"] >= r["rss_before_mb"] > 0 and r["peak_delta_mb"] >= 0
    text = bench.format_result(r)
    assert "classical_merge  params 0  input 2x3x24x40x3" in text and "median" in text


def test_measure_tiled():
    spec = bench.BenchSpec(method="reference_only", height=40, width=40, runs=1, warmup=0,
                           tile=16, overlap=4)
    r = bench.measure(spec)
    assert r["tile"] == 16 and r["overlap"] == 4
    assert "tiled 16/4" in bench.format_result(r)


def test_cli_json_isolated_with_threads():
    proc = _run_cli("--method", "classical_merge", "--size", "16x24,32x32", "--runs", "2",
                    "--threads", "1", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert [(r["height"], r["width"]) for r in results] == [(16, 24), (32, 32)]
    for r in results:
        assert r["threads"] == 1 and r["runs"] == 2 and r["median_ms"] > 0
        assert {"params", "peak_rss_mb", "peak_delta_mb", "device"} <= set(r)


def test_cli_user_error_is_one_line():
    proc = _run_cli("--method", "no_such_method", "--size", "8x8", "--runs", "1")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "no_such_method" in last
    assert "Traceback" not in proc.stderr
    with pytest.raises(ConfigError, match="no training stages"):
        bench.measure(bench.BenchSpec(method="reference_only", height=8, width=8, runs=1,
                                      train=True))


# --- --train -------------------------------------------------------------------------------

class _TinyTask(TrainTask):
    def __init__(self):
        ldr = keras.Input((3, None, None, 3), name="ldr")
        exposures = keras.Input((3,), name="exposures")
        out = keras.layers.Conv2D(3, 3, padding="same", name="conv")(ldr[:, 1])
        self.networks = {"net": keras.Model({"ldr": ldr, "exposures": exposures}, out)}
        self.trainable = ("net",)

    def loss(self, batch, training=True):
        pred = self.networks["net"]({"ldr": batch["ldr"], "exposures": batch["exposures"]},
                                    training=training)
        loss = keras.ops.mean(keras.ops.abs(pred - batch["hdr"]))
        return loss, {"l1": loss}, {}


class _TinyMethod(Method):
    name = "bench_test_tiny"
    stages = (Stage("only", lambda options, previous: _TinyTask(), steps=10, batch_size=2,
                    patch_size=16, learning_rate=1e-3),)

    def build_inference_model(self, config=None):
        return _TinyTask().networks["net"]


def test_measure_train_step_calls_make_train_step(monkeypatch):
    monkeypatch.setitem(methods.METHODS._entries, _TinyMethod.name, _TinyMethod())
    r = bench.measure(bench.BenchSpec(method=_TinyMethod.name, height=16, width=16, batch=2,
                                      runs=2, warmup=1, train=True))
    assert r["mode"] == "train" and r["stage"] == "only"
    assert r["params"] == 3 * 3 * 3 * 3 + 3 and r["median_ms"] > 0
    assert "train step (only)" in bench.format_result(r)


@pytest.mark.slow
def test_cli_train_step_of_a_real_method():
    trained = [n for n in methods.names() if methods.get(n).stages]
    assert trained, "no trained method registered"
    proc = _run_cli("--method", trained[0], "--size", "32x32", "--train",
                    "--stage", methods.get(trained[0]).stages[0].name, "--runs", "1", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    assert r["mode"] == "train" and r["params"] > 0 and r["median_ms"] > 0
