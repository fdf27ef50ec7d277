"""Residual block with a spatial branch and a Fourier-domain branch (LAN-HDR)."""

import keras
import tensorflow as tf

from hdrkeras.layers.torch_compat import TORCH_CONV_INIT


@keras.saving.register_keras_serializable(package="hdrkeras")
class FFTResidualBlock(keras.layers.Layer):
    """x + main(x) + irfft2(conv1x1(ReLU(conv1x1([Re, Im](rfft2(x)))))).

    LAN-HDR `models/layers.py:ResBlock_fft_bench` (from "Deep Residual Fourier
    Transformation", Mao et al.): the frequency branch gives every block an image-wide
    receptive field. main = conv3x3 -> ReLU -> conv3x3, all convs bias-free.

    The 2-D real FFT runs over H and W with the unscaled forward / 1/(H*W) inverse
    ("backward" norm); its spectrum [B, H, W//2+1, C] complex is fed to the 1x1 convs
    as 2C real channels [C real | C imag]. The convs make the spectrum non-Hermitian:
    the inverse is torch's `irfft2(s=(H, W))` = complex inverse FFT over H, then a
    complex-to-real inverse over W that drops the imaginary parts of the W-frequency-0
    (and, for even W, Nyquist) column; `tf.signal.irfft2d` does the same, for odd and
    even sizes. The FFTs run in float32 (float64 if the layer's dtype is float64, used
    by the gradient checks), whatever the mixed-precision policy.

    Call args:
      x: [B, H, W, C] NHWC feature map, any H, W.

    Returns [B, H, W, C].
    """

    def build(self, input_shape):
        c = int(input_shape[-1])
        self.channels = c

        def conv(name, filters, k, in_c):
            layer = keras.layers.Conv2D(filters, k, padding="same", use_bias=False, name=name,
                                        kernel_initializer=TORCH_CONV_INIT,
                                        dtype=self.dtype_policy)
            layer.build((None, None, None, in_c))
            return layer

        self.main_0 = conv("main_0", c, 3, c)
        self.main_2 = conv("main_2", c, 3, c)
        self.main_fft_0 = conv("main_fft_0", 2 * c, 1, 2 * c)
        self.main_fft_2 = conv("main_fft_2", 2 * c, 1, 2 * c)
        self.built = True

    def _fft_dtype(self, x):
        return tf.float64 if x.dtype == tf.float64 else tf.float32

    def frequency_branch(self, x):
        """The Fourier branch alone (NHWC in and out)."""
        real_dtype = self._fft_dtype(x)
        shape = tf.shape(x)
        h, w = shape[1], shape[2]
        spec = tf.signal.rfft2d(tf.transpose(tf.cast(x, real_dtype), [0, 3, 1, 2]))
        y = tf.concat([tf.math.real(spec), tf.math.imag(spec)], axis=1)  # [B, 2C, H, Wf]
        y = tf.cast(tf.transpose(y, [0, 2, 3, 1]), x.dtype)
        y = self.main_fft_2(keras.activations.relu(self.main_fft_0(y)))
        y = tf.transpose(tf.cast(y, real_dtype), [0, 3, 1, 2])
        spec = tf.complex(y[:, :self.channels], y[:, self.channels:])
        y = tf.signal.irfft2d(spec, fft_length=tf.stack([h, w]))
        return tf.cast(tf.transpose(y, [0, 2, 3, 1]), x.dtype)

    def call(self, x):
        main = self.main_2(keras.activations.relu(self.main_0(x)))
        return main + x + self.frequency_branch(x)

    def compute_output_shape(self, input_shape):
        return input_shape
