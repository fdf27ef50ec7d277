"""Video baselines and the streaming protocol: streaming equals per-window exactly, states
are computed once and dropped when no longer needed, the classical merge recovers what the
centre frame clipped, bad inputs fail with one clear line."""

import numpy as np
import pytest
from video_clip import moving_clip

from hdrkeras import methods, metrics
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.predictor import keras_predictor
from hdrkeras.methods import video_baselines
from hdrkeras.methods.streaming import WindowModel, stream


def _window(seq, centre, size):
    idx = seq.window(centre, size)
    return (np.stack([seq.ldr(i) for i in idx]),
            np.asarray([seq.exposures[i] for i in idx], np.float32))


class CountingMerge(video_baselines.ClassicalVideoMerge):
    """Counts state computations and the peak number of live frame states."""

    def __init__(self):
        super().__init__()
        self.frames, self.pair_calls = [], []

    def frame_state(self, i, ldr, exposure):
        self.frames.append(i)
        return super().frame_state(i, ldr, exposure)

    def pair_state(self, i, j, si, sj):
        self.pair_calls.append((i, j))
        return super().pair_state(i, j, si, sj)


@pytest.mark.parametrize("levels,size", [((1.0, 4.0), 3), ((1.0, 4.0, 16.0), 5)])
def test_streaming_equals_per_window_exactly(levels, size):
    seq = moving_clip(7, levels=levels)
    model = CountingMerge()
    assert model.window_size(seq) == size
    out = dict(stream(model, seq))
    assert sorted(out) == list(range(len(seq)))
    for c in range(len(seq)):
        ldr, t = _window(seq, c, size)
        np.testing.assert_array_equal(out[c], model.run_window(ldr, t))


def test_stream_computes_each_frame_and_pair_once_and_keeps_few_states():
    seq = moving_clip(12)
    model = CountingMerge()
    list(stream(model, seq))
    assert len(model.frames) == len(set(model.frames)) == 12
    assert len(model.pair_calls) == len(set(model.pair_calls))
    # Adjacent pairs only (3-frame windows): 11 of them.
    assert sorted(model.pair_calls) == [(i, i + 1) for i in range(11)]


def test_stream_with_a_subset_of_centres_matches():
    seq = moving_clip(8)
    model = video_baselines.ClassicalVideoMerge()
    full = dict(stream(model, seq))
    part = dict(stream(model, seq, centres=[5, 6, 7]))
    for c in part:
        np.testing.assert_array_equal(part[c], full[c])


def test_window_model_wraps_a_keras_window_model():
    seq = moving_clip(5)
    method = methods.get("video_reference_only")
    predictor = keras_predictor(method.build_inference_model({"num_frames": 3}),
                                "video_reference_only", "video_reference_only")
    model = WindowModel(predictor, 3)
    for c, hdr in stream(model, seq):
        want = seq.ldr(c) ** 2.2 / seq.exposures[c]
        np.testing.assert_allclose(hdr, want, rtol=1e-5, atol=1e-7)
        ldr, t = _window(seq, c, 3)
        np.testing.assert_array_equal(hdr, model.run_window(ldr, t))
    # The method's own streaming model (one-frame windows) gives the same frames.
    own = dict(stream(method.streaming_model(), seq))
    for c, hdr in stream(model, seq):
        np.testing.assert_allclose(own[c], hdr, rtol=1e-5, atol=1e-7)


def test_classical_merge_fills_clipped_regions_of_long_frames():
    seq = moving_clip(8, h=48, w=64)
    merged = dict(stream(methods.get("video_classical_merge").streaming_model(), seq))
    reference = dict(stream(methods.get("video_reference_only").streaming_model(), seq))
    for c in range(1, 8, 2):  # long frames: the sky is clipped
        gt = seq.hdr(c)
        clipped = np.min(seq.ldr(c), -1) >= 1.0
        assert clipped.mean() > 0.2
        err_ref = np.abs(reference[c] - gt)[clipped].mean()
        err_merge = np.abs(merged[c] - gt)[clipped].mean()
        assert err_merge < 0.2 * err_ref
        assert metrics.psnr_mu(merged[c], gt)[0] > metrics.psnr_mu(reference[c], gt)[0] + 10
    for c in range(0, 8, 2):  # short frames: well exposed, the merge must not spoil them
        gt = seq.hdr(c)
        assert metrics.psnr_mu(merged[c], gt)[0] > 40


