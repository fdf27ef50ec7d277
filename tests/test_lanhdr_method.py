"""The `lanhdr` method: options, window inference model, streaming, export, official
checkpoint import, training steps."""

import numpy as np
import pytest

from conftest import load_fixture, run_saved_model_tf_only

from hdrkeras import methods
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import ConfigError
from hdrkeras.methods.streaming import stream

TINY = {"ch": 8, "tdim": 4}


def _sequence(n, nexps, h=21, w=30, seed=0):
    rng = np.random.default_rng(seed)
    pattern = (1.0, 4.0) if nexps == 2 else (1.0, 4.0, 16.0)
    frames = [rng.random((h, w, 3), dtype=np.float32) for _ in range(n)]
    return VideoSequence("s", frames, [pattern[i % nexps] for i in range(n)])


def _window(seq, idx):
    return (np.stack([seq.ldr(i) for i in idx])[None],
            np.asarray([[seq.exposures[i] for i in idx]], np.float32))


def test_options_and_window_sizes():
    m = methods.get("lanhdr")
    assert m.kind == "video"
    assert m.parse_options({"exposures": 3}).nframes == 7
    assert m.parse_options({}).nframes == 5
    with pytest.raises(ConfigError, match="--exposures must be 2 or 3"):
        m.parse_options({"exposures": 4})
    with pytest.raises(ConfigError, match="--backbone is not an option"):
        m.parse_options({"backbone": "x"})
    model = m.build_inference_model({"exposures": 3, **TINY})
    assert model.name == "lanhdr"
    assert model.input["ldr"].shape[1] == 7
    with pytest.raises(ConfigError, match="num_frames must be 5"):
        m.build_inference_model({"num_frames": 3})


@pytest.fixture(scope="module")
def tiny_2e():
    return methods.get("lanhdr").build_inference_model({"exposures": 2, **TINY})


def test_streaming_equals_per_window_and_encodes_each_frame_once(tiny_2e):
    """stream() (frame features cached, merge head accumulated per position) gives the
    window model's output for every centre, edges included; each frame is encoded once."""
    sm = methods.get("lanhdr").streaming_model(model=tiny_2e)
    seq = _sequence(7, 2)
    encoded = []
    original = sm._encode
    sm._encode = lambda ldr, t: (encoded.append(1), original(ldr, t))[1]
    outs = dict(stream(sm, seq))
    assert len(encoded) == len(seq)
    for c in (0, 3, 6):
        ldr, t = _window(seq, seq.window(c, 5))
        ref = tiny_2e({"ldr": ldr, "exposures": t}).numpy()[0]
        np.testing.assert_allclose(outs[c], ref, atol=2e-6)
    assert np.ptp(outs[3]) > 0


@pytest.mark.parametrize("plan", ["banded", "recompute"])
def test_banded_plans_equal_the_window_model(tiny_2e, plan):
    """The memory-bounded plans (64-channel full-resolution stages in row bands and
    spectrum columns; "recompute" also re-encodes each frame's hallucination pyramid per
    position) give the window model's output, and a stream equals run_window exactly."""
    from hdrkeras.methods.lanhdr import LanHdrStreaming, _window_net

    sm = LanHdrStreaming(_window_net(tiny_2e), plan=plan, chunk_pixels=64)  # 2-row bands
    seq = _sequence(7, 2)
    outs = dict(stream(sm, seq, centres=[1, 3]))
    for c in (1, 3):
        ldr, t = _window(seq, seq.window(c, 5))
        np.testing.assert_allclose(outs[c], tiny_2e({"ldr": ldr, "exposures": t}).numpy()[0],
                                   atol=1e-5)
        np.testing.assert_array_equal(outs[c], sm.run_window(ldr[0], t[0]))
    states = {}
    original = sm.frame_state
    sm.frame_state = lambda i, ldr, t: states.setdefault(i, original(i, ldr, t))
    sm.run_window(ldr[0], t[0])
    kept = [f is not None for f in states[0]["feats"]]
    assert kept == [plan == "banded"] * 4 + [True] * 5


