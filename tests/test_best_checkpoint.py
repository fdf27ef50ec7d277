"""Best-checkpoint selection: within a stage the best validation's weights are kept; across
stages a worse later stage does not replace the run's model.keras. A two-stage toy method
keeps it fast (ESBN's four stages through the same runner: test_training.py); validation
scores are scripted so the choice is known."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.layers.frame_inputs import FrameInputs
from hdrkeras.methods.base import Method, Stage, TrainTask
from hdrkeras.training import RunConfig, best, run, runner


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from hdrkeras.data import kalantari, records as rec, synthesize

    root = tmp_path_factory.mktemp("best_data")
    data = root / "synthetic"
    synthesize.synthesize_dataset(str(data), num_train=2, num_test=1, height=48, width=64,
                                  seed=4)
    rec.write_records(kalantari.list_scenes(str(data), "train"), str(root / "train"),
                      split="train", mode="scenes")
    rec.write_records(kalantari.list_scenes(str(data), "test"), str(root / "test"),
                      split="test", mode="scenes")
    return root


def _script(monkeypatch, scores):
    """Replaces the validator by one returning `scores` in order (one per validation)."""
    queue = list(scores)

    def fake_validate(task, val_dataset, max_scenes):
        return dict(queue.pop(0))

    monkeypatch.setattr(runner, "_validate", fake_validate)
    return queue


def _config(tmp_path, records):
    return RunConfig(run_dir=str(tmp_path / "run"), train_records=str(records / "train"),
                     val_source=str(records / "test"), steps=2, batch_size=1, patch_size=16,
                     checkpoint_every=1, log_every=1, preview_every=0, validate_every=1,
                     max_val_scenes=1, deterministic=True, seed=2, method_options={})


class _Task(TrainTask):
    """Stage `name` trains a 3x3 conv on the 18 frame channels; a later stage adds its own
    conv to the frozen earlier one (like ESBN's fusion behind its alignment nets)."""

    def __init__(self, name, previous):
        self.networks = {k: v for t in (previous or {}).values() for k, v in t.networks.items()}
        self.networks[name] = keras.Sequential(
            [keras.Input((None, None, 18)), keras.layers.Conv2D(3, 3, padding="same", name="conv")],
            name=name)
        self.trainable = (name,)
        self.frames = FrameInputs("hdr_ldr")

    def _pred(self, ldr, exposures):
        x = keras.layers.Concatenate()(self.frames(ldr, exposures))
        return keras.layers.Add()([net(x) for net in self.networks.values()]) \
            if len(self.networks) > 1 else next(iter(self.networks.values()))(x)

    def loss(self, batch, training=True):
        pred = self._pred(batch["ldr"], batch["exposures"])
        return tf.reduce_mean(tf.abs(pred - batch["hdr"])), {}, {}

    def inference_model(self):
        ldr = keras.Input((3, None, None, 3), name="ldr")
        exposures = keras.Input((3,), name="exposures")
        return keras.Model({"ldr": ldr, "exposures": exposures}, self._pred(ldr, exposures))


class _TwoStages(Method):
    name = "two_stages_for_tests"
    stages = (Stage("a", lambda options, previous: _Task("a", previous), 2, 1, 16, 1e-2),
              Stage("b", lambda options, previous: _Task("b", previous), 2, 1, 16, 1e-2))


def _conv(prefix, name):
    net = keras.Sequential([keras.Input((None, None, 18)),
                            keras.layers.Conv2D(3, 3, padding="same", name="conv")], name=name)
    tf.train.Checkpoint(**{name: net}).read(prefix).expect_partial()
    return [v.numpy() for v in net.weights]


def test_best_step_kept_and_worse_later_stage_does_not_replace_model(tmp_path, records,
                                                                     monkeypatch):
    psnr = lambda v: {"val_psnr_mu": v}
    queue = _script(monkeypatch, [psnr(20.0), psnr(19.0),    # a: step 1 best
                                  psnr(18.0), psnr(17.0)])   # b: step 1, below a
    lines = []
    config = _config(tmp_path, records)
    method = _TwoStages()
    run(method, "all", config, log=lines.append)
    assert not queue
    run_dir = tmp_path / "run"
    done = {s: json.loads((run_dir / s / "done.json").read_text()) for s in ("a", "b")}
    assert done["a"]["kept_step"] == 1 and done["a"]["steps"] == 2
    assert done["a"]["kept"]["value"] == 20.0 and done["b"]["kept_step"] == 1
    assert any("[a] keeping step 1 (val_psnr_mu 20.0000), the best validation, over the "
               "last step 2" in l for l in lines), lines

    # Stage a's model and stage b's starting point are the step-1 weights, not step 2's.
    step1 = _conv(str(run_dir / "a" / "ckpt" / "ckpt-1"), "a")
    step2 = _conv(str(run_dir / "a" / "ckpt" / "ckpt-2"), "a")
    assert any(not np.array_equal(x, y) for x, y in zip(step1, step2))
    in_b = _conv(tf.train.latest_checkpoint(str(run_dir / "b" / "ckpt")), "a")
    model_a = keras.models.load_model(str(run_dir / "a" / "model.keras"))
    for x, y, z in zip(step1, in_b, model_a.get_layer("a").get_weights()):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    assert best.kept_weights(str(run_dir / "a")).endswith(os.path.join("best", "weights"))

    # Stage b scored 18 < 20: the run's model stays stage a's, and the log says so.
    record = json.loads((run_dir / "model.json").read_text())
    assert (record["stage"], record["step"], record["value"]) == ("a", 1, 20.0)
    assert any("worse than stage 'a'" in l for l in lines), lines
    ours = keras.models.load_model(str(run_dir / "model.keras"))
    assert [l.name for l in ours.layers] == [l.name for l in model_a.layers]
    for x, y in zip(ours.get_weights(), model_a.get_weights()):
        np.testing.assert_array_equal(x, y)
    assert (run_dir / "b" / "model.keras").is_file()

    # A rerun trains and validates nothing and keeps the same choices.
    lines.clear()
    run(method, "all", config, log=lines.append)
    assert sum("already finished" in l for l in lines) == 2
    assert json.loads((run_dir / "model.json").read_text())["stage"] == "a"
    assert any("[b] keeping step 1" in l for l in lines), lines


def test_better_later_stage_replaces_model(tmp_path, records, monkeypatch):
    _script(monkeypatch, [{"val_psnr_mu": 10.0}, {"val_psnr_mu": 11.0},
                          {"val_psnr_mu": 12.0}, {"val_psnr_mu": 13.0}])
    lines = []
    run(_TwoStages(), "all", _config(tmp_path, records), log=lines.append)
    record = json.loads((tmp_path / "run" / "model.json").read_text())
    assert (record["stage"], record["step"], record["value"]) == ("b", 2, 13.0)
    assert any("[b] keeping the last step 2" in l for l in lines), lines
    ours = keras.models.load_model(str(tmp_path / "run" / "model.keras"))
    assert "b" in [l.name for l in ours.layers]


def test_stage_best_persists_and_compares(tmp_path):
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d")], name="net")
    tracker = best.StageBest(str(tmp_path), "s", {"net": net})
    assert tracker.update(1, {"val_psnr_mu": 10.0}, log=lambda m: None)
    saved = [v.numpy().copy() for v in net.weights]
    net.weights[0].assign(net.weights[0] + 1.0)
    assert not tracker.update(2, {"val_psnr_mu": 9.0}, log=lambda m: None)
    assert not tracker.update(3, {}, log=lambda m: None)  # nothing to compare
    # A resumed stage (a new tracker on the same folder) knows the best so far.
    resumed = best.StageBest(str(tmp_path), "s", {"net": net})
    assert resumed.record["step"] == 1 and resumed.record["value"] == 10.0
    assert resumed.restore(3, log=lambda m: None)["step"] == 1
    for a, b in zip(saved, net.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert resumed.update(4, {"val_psnr_mu": 11.0}, log=lambda m: None)
    assert best.StageBest(str(tmp_path), "s", {"net": net}).record["step"] == 4
    # Loss: lower is better; different metrics are never compared.
    a = {"metric": "val_loss", "value": 1.0, "sign": -1}
    assert best.better(a, dict(a, value=2.0)) and not best.better(dict(a, value=2.0), a)
    assert not best.better(a, {"metric": "val_psnr_mu", "value": 5.0, "sign": 1})
