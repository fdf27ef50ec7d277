"""hdrkeras.ops: response curve, tonemaps, warping and padding against hand-computed values."""

import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from hdrkeras import ops
from hdrkeras.errors import ConfigError
from hdrkeras.ops import tonemap


# --- response -------------------------------------------------------------------------

def test_ldr_to_hdr_hand_value():
    assert ops.ldr_to_hdr(0.5, 4) == pytest.approx(0.5 ** 2.2 / 4, rel=1e-6)
    assert ops.ldr_to_linear(0.5) == pytest.approx(0.5 ** 2.2, rel=1e-6)
    assert ops.linear_to_ldr(0.5 ** 2.2) == pytest.approx(0.5, rel=1e-6)


def test_ldr_to_hdr_broadcasts_exposures_over_stack(rng):
    ldr = rng.random((2, 3, 4, 5, 3), dtype=np.float32)
    t = np.array([[1, 4, 16], [1, 2, 4]], np.float32)
    out = ops.ldr_to_hdr(ldr, t[:, :, None, None, None])
    assert out.dtype == np.float32 and out.shape == ldr.shape
    np.testing.assert_allclose(out[1, 2], ldr[1, 2] ** 2.2 / 4, rtol=1e-6)


def test_response_clips_out_of_range_ldr():
    np.testing.assert_allclose(ops.ldr_to_linear(np.array([-0.5, 1.5], np.float32)), [0.0, 1.0])
    np.testing.assert_allclose(ops.linear_to_ldr(np.array([-1.0, 4.0], np.float32)), [0.0, 1.0])


def test_reexpose_inverts_ldr_to_hdr_and_quantises(rng):
    ldr = rng.random((4, 4, 3)).astype(np.float32)
    hdr = ops.ldr_to_hdr(ldr, 4.0)
    np.testing.assert_allclose(ops.reexpose(hdr, 4.0), ldr, atol=1e-6)
    q = ops.reexpose(hdr, 4.0, bits=8)
    np.testing.assert_allclose(q * 255, np.round(q * 255), atol=1e-4)
    assert np.max(np.abs(q - ldr)) <= 0.5 / 255 + 1e-6
    # saturation: clip(hdr * t, 0, 1)
    assert ops.reexpose(np.float32(2.0), 1.0) == pytest.approx(1.0)


def test_numpy_and_tensor_give_same_values_and_types(rng):
    x = rng.random((2, 5, 5, 3)).astype(np.float32)
    for fn in (ops.ldr_to_linear, ops.linear_to_ldr, tonemap.mu_law, tonemap.mu_law_inverse,
               lambda v: ops.ldr_to_hdr(v, 2.0), lambda v: ops.reexpose(v, 2.0, bits=8),
               lambda v: tonemap.pu21_encode(v * 1000)):
        a = fn(x)
        b = fn(tf.constant(x))
        assert isinstance(a, np.ndarray) and tf.is_tensor(b)
        assert a.dtype == np.float32 and b.dtype == tf.float32
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-6)


def test_tensor_dtype_wins_over_numpy_exposure():
    out = ops.ldr_to_hdr(tf.constant([0.5], tf.float16), np.array([4.0]))
    assert out.dtype == tf.float16
    out = ops.ldr_to_hdr(tf.constant([0.5]), np.array([4.0], np.float64))
    assert out.dtype == tf.float32


# --- tonemap --------------------------------------------------------------------------

def test_mu_law_endpoints_and_inverse():
    assert ops.mu_law(1.0) == pytest.approx(1.0, abs=1e-7)
    assert ops.mu_law(0.0) == 0.0
    assert ops.mu_law(0.01) == pytest.approx(np.log(1 + 50.0) / np.log(5001.0), rel=1e-6)
    y = np.linspace(0, 1, 11, dtype=np.float32)
    np.testing.assert_allclose(ops.mu_law(ops.mu_law_inverse(y)), y, atol=1e-6)


def test_pu21_matches_published_formula_and_anchor_points():
    p = (0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627,
         0.09150303166, 0.9099517204, 596.3148142)
    y = np.array([0.005, 1.0, 100.0, 10000.0])
    expect = p[6] * (((p[0] + p[1] * y ** p[3]) / (1 + p[2] * y ** p[3])) ** p[4] - p[5])
    np.testing.assert_allclose(ops.pu21_encode(y), expect, rtol=1e-6)
    v = ops.pu21_encode(np.array([0.001, 0.005, 100.0, 1e5]))
    assert abs(v[1]) < 1e-3 and v[0] == v[1]  # clamped below 0.005 cd/m^2
    assert 250 < v[2] < 260  # ~256 at 100 cd/m^2 (SDR white)
    assert v[3] == pytest.approx(float(ops.pu21_encode(10000.0)), rel=1e-6)  # clamped above