def test_contradicting_neighbours_leave_the_centre_alone():
    # Neighbours too dark for a clipped long frame (radiance >= 1/4 would give short LDR >=
    # 0.53): the photometric test rejects them and the result keeps the centre's 1 / t.
    rng = np.random.default_rng(1)
    centre = np.full((24, 24, 3), 1.0, np.float32)
    dark = [0.3 * rng.random((24, 24, 3)).astype(np.float32) for _ in range(2)]
    model = video_baselines.ClassicalVideoMerge()
    out = model.run_window(np.stack([dark[0], centre, dark[1]]), np.array([1, 4, 1], np.float32))
    np.testing.assert_allclose(out, 0.25, rtol=1e-3)


def test_only_neighbours_that_can_help_fill_the_centre():
    # A clipped short centre: longer neighbours (nearly clipped, radiance only >= 1/4) must
    # not pull it down; a black long centre: shorter neighbours (black too) must not
    # replace it. Where the neighbours can help (short ones for a clipped long centre),
    # they do.
    model = video_baselines.ClassicalVideoMerge()
    flat = lambda v: np.full((24, 24, 3), v, np.float32)  # noqa: E731
    out = model.run_window(np.stack([flat(0.99), flat(1.0), flat(0.99)]),
                           np.array([4, 1, 4], np.float32))
    np.testing.assert_allclose(out, 1.0)
    out = model.run_window(np.stack([flat(0.0), flat(0.0), flat(0.0)]),
                           np.array([1, 4, 1], np.float32))
    np.testing.assert_allclose(out, 0.0)
    out = model.run_window(np.stack([flat(0.8), flat(1.0), flat(0.8)]),
                           np.array([1, 4, 1], np.float32))
    np.testing.assert_allclose(out, 0.8 ** 2.2, rtol=1e-3)


def test_bad_sequences_fail_before_any_work():
    model = CountingMerge()
    short = moving_clip(2)
    with pytest.raises(DataError, match=r"sequence clip: 2 frames, shorter than the 3-frame"):
        list(stream(model, short))
    three = moving_clip(6, levels=(1.0, 4.0, 16.0))
    two_exposure = WindowModel(lambda l, t: l[:, 1], 3, name="lan2e", num_exposures=2)
    with pytest.raises(DataError, match=r"3 exposure levels \(1, 4, 16\) but lan2e is a "
                                        r"2-exposure model"):
        list(stream(two_exposure, three))
    assert model.frames == []
    frames = [np.zeros((16, 16, 3), np.float32)] * 3 + [np.zeros((16, 17, 3), np.float32)]
    odd = VideoSequence("odd", frames, [1, 4, 1, 4])
    with pytest.raises(DataError, match=r"sequence odd: frame 3 is 17x16, frame [01] is 16x16"):
        list(stream(video_baselines.ClassicalVideoMerge(), odd))
    tiny = VideoSequence("tiny", [np.zeros((8, 30, 3), np.float32)] * 3, [1, 4, 1])
    with pytest.raises(DataError, match=r"frames of 30x8 pixels are too small for optical flow"):
        list(stream(video_baselines.ClassicalVideoMerge(), tiny))


def test_window_model_passes_scalar_extra_inputs():
    seen = []

    def fn(ldr, t, sensitivity):
        seen.append(sensitivity)
        return ldr[:, 1] * sensitivity[:, None, None, None]

    model = WindowModel(fn, 3, name="s", extra={"sensitivity": 15.0})
    seq = moving_clip(4)
    out = dict(stream(model, seq))
    np.testing.assert_allclose(out[2], 15.0 * seq.ldr(2))
    assert all(s.shape == (1,) and s.dtype == np.float32 for s in seen)
    tiles = model.batch_fn(np.zeros((2, 3, 4, 4, 3), np.float32), np.ones((2, 3), np.float32))
    assert tiles.shape == (2, 4, 4, 3) and seen[-1].tolist() == [15.0, 15.0]


def test_registration_and_export_refusal():
    assert {"video_classical_merge", "video_reference_only"} <= set(methods.names())
    with pytest.raises(ConfigError, match="no Keras model to export"):
        methods.get("video_classical_merge").build_inference_model()
    with pytest.raises(ConfigError, match="odd"):
        WindowModel(lambda l, t: l[:, 0], 4)