def test_plan_follows_frame_size_and_budget(tiny_2e):
    from hdrkeras.errors import ConfigError
    from hdrkeras.methods.lanhdr import PLANS, LanHdrStreaming, _window_net, choose_plan

    assert choose_plan(256, 256, 5, 4.0) == "whole"
    assert choose_plan(1080, 1920, 5, 4.0) != "whole"
    assert choose_plan(1080, 1920, 7, 0.5) == PLANS[-1]  # nothing fits: the leanest
    plans = [choose_plan(s, s, 7, 4.0) for s in (256, 512, 1024, 2048, 4096)]
    assert plans == sorted(plans, key=PLANS.index)  # leaner as frames grow
    sm = LanHdrStreaming(_window_net(tiny_2e), max_memory_gb=1000.0)
    assert sm.plan(4320, 7680) == "whole"
    with pytest.raises(ConfigError, match="plan must be one of"):
        LanHdrStreaming(_window_net(tiny_2e), plan="tiled")


def test_video_tool_keeps_whole_frames_while_a_plan_fits(tiny_2e):
    """--tile auto: the model's own exact plan when one fits the budget, tiles otherwise."""
    from hdrkeras import tiling, video_inference
    from hdrkeras.methods.lanhdr import LanHdrStreaming, _window_net

    sm = LanHdrStreaming(_window_net(tiny_2e))
    frames = [np.zeros((1080, 1920, 3), np.float32)] * 5
    seq = VideoSequence("hd", frames, [1.0, 4.0] * 2 + [1.0])
    tile, why = video_inference.resolve_tile(sm, seq, tiling.AUTO, max_memory_gb=4.0)
    assert tile is None and "recompute plan" in why and sm.max_memory_gb == 4.0
    tile, why = video_inference.resolve_tile(sm, seq, tiling.AUTO, max_memory_gb=0.5)
    assert tile and "tile" in why  # no plan fits half a gigabyte at 1080p


def test_video_tool_streams_a_saved_lanhdr_model(tiny_2e, tmp_path):
    """reconstruct/video.py --model lanhdr.keras uses LAN-HDR's streaming model; the file
    loads in a fresh process."""
    from hdrkeras import video_inference
    from hdrkeras.methods.lanhdr import LanHdrStreaming
    from hdrkeras.saving import save_keras

    path = save_keras(tiny_2e, str(tmp_path / "lanhdr.keras"))
    sm = video_inference.streaming_model(model=path)
    assert isinstance(sm, LanHdrStreaming) and sm.num_frames == 5 and sm.num_exposures == 2
    # A fresh process that imports only hdrkeras.saving finds every LAN-HDR class.
    import os
    import subprocess
    import sys

    code = (f"from hdrkeras.saving import load_keras; m = load_keras({path!r}); "
            "print(m.name)")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("lanhdr"), proc.stderr[-2000:]


def test_streaming_rejects_a_three_exposure_sequence(tiny_2e):
    from hdrkeras.errors import DataError

    sm = methods.get("lanhdr").streaming_model(model=tiny_2e)
    with pytest.raises(DataError, match="2-exposure model"):
        next(stream(sm, _sequence(7, 3)))


def test_export_round_trip_in_a_tf_only_process(tiny_2e, tmp_path):
    """The video signature exported and run by TensorFlow alone at an odd size."""
    from hdrkeras.export import export_saved_model

    path = export_saved_model("lanhdr", tiny_2e, str(tmp_path / "export"))
    seq = _sequence(5, 2, h=19, w=27, seed=3)
    ldr, t = _window(seq, range(5))
    out = run_saved_model_tf_only(path, ldr, t, tmp_path)
    assert out["hdr"].shape == (1, 19, 27, 3)
    np.testing.assert_allclose(out["hdr"], tiny_2e({"ldr": ldr, "exposures": t}).numpy(),
                               atol=1e-5)


