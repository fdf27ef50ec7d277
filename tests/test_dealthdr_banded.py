"""DeAltHDR's pieces run in row bands (hdrkeras.models.dealthdr_banded) equal the
whole-frame sub-models: encoder, SpyNet, consistency error, window decoder (its channel
attention and FGMA accumulated over bands), and banded streaming equals per-window
inference. Tiny network with every weight perturbed off its initial value (zero-initialised
layer scales would hide the blocks), bands of a few rows so every level is cut."""

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


@pytest.mark.parametrize("s", [0.0, 15.0])
def test_banded_streaming_equals_per_window(net, s):
    seq = moving_clip(5, 70, 45, levels=(1.0, 8.0))  # padded to 96 x 64
    centres = (0, 2)  # an edge window and the full one
    outs = dict(stream(DeAltHDRStreaming(net, s, band_floats=4 * BAND), seq, centres))
    for c in centres:
        idx = seq.window(c, 5)
        ldr = np.stack([seq.ldr(i) for i in idx])[None]
        t = np.array([[seq.exposures[i] for i in idx]], np.float32)
        np.testing.assert_allclose(outs[c], infer_window(net, ldr, t, s)[0], **TOL)
