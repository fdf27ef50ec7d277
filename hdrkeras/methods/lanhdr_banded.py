"""LAN-HDR's 64-channel full-resolution stages computed exactly in row bands and spectrum
column blocks, for frames whose full-size maps must not coexist (hdrkeras.methods.lanhdr
streams large frames through it).

At 1080x1920 one 64-channel float32 map is 0.53 GB. Run whole, a merge FFT residual block
holds several at once (its input, the spatial branch, the spectrum, its real/imaginary
stack, the 1x1 convs' outputs, the inverse). Here:

- A stack of 'same'-padded convolutions of total radius r runs on row bands with r rows
  of halo on each side: every output row of a band sees only real rows of the input or
  the image's own zero padding, so the result is the whole-map one (up to float rounding:
  the convolutions block their sums by the band's shape).
- The Fourier branch of an FFT residual block (hdrkeras.layers.fft_residual_block) is
  separable. rfft2d is a real FFT over W on every row, then a complex FFT over H on every
  column; its two 1x1 convs act on each frequency alone; irfft2d is a complex inverse over
  H, then a complex-to-real inverse over W that drops the imaginary parts of the
  W-frequency-0 and Nyquist columns (tf.signal.irfft over W alone does the same). So:
  row bands -> rfft over W into one complex buffer [W//2+1, H, C]; column blocks of it ->
  FFT over H, the 1x1 convs, inverse FFT over H, in place; row bands -> irfft over W plus
  the block's input and spatial branch (2 rows of halo), written over the input in place
  (the two original rows above each band are kept aside for the next band's halo).

The pyramid encoders' full-resolution level (two 3x3 convs and an FFT residual block, 16
channels) is banded the same way. A block thus needs its input and the spectrum buffer (two full-size maps) plus band-sized
temporaries. Full-size buffers are numpy arrays, not TensorFlow tensors: malloc returns
them to the system when freed, while TF's pooled CPU allocator keeps the largest blocks it
ever served (hdrkeras.tf_runtime), so only band-sized blocks reach its pool.
"""

import numpy as np
import tensorflow as tf

# Pixels of one row band: 2^17 px x 64 channels x 4 B = 32 MB per map (68 rows of a
# 1920-wide frame; halos add 2-6 rows per band).
CHUNK_PIXELS = 1 << 17
SPATIAL_HALO = 2  # conv3x3 -> ReLU -> conv3x3


def spans(n, size):
    """[(start, stop)] covering range(n) in steps of `size` (>= 1)."""
    size = max(1, int(size))
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def banded(fn, x, halo, rows, out, accumulate=False):
    """out[r0:r1] = (or +=) fn(x[r0 - halo : r1 + halo]) cropped to rows r0..r1, band by band.

    Args:
      fn: [1, h, W, C] -> [1, h, W, C'], a stack of 'same'-padded convolutions of total
        radius <= halo (then the result equals fn of the whole map).
      x: [H, W, C] numpy array or tensor.
      halo: rows of context on each side of a band.
      rows: rows per band.
      out: float32 numpy [H, W, C'], written (or added to) in place.
      accumulate: add to `out` instead of overwriting it.
    """
    h = x.shape[0]
    for r0, r1 in spans(h, rows):
        a, b = max(r0 - halo, 0), min(r1 + halo, h)
        y = fn(x[a:b][None]).numpy()[0, r0 - a:r1 - a]
        if accumulate:
            out[r0:r1] += y
        else:
            out[r0:r1] = y
    return out


def _row_spectrum(x):
    """[r, W, C] -> [W//2+1, r, C]: the real FFT over W of each row and channel."""
    return tf.transpose(tf.signal.rfft(tf.transpose(x, [0, 2, 1])), [2, 0, 1])


def _conv(x, kernel, padding="SAME"):
    """A bias-free stride-1 conv of [h, w, C] (the block's Conv2D layers, by their kernels,
    so that one traced function serves every block)."""
    return tf.nn.conv2d(x[None], kernel, 1, padding)[0]