def test_official_checkpoint_through_the_converter_command(tmp_path):
    """An official 3E state dict (DataParallel names, saved as .npz) converts through
    `python -m hdrkeras.convert --method lanhdr` to a video model whose output is the
    official network's (RGB kept: the official code reads RGB); 2E vs 3E from the weights."""
    import keras

    from hdrkeras import convert
    from hdrkeras.convert.__main__ import convert_method
    from hdrkeras.convert.torch_checkpoint import _unwrap
    from hdrkeras.layers.lanhdr_inputs import LanHdrInputs

    meta, weights, _ = load_fixture("lanhdr_3e")
    path = tmp_path / "ckpt.npz"
    np.savez(path, **{f"module.{k}": v for k, v in weights.items()})
    out = str(tmp_path / "lanhdr.keras")
    assert convert_method("lanhdr", [str(path)], out) == [out]
    loaded = keras.models.load_model(out)
    assert loaded.name == "lanhdr" and loaded.input["ldr"].shape[1] == 7
    net = convert.load_reference("lanhdr_3e", weights, meta["config"])
    seq = _sequence(7, 3, h=16, w=24, seed=5)
    ldr, t = _window(seq, range(7))
    np.testing.assert_allclose(loaded({"ldr": ldr, "exposures": t}).numpy(),
                               net(LanHdrInputs()(ldr, t))["output"].numpy(), atol=1e-6)
    # The official trainer's file: {"g": generator, "optim_g": ..., "iter", "epoch"}.
    sd = {"a.weight": np.zeros(2)}
    assert _unwrap({"g": sd, "optim_g": {"state": {}}, "iter": 3, "epoch": 1}, "x") is sd
    with pytest.raises(ConfigError, match="not a LAN-HDR checkpoint"):
        convert.load_reference("lanhdr", {"x": np.zeros(1)})


def test_missing_vgg_weights_is_a_clear_error(tmp_path):
    from hdrkeras.errors import MissingWeightsError

    m = methods.get("lanhdr")
    missing = str(tmp_path / "no_vgg19.h5")
    with pytest.raises(MissingWeightsError, match="no_vgg19.h5"):
        m.loss({"vgg_weights": missing})
    assert m.loss({"vgg_weights": missing, "perceptual_weight": 0}).vgg.features is None


def _moving_clips(nexps, n=2, size=40):
    """Linear HDR video: a procedural radiance panned by 2 px per frame, as ground truth."""
    from hdrkeras.data.procedural import procedural_radiance

    rng = np.random.default_rng(nexps)
    seqs = []
    for k in range(n):
        rad = procedural_radiance(rng, size, size + 14)[0]
        gts = [rad[:, 2 * i:2 * i + size] for i in range(7)]
        ldr = [np.clip(g / g.max(), 0, 1) ** (1 / 2.2) for g in gts]
        seqs.append(VideoSequence(f"c{k}", ldr, [1.0] * 7, gts))
    return seqs


def _fixed_batch_steps(nexps, learning_rate, steps, **net_kwargs):
    """`steps` eager AdamW steps (the method's optimiser settings) of a fresh LAN-HDR task
    on one fixed recipe batch (32x32 crops) from synthetic linear video: (batch, [(loss,
    logs)] per step). Eager: tracing the whole network's gradient costs more than a dozen
    steps."""
    import keras
    import tensorflow as tf

    from hdrkeras.training.optimizers import build_optimizer

    keras.utils.set_random_seed(1)
    m = methods.get("lanhdr")
    opts = {"exposures": nexps, "perceptual_weight": 0}
    task = m._task(opts, None, **net_kwargs)
    ds = m.pairs_dataset(m.sequence_sources(_moving_clips(nexps), seed=1), opts,
                         batch_size=1, crop=32, seed=1)
    batch = next(iter(ds))
    opt = build_optimizer(m.optimizer_settings, learning_rate)
    variables = task.trainable_variables()
    history = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss, logs, _ = task.loss(batch)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        history.append((float(loss), logs))
    return batch, history


