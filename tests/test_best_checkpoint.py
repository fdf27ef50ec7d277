"""Best-checkpoint selection: within a stage the best validation's weights are kept; across
stages a worse later stage does not replace the run's model.keras. Validation scores are
scripted (the real validator is covered in test_training.py) so the choice is known."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from hdrkeras import methods
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
                     val_source=str(records / "test"), steps=2, batch_size=1, patch_size=32,
                     checkpoint_every=1, log_every=1, preview_every=0, validate_every=1,
                     max_val_scenes=1, deterministic=True, seed=2)


def _net_weights(name, prefix):
    from hdrkeras.models import esbn as esbn_models

    build = esbn_models.build_fusion_net if name == "fusion" else esbn_models.build_align_net
    net = build(name=name)
    tf.train.Checkpoint(**{name: net}).read(prefix).expect_partial()
    return [v.numpy() for v in net.weights]


def test_best_step_kept_and_worse_later_stage_does_not_replace_model(tmp_path, records,
                                                                     monkeypatch):
    loss, psnr = (lambda v: {"val_loss": v}), (lambda v: {"val_psnr_mu": v})
    queue = _script(monkeypatch, [loss(2.0), loss(1.0),      # align_low: step 2 best
                                  loss(1.0), loss(3.0),      # align_high: step 1 best
                                  psnr(20.0), psnr(25.0),    # fusion: step 2 best
                                  psnr(22.0), psnr(18.0)])   # joint: step 1, below fusion
    lines = []
    config = _config(tmp_path, records)
    run(methods.get("esbn"), "all", config, log=lines.append)
    assert not queue
    run_dir = tmp_path / "run"
    kept = {s: json.loads((run_dir / s / "done.json").read_text())["kept_step"]
            for s in ("align_low", "align_high", "fusion", "joint")}
    assert kept == {"align_low": 2, "align_high": 1, "fusion": 2, "joint": 1}
    assert any("[align_high] keeping step 1" in l for l in lines), lines

    # The next stage starts from the kept (step 1) alignment net, not the last step.
    step1 = _net_weights("align_high", str(run_dir / "align_high" / "ckpt" / "ckpt-1"))
    step2 = _net_weights("align_high", str(run_dir / "align_high" / "ckpt" / "ckpt-2"))
    assert any(not np.array_equal(a, b) for a, b in zip(step1, step2))
    in_fusion = _net_weights("align_high", tf.train.latest_checkpoint(str(run_dir / "fusion" / "ckpt")))
    for a, b in zip(step1, in_fusion):
        np.testing.assert_array_equal(a, b)
    assert best.kept_weights(str(run_dir / "align_high")).endswith("best/weights")

    # The joint stage scored 22 < 25: the run's model stays the fusion stage's.
    record = json.loads((run_dir / "model.json").read_text())
    assert record["stage"] == "fusion" and record["step"] == 2 and record["value"] == 25.0
    assert any("worse than stage 'fusion'" in l for l in lines), lines
    ours = keras.models.load_model(str(run_dir / "model.keras"))
    fusion = keras.models.load_model(str(run_dir / "fusion" / "model.keras"))
    joint = keras.models.load_model(str(run_dir / "joint" / "model.keras"))
    for a, b in zip(ours.weights, fusion.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(ours.weights, joint.weights))
    # The fusion model is its step-2 (best) weights, which are also its last.
    fused = _net_weights("fusion", str(run_dir / "fusion" / "best" / "weights"))
    np.testing.assert_array_equal(fused[0], fusion.get_layer("fusion").weights[0].numpy())

    # A rerun trains and validates nothing, and keeps the same choices.
    lines.clear()
    run(methods.get("esbn"), "all", config, log=lines.append)
    assert sum("already finished" in l for l in lines) == 4
    assert json.loads((run_dir / "model.json").read_text())["stage"] == "fusion"
    assert any("[joint] keeping step 1" in l for l in lines), lines


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
