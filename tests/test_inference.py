"""hdrkeras.inference: model loading by path kind, tiled == untiled, seamless blending,
SCTNet's padded-with-ones tiling protocol, and the baselines' behaviour."""

import os

import numpy as np
import pytest

from hdrkeras import export, inference, methods, saving, tiling
from hdrkeras.errors import ConfigError, DataError, HDRKerasError
from hdrkeras.ops import response


@pytest.fixture(scope="module")
def merge():
    return inference.from_method("classical_merge")


def _stack(rng, b, h, w, n=3):
    ldr = rng.uniform(0.0, 1.0, size=(b, n, h, w, 3)).astype(np.float32)
    exposures = np.tile(4.0 ** np.arange(n, dtype=np.float32), (b, 1))
    exposures[-1] *= 0.5  # two different exposure sets in the batch
    exposures[-1, 0] = 1.0
    return ldr, exposures


# --- tiling ----------------------------------------------------------------------------

@pytest.mark.parametrize("h,w,tile,overlap", [
    (37, 53, 16, 4),    # neither side a multiple of the tile
    (64, 64, 32, 8),    # exact multiple
    (100, 70, 48, 16),  # last tile overlaps more than `overlap`
    (20, 30, 64, 8),    # image smaller than the tile: reflect-padded
    (65, 33, 32, 0),    # hard seams
    (9, 41, 8, 7),      # overlap close to the tile
])
def test_tiled_equals_untiled_for_pointwise_model(merge, rng, h, w, tile, overlap):
    ldr, exposures = _stack(rng, 2, h, w)
    whole = merge(ldr, exposures)
    tiled = tiling.run_tiled(merge, ldr, exposures, tile=tile, overlap=overlap)
    assert tiled.shape == (2, h, w, 3)
    np.testing.assert_allclose(tiled, whole, rtol=1e-5, atol=1e-5)


