"""Multi-device training really synchronises: replicas stay identical, two replicas equal one
device with the global batch, and a two-worker cluster on 127.0.0.1 trains in lock step
with only the chief writing the run folder and resuming from its checkpoints.

Each case runs in a fresh process: logical devices and TF_CONFIG must be set before
TensorFlow starts. AHDRNet (no batch norm) is used so that one device with the global batch
and two replicas with half each compute the same gradient.
"""

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))

# Writes a tiny scene-record dataset and returns a RunConfig factory (used by both scripts).
_PRELUDE = r'''
import json, os, sys
import numpy as np

def records(root):
    from hdrkeras.data import kalantari, records as rec, synthesize
    if not os.path.isdir(os.path.join(root, "train")):
        synthesize.synthesize_dataset(os.path.join(root, "synthetic"), num_train=2, num_test=0,
                                      height=48, width=48, seed=5)
        rec.write_records(kalantari.list_scenes(os.path.join(root, "synthetic"), "train"),
                          os.path.join(root, "train"), split="train", mode="scenes")
    return os.path.join(root, "train")

def config(run_dir, train, **kw):
    from hdrkeras.training import RunConfig
    base = dict(run_dir=run_dir, train_records=train, val_source=None, steps=3, batch_size=4,
                patch_size=32, checkpoint_every=1, log_every=1, preview_every=0,
                deterministic=True, seed=7)
    base.update(kw)
    return RunConfig(**base)
'''

_MIRRORED = _PRELUDE + r'''
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
from hdrkeras import methods
from hdrkeras.training import run
work = sys.argv[1]
train = records(work)
out = {}
for strategy in ("mirrored", "default"):
    task = run(methods.get("ahdrnet"), "train",
               config(os.path.join(work, strategy), train, strategy=strategy), log=lambda s: None)
    weights = task.networks["backbone"].trainable_weights
    if strategy == "mirrored":
        values = [[np.asarray(r) for r in getattr(v, "_value", v).values] for v in weights]
        out["replicas"] = len(values[0])
        out["replica_max_diff"] = max(float(np.abs(r[0] - r[1]).max()) for r in values)
        out["mirrored"] = [r[0] for r in values]
    else:
        out["default"] = [np.asarray(v.numpy()) for v in weights]
out["max_diff_vs_one_device"] = max(float(np.abs(a - b).max())
                                    for a, b in zip(out.pop("mirrored"), out.pop("default")))
print("RESULT " + json.dumps(out))
'''

_WORKER = _PRELUDE + r'''
from hdrkeras import methods
from hdrkeras.training import run
work, run_dir, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
run(methods.get("ahdrnet"), "train",
    config(run_dir, os.path.join(work, "train"), strategy="multi_worker", steps=steps),
    log=lambda s: print(s, flush=True))
'''


def _python(script, *args, env=ENV, timeout=600):
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_replicas_stay_identical_and_equal_one_device(tmp_path):
    proc = _python(_MIRRORED, tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    result = json.loads(out.split("RESULT ", 1)[1])
    assert result["replicas"] == 2
    assert result["replica_max_diff"] == 0.0
    # Same gradient, summed in another order: float32 rounding only.
    assert result["max_diff_vs_one_device"] < 1e-5


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _cluster(tmp_path, run_dir, steps):
    ports = _free_ports(2)
    workers = [f"127.0.0.1:{p}" for p in ports]
    procs = []
    for i in range(2):
        env = dict(ENV, TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}))
        procs.append(_python(_WORKER, tmp_path, run_dir, steps, env=env))
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        outs.append(out)
        assert p.returncode == 0, out[-3000:]
    return outs


def _digests(outs, steps):
    found = []
    for out in outs:
        m = re.search(rf"worker (\d) finished at step {steps}: weights digest (\w+)", out)
        assert m, out[-2000:]
        found.append(m.group(2))
    return found


def test_multi_worker_cluster_syncs_chief_writes_and_resumes(tmp_path):
    # One process writes the records first so the two workers only read them.
    prep = _python(_PRELUDE + "records(sys.argv[1])", tmp_path)
    assert prep.wait(timeout=300) == 0
    run_dir = tmp_path / "run"
    outs = _cluster(tmp_path, run_dir, steps=2)
    first, second = _digests(outs, 2)
    assert first == second, "the two workers ended with different weights"
    written = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*"))
    assert "model.keras" in written and "train/done.json" in written
    assert not [p for p in written if "worker" in p], written
    # Rerunning the command restores both workers from the chief's last checkpoint (the
    # stage is finished, so nothing more is trained) and they agree again.
    outs = _cluster(tmp_path, run_dir, steps=2)
    assert all("resuming from" in o and "at step 2" in o and "already finished" in o
               for o in outs), outs[1][-2000:]
    assert _digests(outs, 2) == [first, first]