def test_to_uint8_and_preview():
    np.testing.assert_array_equal(ops.to_uint8(np.array([-1.0, 0.0, 0.5, 1.0, 3.0])),
                                  [0, 0, 128, 255, 255])
    assert ops.to_uint8(np.array([0.5])).dtype == np.uint8
    prev = ops.preview(tf.constant([[-1.0, 0.0, 0.001, 1.0, 7.0]]))
    assert prev.dtype == tf.uint8
    expect = np.round(np.log1p(5.0) / np.log1p(5000.0) * 255)
    np.testing.assert_array_equal(prev.numpy()[0], [0, 0, expect, 255, 255])


# --- warp -----------------------------------------------------------------------------

def _const_flow(b, h, w, dx, dy):
    f = np.zeros((b, h, w, 2), np.float32)
    f[..., 0], f[..., 1] = dx, dy
    return f


def test_warp_integer_shift_is_exact(rng):
    img = rng.random((2, 6, 7, 3)).astype(np.float32)
    out = ops.backward_warp(img, _const_flow(2, 6, 7, 2.0, -1.0)).numpy()
    # out(y, x) = img(y - 1, x + 2)
    np.testing.assert_allclose(out[:, 1:, :5], img[:, :-1, 2:], atol=1e-6)
    np.testing.assert_array_equal(out[:, 0], 0.0)  # zeros outside
    np.testing.assert_array_equal(out[:, :, 5:], 0.0)
    edge = ops.backward_warp(img, _const_flow(2, 6, 7, 2.0, -1.0), border="edge").numpy()
    np.testing.assert_allclose(edge[:, 0, :5], img[:, 0, 2:], atol=1e-6)
    np.testing.assert_allclose(edge[:, 3, 6], img[:, 2, 6], atol=1e-6)


def test_warp_half_pixel_averages_neighbours(rng):
    img = rng.random((1, 4, 5, 2)).astype(np.float32)
    out = ops.backward_warp(img, _const_flow(1, 4, 5, 0.5, 0.0)).numpy()
    np.testing.assert_allclose(out[:, :, :4], 0.5 * (img[:, :, :4] + img[:, :, 1:]), atol=1e-6)
    np.testing.assert_allclose(out[:, :, 4], 0.5 * img[:, :, 4], atol=1e-6)  # half is outside
    both = ops.backward_warp(img, _const_flow(1, 4, 5, 0.5, 0.5)).numpy()
    quad = 0.25 * (img[:, :-1, :-1] + img[:, 1:, :-1] + img[:, :-1, 1:] + img[:, 1:, 1:])
    np.testing.assert_allclose(both[:, :3, :4], quad, atol=1e-6)


@pytest.mark.parametrize("border,mode", [("zeros", "grid-constant"), ("edge", "nearest"),
                                         ("reflect", "mirror")])
def test_warp_matches_scipy_map_coordinates(rng, border, mode):
    h, w = 9, 11
    img = rng.random((1, h, w, 2)).astype(np.float32)
    flow = rng.uniform(-14, 14, (1, h, w, 2)).astype(np.float32)  # far outside too
    out = ops.backward_warp(img, flow, border=border).numpy()
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    coords = [yy + flow[0, ..., 1], xx + flow[0, ..., 0]]
    for c in range(2):
        ref = scipy.ndimage.map_coordinates(img[0, ..., c].astype(np.float64), coords,
                                            order=1, mode=mode, cval=0.0)
        np.testing.assert_allclose(out[0, ..., c], ref, atol=2e-5)


def test_warp_graph_mode_unknown_size_and_gradient(rng):
    fn = tf.function(ops.backward_warp, input_signature=[
        tf.TensorSpec([None, None, None, 3]), tf.TensorSpec([None, None, None, 2])])
    img = rng.random((1, 5, 6, 3)).astype(np.float32)
    flow = _const_flow(1, 5, 6, 1.0, 0.0)
    np.testing.assert_allclose(fn(img, flow).numpy()[:, :, :5], img[:, :, 1:], atol=1e-6)
    flow_v = tf.Variable(_const_flow(1, 5, 6, 0.3, 0.2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(ops.backward_warp(tf.constant(img), flow_v))
    assert np.any(tape.gradient(loss, flow_v).numpy() != 0)


def test_warp_rejects_unknown_border():
    with pytest.raises(ConfigError, match="border"):
        ops.backward_warp(np.zeros((1, 2, 2, 1), np.float32), np.zeros((1, 2, 2, 2), np.float32),
                          border="wrap")
