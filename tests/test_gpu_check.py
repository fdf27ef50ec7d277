"""scripts/gpu_check.sh and hdrkeras.bench.gpu_check: the no-GPU path (one line, exit 0)
and the whole plumbing (XLA export, TF-only SavedModel process, comparison, timings,
report) run on the CPU with a zero-training method."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.bench import gpu_check

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _no_gpu_here():
    if tf.config.list_physical_devices("GPU"):
        pytest.fail("this test checks the no-GPU path; run it on a machine without a GPU "
                    "(or with CUDA_VISIBLE_DEVICES=-1)")


def test_script_without_gpu_says_so_in_one_line_and_exits_0(tmp_path):
    _no_gpu_here()
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/bin:/bin", HDRKERAS_WORK=str(tmp_path))
    # A stand-in nvidia-smi that finds no device, as on a machine with drivers but no GPU.
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    fake.chmod(0o755)
    for path in (env["PATH"], "/usr/bin:/bin"):
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "gpu_check.sh")],
                           env=dict(env, PATH=path), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == [
            "gpu_check: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to check."]
        assert not (tmp_path / "gpu_check").exists()


def test_module_without_gpu_says_so_and_exits_0(tmp_path):
    _no_gpu_here()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1",
               PYTHONPATH=REPO)
    r = subprocess.run([sys.executable, "-m", "hdrkeras.bench.gpu_check",
                        f"--out={tmp_path / 'report'}"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "gpu_check: TensorFlow sees no GPU on this machine; nothing to check."
    assert not (tmp_path / "report").exists()


def test_plumbing_on_cpu_writes_a_report(tmp_path):
    lines = []
    report = gpu_check.check(str(tmp_path), ["classical_merge"], size=(40, 56),
                             check_size=(24, 32), repeats=1, device="cpu", log=lines.append)
    entry = report["methods"]["classical_merge"]
    assert entry["tf_only_process"] and entry["finite"] and entry["match"], entry
    assert entry["mean_abs_mu"] == 0.0  # on the CPU one run stands for both sides
    assert not entry["saved_model_on_gpu"]
    assert set(entry["seconds"]) == {"float32", "float32+xla", "mixed", "mixed+xla"}
    assert all(isinstance(v, float) and v > 0 for v in entry["seconds"].values()), entry
    assert report["ok"] and report["device"] == "cpu"
    on_disk = json.loads((tmp_path / "gpu_check.json").read_text())
    assert on_disk["methods"]["classical_merge"]["match"]
    md = (tmp_path / "gpu_check.md").read_text()
    assert "| classical_merge |" in md and "ok" in md and "40x56" in md
    # The temporary export folders are gone; only the report remains.
    assert {p.name for p in tmp_path.iterdir()} == {"gpu_check.json", "gpu_check.md"}


def test_image_methods_and_inputs():
    names = gpu_check.image_methods()
    assert {"esbn", "sctnet", "ahdrnet", "fshdr", "hdr_transformer", "selfhdr",
            "classical_merge", "reference_only"} <= set(names)
    ldr, exposures = gpu_check._inputs(3, 10, 12)
    assert ldr.shape == (1, 3, 10, 12, 3) and exposures.tolist() == [[1.0, 4.0, 16.0]]
    assert 0.0 <= ldr.min() and ldr.max() <= 1.0
    assert np.mean(ldr[0, 2] >= 1.0) > np.mean(ldr[0, 0] >= 1.0)  # the long frame clips more