@pytest.mark.parametrize("nexps", [2, 3])
def test_a_few_training_steps_lower_the_loss(nexps):
    """AdamW (lr raised for a short run of the tiny network) on recipe pairs from
    synthetic linear video lowers the loss on a fixed batch. The network starts as the
    official one (torch's default init: a near-constant output), so the loss moves after a
    few steps; the last three steps' best is compared (single steps at 1e-3 jitter)."""
    m = methods.get("lanhdr")
    assert m.optimizer_settings.kind == "adamw" and m.optimizer_settings.weight_decay == 0.01
    batch, history = _fixed_batch_steps(nexps, 1e-3, 12, **TINY)
    t = m.parse_options({"exposures": nexps}).nframes
    assert batch["ldr"].shape == (1, 2, t, 32, 32, 3)
    first, logs = history[0]
    assert set(logs) == {"l1", "vgg", "frequency", "temporal"}
    assert float(logs["temporal"]) > 0
    assert min(h[0] for h in history[-3:]) < 0.9 * first, [h[0] for h in history]


def test_train_and_val_datasets_from_a_synthetic_video_root(tmp_path):
    """The runner's hooks read our synthetic HDR video: training pairs (linear ground truth
    as the recipe's source) and whole-frame validation windows with the centre's GT."""
    from hdrkeras.data.synthesize_video import synthesize_video_dataset
    from hdrkeras.training import RunConfig

    root = str(tmp_path / "video")
    synthesize_video_dataset(root, num_clips=1, num_frames=7, height=40, width=48,
                             num_exposures=2, seed=3)
    m = methods.get("lanhdr")
    config = RunConfig(run_dir=str(tmp_path / "run"), train_records=root, val_source=root,
                       method_options={"exposures": 2, "perceptual_weight": 0})
    batch = next(iter(m.train_dataset("train", config, {"batch_size": 2, "patch_size": 32},
                                      {})))
    assert batch["ldr"].shape == (2, 2, 5, 32, 32, 3)
    assert batch["hdr"].shape == (2, 2, 32, 32, 3)
    t = batch["exposures"].numpy()
    assert set(np.unique(t)) <= {1.0, 4.0, 8.0} and np.all(t[..., 1:] != t[..., :-1])
    val = list(m.val_dataset(config))
    assert val and val[0]["ldr"].shape == (1, 5, 40, 48, 3)
    assert val[0]["hdr"].shape == (1, 40, 48, 3)


def test_bench_streaming_times_one_output_frame_per_run(monkeypatch):
    """bench --streaming: each timed run yields the next output frame of one stream, whose
    frames alternate the method's exposures; the official model table knows both LAN-HDR
    windows."""
    from hdrkeras.bench import inference as bench
    from hdrkeras.bench.official import OFFICIAL_MODELS
    from hdrkeras.methods import lanhdr

    build = lanhdr.build_network
    monkeypatch.setattr(lanhdr, "build_network", lambda nexps, **kw: build(nexps, **TINY))
    seen = []
    original = lanhdr.LanHdrStreaming.window_output
    monkeypatch.setattr(lanhdr.LanHdrStreaming, "window_output",
                        lambda self, idx, st, ps: (seen.append([st[i]["t"] for i in idx]),
                                                   original(self, idx, st, ps))[1])
    r = bench.measure(bench.BenchSpec(method="lanhdr", exposures=3, streaming=True,
                                      height=12, width=16, runs=2, warmup=1))
    assert r["streaming"] and r["frames"] == 7 and r["median_ms"] > 0
    assert len(seen) == 3 and seen[0] == [1, 4, 16, 1, 4, 16, 1]
    assert OFFICIAL_MODELS["lanhdr_2e"].params == 7_315_140
    assert OFFICIAL_MODELS["lanhdr_3e"].args["nframes"] == 7
