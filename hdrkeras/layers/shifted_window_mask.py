"""Attention mask of shifted-window attention (SW-MSA), computed in-graph for any H, W."""

import keras
import tensorflow as tf

from hdrkeras.layers.window_attention import window_partition


def shifted_window_mask(height, width, window_size, shift_size, masked_value=-100.0):
    """float32 [nW, N, N]: 0 where two tokens of a shifted window came from the same
    region of the unshifted map, `masked_value` otherwise.

    Rule of Swin's `calculate_mask`: rows [0, H-ws), [H-ws, H-shift), [H-shift, H) are
    regions 0, 1, 2 (columns likewise); region id = 3*row_region + col_region. The
    official code uses -100 (not -inf); softmax then gives those pairs ~e-44 weight.
    `height`/`width` may be scalar tensors (dynamic shapes).
    """
    ws, s = int(window_size), int(shift_size)

    def regions(n):
        i = tf.range(n)
        return tf.where(i < n - ws, 0, tf.where(i < n - s, 1, 2))

    ids = 3 * regions(height)[:, None] + regions(width)[None, :]
    ids = window_partition(tf.cast(ids, tf.float32)[None, :, :, None], ws)[..., 0]  # [nW, N]
    same = tf.equal(ids[:, None, :], ids[:, :, None])
    return tf.where(same, 0.0, masked_value)


@keras.saving.register_keras_serializable(package="hdrkeras")
class ShiftedWindowMask(keras.layers.Layer):
    """Builds the SW-MSA mask once per forward from a feature map's spatial size.

    Computed once per model call and fed to every shifted block, rather than once per
    block (or stored per training size as the official buffers are).

    Call args:
      x: [B, H, W, C] feature map (only its H and W are read; multiples of window_size).

    Returns float32 [nW, N, N] with nW = (H/ws)*(W/ws), N = ws**2.

    Args:
      window_size: int. Window side. Defaults to 8.
      shift_size: int. Cyclic shift; Swin uses window_size // 2. Defaults to 4.
    """

    def __init__(self, window_size=8, shift_size=4, **kwargs):
        super().__init__(**kwargs)
        self.window_size = int(window_size)
        self.shift_size = int(shift_size)

    def call(self, x):
        shape = tf.shape(x)
        return shifted_window_mask(shape[1], shape[2], self.window_size, self.shift_size)

    def compute_output_shape(self, input_shape):
        n = self.window_size ** 2
        return (None, n, n)

    def get_config(self):
        config = super().get_config()
        config.update({"window_size": self.window_size, "shift_size": self.shift_size})
        return config
