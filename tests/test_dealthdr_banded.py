"""DeAltHDR's pieces run in row bands (hdrkeras.models.dealthdr_banded) equal the
whole-frame sub-models: encoder, SpyNet, consistency error, window decoder (its channel
attention and FGMA accumulated over bands), and banded streaming equals per-window
inference (level-1 features cached or recomputed by rows), and the plan chosen for a frame
size and memory budget. Tiny network with every weight perturbed off its initial value
(zero-initialised layer scales would hide the blocks), bands of a few rows so every level
is cut."""

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.layers.flow_consistency_error import FlowConsistencyError
from hdrkeras.methods.dealthdr import DeAltHDRStreaming
from hdrkeras.methods.streaming import stream
from hdrkeras.models import dealthdr_banded as banded
from hdrkeras.models.dealthdr import DeAltHDRVideo, infer_window, sensitivity_threshold
from video_clip import moving_clip

TINY = {"dim": 8, "Enc_blocks": [1, 2, 1], "Middle_blocks": 1, "Dec_blocks": [1, 1, 2]}
H, W = 96, 64
BAND = 4 * W * 8  # 4 rows a band at every level (2 in SpyNet)
TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(7)
    video = DeAltHDRVideo(TINY)
    for v in video.network.weights:
        v.assign(v + rng.normal(0.0, 0.05, v.shape).astype(np.float32))
    return video.network


def frame(rng, channels):
    return rng.random((1, H, W, channels), dtype=np.float32)


@pytest.mark.parametrize("is_long", [True, False])
def test_encoder_in_bands(net, rng, is_long):
    x = frame(rng, net.frame_channels)
    want = (net.long_encoder if is_long else net.short_encoder)(x)
    got = banded.encode(net, is_long, x, BAND)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL)


def test_flow_and_consistency_error_in_bands(net, rng):
    a, b = frame(rng, 3), frame(rng, 3)
    spynet = net.pair_flow.get_layer("spynet")
    fwd, bwd = spynet([a, b]), spynet([b, a])
    assert float(tf.reduce_max(tf.abs(fwd))) > 0.5  # a flow that moves pixels
    # Flows of tens of pixels (up to ~90 here) through 30 layers of 7x7 convs: float
    # rounding of about 1e-6 of the largest, so an absolute tolerance on their scale (a
    # fixed 1e-4 failed by 1.3e-4 on a -0.12 px component where the largest was 89 px).
    scale = float(tf.reduce_max(tf.abs(fwd)))
    np.testing.assert_allclose(banded.spynet_flow(spynet, a, b, BAND), fwd, rtol=1e-4,
                               atol=5e-6 * scale)
    want = FlowConsistencyError()([a, fwd, bwd])
    np.testing.assert_allclose(banded.consistency_error(a, fwd, bwd, BAND), want, **TOL)


def test_decoder_with_fgma_in_bands(net, rng):
    """Channel attention and FGMA accumulated over bands; masks with rows all 0 and all 1
    (where a band skips the attention or the warp) and mixed rows."""
    levels = [(H >> i, W >> i, 8 << i) for i in range(3)]
    centre = [rng.normal(size=(1, h, w, c)).astype(np.float32) for h, w, c in levels]
    nbs = [[rng.normal(size=(1, h, w, c)).astype(np.float32) for h, w, c in levels]
           for _ in range(4)]
    flows = [rng.normal(0.0, 3.0, (1, H, W, 2)).astype(np.float32) for _ in range(4)]
    errors = rng.random((4, H, W, 1)).astype(np.float32) * 0.06
    errors[:, :32] = 0.0  # the top two bands of level 3: no attention
    errors[1:3, 32:64] = 1.0  # all attention
    errors[3] = 0.0  # a neighbour with no attention at all
    s = 15.0
    want = net.window_decoder(centre + [np.concatenate([nb[lv] for nb in nbs])[None]
                                        for lv in range(3)]
                              + [np.stack([f[0] for f in flows])[None], errors[None],
                                 np.array([s], np.float32)])
    masks = list(errors[:, None] > np.float32(sensitivity_threshold(np.float32(s))))
    assert 0 < np.mean(masks[0]) < 1
    got = banded.decode(net, centre, nbs, flows, masks, BAND)
    np.testing.assert_allclose(got, want, **TOL)