def test_tiled_ones_protocol_equals_untiled_for_pointwise_model(merge, rng):
    ldr, exposures = _stack(rng, 1, 45, 30)
    tiled = tiling.run_tiled(merge, ldr, exposures, tile=16, overlap=0, pad_mode="ones")
    np.testing.assert_allclose(tiled, merge(ldr, exposures), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("length,tile,overlap", [
    (100, 32, 8), (64, 32, 8), (33, 32, 8), (200, 48, 16), (50, 16, 15), (10, 16, 4)])
def test_blend_weights_sum_to_one(length, tile, overlap):
    span = max(length, tile)
    total = np.zeros(span)
    for start, w in tiling.blend_weights(length, tile, overlap):
        assert np.all(w > 0)
        total[start:start + tile] += w
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_raw_windows_are_a_partition_of_unity_where_overlap_is_exact():
    tile, overlap = 32, 8
    length = 3 * (tile - overlap) + overlap  # 80: every neighbour pair shares exactly 8
    starts = tiling.tile_starts(length, tile, overlap)
    assert starts == [0, 24, 48]
    total = np.zeros(length)
    for s in starts:
        total[s:s + tile] += tiling.blend_window(s, tile, length, overlap)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_blending_removes_seams_of_a_tile_dependent_model(rng):
    """A model whose output differs per tile (offset = call index) gives a visible step
    at hard seams and only a gentle ramp with overlap."""
    ldr, exposures = _stack(rng, 1, 64, 64)

    def offset_model():
        calls = []

        def fn(x, e):
            calls.append(x.shape)
            return np.full(x.shape[:1] + x.shape[2:], float(len(calls)), np.float32)
        return fn, calls

    fn, calls = offset_model()
    hard = tiling.run_tiled(fn, ldr, exposures, tile=32, overlap=0)
    fn, calls = offset_model()
    soft = tiling.run_tiled(fn, ldr, exposures, tile=32, overlap=16)
    assert all(s == (1, 3, 32, 32, 3) for s in calls)  # memory bounded by the tile
    step = lambda img: max(np.abs(np.diff(img, axis=1)).max(), np.abs(np.diff(img, axis=2)).max())
    max_jump = 3.0  # 3x3 tiles, row-major calls: vertical neighbours' offsets differ by 3
    assert step(hard) >= 1.0
    # raised-cosine ramp over 16 px: slope <= pi / (2 * 16) per unit offset
    assert step(soft) <= max_jump * np.pi / 32 + 1e-6


def test_ones_protocol_pads_bottom_right_with_ones_to_an_extra_tile(rng):
    """Official SCTNet test: n = H // tile + 1 tiles per axis even when H divides, LDR
    padded with ones at the bottom/right, no overlap, result cropped."""
    ldr, exposures = _stack(rng, 1, 32, 20)
    seen = []

    def fn(x, e):
        seen.append(x.copy())
        return x[:, 1]  # reference frame, unchanged

    out = tiling.run_tiled(fn, ldr, exposures, tile=16, overlap=0, pad_mode="ones")
    assert len(seen) == 3 * 2 == tiling.num_tiles(32, 20, 16, 0, "ones")
    np.testing.assert_array_equal(out, ldr[:, 1])
    # tiles in row-major order: the third row (rows 32..47) lies entirely in the padding
    assert np.all(seen[4] == 1.0) and np.all(seen[5] == 1.0)
    np.testing.assert_array_equal(seen[1][..., :4, :], ldr[:, :, :16, 16:20])
    assert np.all(seen[1][..., 4:, :] == 1.0)


def test_tiling_argument_errors(merge, rng):
    ldr, exposures = _stack(rng, 1, 20, 20)
    with pytest.raises(ConfigError, match="overlap"):
        tiling.run_tiled(merge, ldr, exposures, tile=16, overlap=16)
    with pytest.raises(ConfigError, match="overlap=0"):
        tiling.run_tiled(merge, ldr, exposures, tile=16, overlap=4, pad_mode="ones")
    with pytest.raises(ConfigError, match="pad_mode"):
        tiling.run_tiled(merge, ldr, exposures, tile=16, overlap=4, pad_mode="zeros")
    with pytest.raises(DataError, match="frames"):
        merge(ldr[:, :2], exposures[:, :2])
    with pytest.raises(DataError, match="exposures shape"):
        merge(ldr, exposures[:, :2])


# --- baselines --------------------------------------------------------------------------

def test_registered_baselines_have_no_stages():
    for name in ("reference_only", "classical_merge"):
        assert name in methods.names()
        method = methods.get(name)
        assert tuple(method.stages) == ()
        assert method.build_inference_model().name == name  # how a .keras names its method


def test_reference_only_is_the_linearised_middle_frame(rng):
    ldr, exposures = _stack(rng, 2, 7, 5)
    out = inference.from_method("reference_only")(ldr, exposures)
    expected = ldr[:, 1] ** 2.2 / exposures[:, 1, None, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_classical_merge_recovers_radiance_and_falls_back_at_extremes(merge):
    t = np.array([1.0, 4.0, 16.0], np.float32)
    radiance = np.array([0.002, 0.01, 0.05, 0.2, 0.6, 3.0, 0.0], np.float32)
    frames = response.reexpose(radiance[None, :, None, None] * np.ones((1, 1, 1, 3), np.float32),
                               t[:, None, None, None])  # [N, 7, 1, 3]
    out = merge(frames[None].astype(np.float32), t[None])[0, :, 0, 0]
    # well-exposed in at least one frame: exact (no quantisation here)
    np.testing.assert_allclose(out[:5], radiance[:5], rtol=1e-4)
    assert out[5] == pytest.approx(1.0)  # saturated everywhere -> shortest frame: 1 / t0
    assert out[6] == 0.0                 # black everywhere -> longest frame: 0
    assert np.all(np.isfinite(out))


def test_baseline_config_round_trip_through_keras_file(tmp_path, rng):
    model = methods.get("classical_merge").build_inference_model({"num_frames": 2})
    path = saving.save_keras(model, tmp_path / "m.keras")
    loaded = inference.load_model(path)
    ldr, exposures = _stack(rng, 1, 9, 11, n=2)
    assert loaded.num_frames == 2
    np.testing.assert_allclose(loaded(ldr, exposures),
                               inference.from_method("classical_merge", {"num_frames": 2})(
                                   ldr, exposures), rtol=1e-6)


# --- load_model -------------------------------------------------------------------------

def test_load_model_from_base_dir_takes_highest_version(tmp_path, rng):
    base = tmp_path / "exports"
    export.export_saved_model(
        "reference_only", methods.get("reference_only").build_inference_model(), base)
    export.export_saved_model(
        "classical_merge", methods.get("classical_merge").build_inference_model(), base)
    ldr, exposures = _stack(rng, 1, 13, 17)
    latest = inference.load_model(base)
    assert latest.name == "classical_merge" and latest.source.endswith(os.sep + "2")
    assert latest.method == "classical_merge"  # from the metadata: the tiling's memory model
    np.testing.assert_allclose(latest(ldr, exposures),
                               inference.from_method("classical_merge")(ldr, exposures),
                               rtol=1e-5, atol=1e-6)
    first = inference.load_model(base / "1")
    np.testing.assert_allclose(first(ldr, exposures),
                               inference.from_method("reference_only")(ldr, exposures),
                               rtol=1e-5, atol=1e-6)


def test_load_model_from_run_dir_with_model_keras(tmp_path, rng):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    saving.save_keras(methods.get("reference_only").build_inference_model(),
                      run_dir / "model.keras")
    ldr, exposures = _stack(rng, 1, 6, 6)
    # named after the file, but its method comes from the model (model.name)
    loaded = inference.load_model(run_dir)
    assert (loaded.name, loaded.method) == ("model", "reference_only")
    np.testing.assert_allclose(inference.load_model(run_dir)(ldr, exposures),
                               inference.from_method("reference_only")(ldr, exposures), rtol=1e-6)


def test_load_model_rejects_what_is_not_a_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(HDRKerasError, match=r"empty is not a SavedModel \(no saved_model.pb\) "
                                            r"or .keras file"):
        inference.load_model(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(HDRKerasError, match="notes.txt is not a SavedModel"):
        inference.load_model(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="does not exist"):
        inference.load_model(tmp_path / "gone")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="broken.keras: not a readable .keras file"):
        inference.load_model(tmp_path / "broken.keras")


def test_get_predictor_needs_exactly_one_source():
    with pytest.raises(ConfigError, match="exactly one"):
        inference.get_predictor()
    with pytest.raises(ConfigError, match="exactly one"):
        inference.get_predictor(model="x", method="classical_merge")
    with pytest.raises(ConfigError, match="No method named"):
        inference.get_predictor(method="nope")


def test_classical_merge_never_divides_by_zero_in_graph_mode():
    """A pixel black in the short and reference frames yet saturated in the long one (a
    moving object) has no usable frame: the merge must fall back, not return NaN."""
    import tensorflow as tf

    from hdrkeras import methods

    model = methods.get("classical_merge").build_inference_model()
    ldr = np.zeros((1, 3, 2, 2, 3), np.float32)
    ldr[:, 2] = 1.0
    ldr[0, :, 1, 1] = [0.2, 0.5, 0.9]  # a normal pixel beside it
    exposures = tf.constant([[1.0, 4.0, 16.0]])
    graph = tf.function(lambda l, e: model({"ldr": l, "exposures": e}))
    out = graph(tf.constant(ldr), exposures).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0, 0, 0], 0.0)  # the reference (black) stands in
    assert np.all(out[0, 1, 1] > 0)
