"""LAN-HDR's banded full-resolution stages (hdrkeras.methods.lanhdr_banded): the FFT
residual block in row bands and spectrum columns, and banded convolutions, equal the
whole-map layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.layers.fft_residual_block import FFTResidualBlock
from hdrkeras.methods.lanhdr_banded import BandedFFTBlock, banded, spans


def _block(channels, dtype, seed):
    keras.utils.set_random_seed(seed)
    block = FFTResidualBlock(dtype=dtype)
    block.build((None, None, None, channels))
    return block


@pytest.mark.parametrize("h,w,chunk,dtype,atol", [
    (13, 10, 25, "float64", 1e-12),  # even W (Nyquist column), 2-row bands, 1 column
    (13, 11, 1, "float64", 1e-12),   # odd W, 1-row bands and columns
    (9, 16, 40, "float32", 2e-5),    # bands not dividing H
    (7, 6, 10_000, "float32", 2e-5),  # one band: the whole map
])
def test_banded_fft_block_equals_the_layer(h, w, chunk, dtype, atol):
    """Row-band rfft over W, column-block FFT/1x1 convs/inverse over H and row-band irfft
    (imaginary parts of the W-frequency-0 and Nyquist columns dropped, as irfft2d does)
    plus the spatial branch with its halo reproduce FFTResidualBlock, in place."""
    block = _block(5, dtype, seed=h * w)
    x = np.random.default_rng(h).standard_normal((h, w, 5)).astype(dtype)
    want = block(x[None]).numpy()[0]
    got = BandedFFTBlock(block, chunk_pixels=chunk)(x.copy())
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, atol=atol, rtol=0)
    assert np.abs(block.frequency_branch(x[None]).numpy()).max() > 0.1  # the branch counts


def test_banded_convolutions_with_a_halo_equal_the_whole_map():
    """A stack of 'same' convs of total radius r run on bands with r rows of halo gives
    the whole map's result; with a smaller halo the band edges differ."""
    keras.utils.set_random_seed(0)
    convs = [keras.layers.Conv2D(4, 3, padding="same") for _ in range(3)]

    def fn(x):
        for c in convs:
            x = tf.nn.relu(c(x))
        return x

    x = np.random.default_rng(0).standard_normal((17, 9, 2)).astype(np.float32)
    want = fn(x[None]).numpy()[0]
    out = np.zeros_like(want)
    np.testing.assert_allclose(banded(fn, x, 3, 4, out), want, atol=1e-5)
    np.testing.assert_allclose(banded(fn, x, 3, 4, out, accumulate=True), 2 * want, atol=1e-5)
    assert np.abs(banded(fn, x, 2, 4, np.zeros_like(want)) - want).max() > 1e-3


def test_spans_cover_the_range():
    assert spans(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert spans(2, 0) == [(0, 1), (1, 2)]