def test_level1_rows_recomputed_equal_the_encoder(net, rng):
    """Rows of the level-1 features recomputed from the frame (halo at the frame's edges
    and inside) equal the whole-frame encoder's."""
    x = frame(rng, net.frame_channels)
    want = np.asarray(net.short_encoder(x)[0])
    got = banded.encode(net, False, x, BAND, keep_level1=False)
    assert isinstance(got[0], banded.Level1Rows) and got[0].shape == want.shape
    np.testing.assert_allclose(got[1], net.short_encoder(x)[1], **TOL)
    for a, b in ((0, 3), (37, 61), (90, 96), (0, 96)):
        np.testing.assert_allclose(got[0][:, a:b], want[:, a:b], **TOL)


@pytest.mark.parametrize("s,plan,centres", [(0.0, "banded", (0, 2)), (15.0, "banded", (0, 2)),
                                            (15.0, "recompute", (2,))])
def test_banded_streaming_equals_per_window(net, s, plan, centres):
    """Edge and full windows (the recompute plan: the full one, for time)."""
    seq = moving_clip(5, 70, 45, levels=(1.0, 8.0))  # padded to 96 x 64
    model = DeAltHDRStreaming(net, s, band_floats=4 * BAND, plan=plan)
    assert model.plan(70, 45) == plan
    outs = dict(stream(model, seq, centres))
    for c in centres:
        idx = seq.window(c, 5)
        ldr = np.stack([seq.ldr(i) for i in idx])[None]
        t = np.array([[seq.exposures[i] for i in idx]], np.float32)
        np.testing.assert_allclose(outs[c], infer_window(net, ldr, t, s)[0], **TOL)


def test_plan_follows_frame_size_and_budget(net):
    """Whole maps while level 1 fits a band; cached level 1 while the banded plan's estimate
    fits the budget, recomputed level 1 past it, tiles (no plan) when nothing fits;
    `--tile auto` keeps whole frames while a plan fits."""
    from hdrkeras import tiling, video_inference
    from hdrkeras.data.video_sequence import VideoSequence
    from hdrkeras.errors import ConfigError
    from hdrkeras.methods.dealthdr import plan_peak_bytes

    model = DeAltHDRStreaming(net)
    assert model.plan(256, 256) == "whole"
    assert plan_peak_bytes("recompute", 1080, 1920) < plan_peak_bytes("banded", 1080, 1920)
    assert "banded plan" in model.memory_plan(1080, 1920, 1000.0)
    assert "recompute plan" in model.memory_plan(1080, 1920, 4.0)
    assert model.max_memory_gb == 4.0 and model.plan(1080, 1920) == "recompute"
    assert model.memory_plan(1080, 1920, 0.5) is None
    assert DeAltHDRStreaming(net, plan="banded").plan(1080, 1920) == "banded"
    with pytest.raises(ConfigError, match="plan must be one of"):
        DeAltHDRStreaming(net, plan="whole")

    frames = [np.zeros((1080, 1920, 3), np.float32)] * 5
    seq = VideoSequence("hd", frames, [1.0, 8.0] * 2 + [1.0])
    tile, why = video_inference.resolve_tile(model, seq, tiling.AUTO, max_memory_gb=4.0)
    assert tile is None and "recompute plan" in why
    tile, why = video_inference.resolve_tile(model, seq, tiling.AUTO, max_memory_gb=0.5)
    assert tile and "tile" in why


def test_level1_with_channel_attention_is_never_recomputed():
    """Channel attention in level 1 is global over pixels: rows cannot be recomputed."""
    from hdrkeras.errors import ConfigError

    net = DeAltHDRVideo(dict(TINY, encoder1_attn_type2="Channel")).network
    model = DeAltHDRStreaming(net, max_memory_gb=0.5)
    assert not model.can_recompute and model.plan(1080, 1920) == "banded"
    with pytest.raises(ConfigError, match="recompute plan needs"):
        DeAltHDRStreaming(net, plan="recompute")