def _column_mix(z, fft_0, fft_2):
    """[n, H, C] complex (n spectrum columns) -> FFT over H, the block's 1x1 convs
    (kernels fft_0, fft_2) on [Re | Im], inverse FFT over H; same shape."""
    c = tf.shape(z)[-1]  # dynamic: the trace is shared by every width
    s = tf.transpose(tf.signal.fft(tf.transpose(z, [0, 2, 1])), [0, 2, 1])
    y = tf.concat([tf.math.real(s), tf.math.imag(s)], axis=-1)
    y = _conv(tf.nn.relu(_conv(y, fft_0, "VALID")), fft_2, "VALID")
    s = tf.complex(y[..., :c], y[..., c:])
    return tf.transpose(tf.signal.ifft(tf.transpose(s, [0, 2, 1])), [0, 2, 1])


def _row_output(x, z, top, main_0, main_2):
    """A band of the block's output: x [h, W, C] the band's input rows with `top` rows of
    halo above (and up to SPATIAL_HALO below); z [W//2+1, r, C] its spectrum rows after
    the column pass -> x + spatial(x) + irfft over W, [r, W, C]."""
    r = tf.shape(z)[1]
    spatial = _conv(tf.nn.relu(_conv(x, main_0)), main_2)[top:top + r]
    f = tf.signal.irfft(tf.transpose(z, [1, 2, 0]), fft_length=tf.shape(x)[1:2])
    return x[top:top + r] + spatial + tf.transpose(f, [0, 2, 1])


_FUNCTIONS = {}


def _function(fn):
    """One traced tf.function per helper, shared by every block (shapes relaxed after the
    second trace)."""
    if fn not in _FUNCTIONS:
        _FUNCTIONS[fn] = tf.function(fn, reduce_retracing=True)
    return _FUNCTIONS[fn]


class BandedFFTBlock:
    """An FFTResidualBlock applied in place to a numpy map [H, W, C], in row bands and
    spectrum column blocks (see the module docstring).

    Args:
      block: a built hdrkeras.layers.fft_residual_block.FFTResidualBlock (float32, or
        float64 on float64 maps).
      chunk_pixels: pixels per row band; a column block has a quarter as many (its
        spectrum and 2C-channel [Re | Im] stack are 2-4x a band's bytes per pixel).
        Defaults to CHUNK_PIXELS.
    """

    def __init__(self, block, chunk_pixels=CHUNK_PIXELS):
        self.block = block
        self.chunk_pixels = int(chunk_pixels)

    def __call__(self, x, z=None):
        """x: float32 (float64 for a float64 block) numpy [H, W, C], overwritten by the
        block's output. z: the work buffer (`spectrum_buffer(x)`; allocated if None).
        Returns x."""
        blk = self.block
        kernels = [tf.convert_to_tensor(layer.kernel)
                   for layer in (blk.main_0, blk.main_2, blk.main_fft_0, blk.main_fft_2)]
        h, w, _ = x.shape
        if z is None:
            z = spectrum_buffer(x)
        rows = max(1, self.chunk_pixels // w)
        spectrum, mix, finish = (_function(f) for f in (_row_spectrum, _column_mix,
                                                         _row_output))
        for r0, r1 in spans(h, rows):
            z[:, r0:r1] = spectrum(x[r0:r1]).numpy()
        for c0, c1 in spans(z.shape[0], max(1, self.chunk_pixels // (4 * h))):
            z[c0:c1] = mix(z[c0:c1], *kernels[2:]).numpy()
        above = x[:0].copy()  # the original rows just above the current band
        for r0, r1 in spans(h, rows):
            x_in = np.concatenate([above, x[r0:min(r1 + SPATIAL_HALO, h)]])
            y = finish(x_in, np.ascontiguousarray(z[:, r0:r1]), tf.constant(len(above)),
                       *kernels[:2]).numpy()
            above = np.concatenate([above, x[max(r0, r1 - SPATIAL_HALO):r1]])[-SPATIAL_HALO:]
            x[r0:r1] = y
        return x


class BandedPyramidEncoder:
    """A LAN-HDR pyramid encoder (hdrkeras.models.lanhdr.pyramid_encoder) with its
    full-resolution level -- two 3x3 convs (radius 2) and an FFT residual block -- in row
    bands and spectrum columns (a numpy map and spectrum buffer of the encoder's width);
    the coarser levels, at 1/2 resolution and below, run whole on it.

    Args:
      encoder: the keras.Model built by pyramid_encoder.
      chunk_pixels: pixels per row band. Defaults to CHUNK_PIXELS.
    """

    def __init__(self, encoder, chunk_pixels=CHUNK_PIXELS):
        get = encoder.get_layer
        self.chunk_pixels = int(chunk_pixels)
        self.width = int(get("block1").channels)
        first = [(get(f"conv1{j}"), get(f"conv1{j}_relu")) for j in (1, 2)]

        def full_res(x):
            for conv, relu in first:
                x = relu(conv(x))
            return x

        def coarse(x):
            levels = []
            for i in (2, 3, 4):
                name = f"conv{i}1"
                pad = [l for l in encoder.layers if l.name == name + "_pad"]
                x = get(name)(pad[0](x) if pad else x)  # plain convs pad explicitly
                x = get(f"block{i}")(get(name + "_relu")(x))
                levels.append(x)
            return levels[::-1]

        self._full_res = tf.function(full_res, reduce_retracing=True)
        self._coarse = tf.function(coarse, reduce_retracing=True)
        self._block = BandedFFTBlock(get("block1"), chunk_pixels)

    def __call__(self, x):
        """x: [H, W, C_in] tensor -> the encoder's outputs [lv4, lv3, lv2, lv1], each
        [1, h, w, c] (lv1 at full resolution)."""
        h, w = int(x.shape[0]), int(x.shape[1])
        lv1 = np.empty((h, w, self.width), np.float32)
        banded(self._full_res, x, 2, max(1, self.chunk_pixels // w), lv1)
        lv1 = tf.convert_to_tensor(self._block(lv1)[None])
        return list(self._coarse(lv1)) + [lv1]


def spectrum_buffer(x):
    """The work buffer [W//2+1, H, C] of BandedFFTBlock for a map x [H, W, C]: complex64,
    complex128 for a float64 map."""
    h, w, c = x.shape
    return np.empty((w // 2 + 1, h, c), np.complex128 if x.dtype == np.float64 else np.complex64)


class BandedMergeBody:
    """The LAN-HDR merge after its first conv, on a numpy map: ReLU(head + bias), the FFT
    residual blocks in place (one spectrum buffer shared), the sigmoid tail conv in bands.

    Args:
      blocks: the merge's FFTResidualBlocks, in order.
      tail: the last conv (3x3, 'same', to 3 channels, sigmoid).
      chunk_pixels: pixels per band / column block. Defaults to CHUNK_PIXELS.
    """

    def __init__(self, blocks, tail, chunk_pixels=CHUNK_PIXELS):
        self.blocks = [BandedFFTBlock(b, chunk_pixels) for b in blocks]
        self.chunk_pixels = int(chunk_pixels)
        self._tail = tf.function(lambda x: tail(x), reduce_retracing=True)

    def __call__(self, head, bias):
        """head: float32 numpy [H, W, C], the first conv without its bias (overwritten);
        bias: that conv's bias [C]. Returns float32 [H, W, 3]."""
        h, w, _ = head.shape
        x = np.maximum(np.add(head, np.asarray(bias, np.float32), out=head), 0.0, out=head)
        z = spectrum_buffer(x)
        for block in self.blocks:
            block(x, z)
        del z
        out = np.empty((h, w, 3), np.float32)
        return banded(self._tail, x, 1, max(1, self.chunk_pixels // w), out)
