"""DeAltHDR's network inputs from a window of standard video inputs."""

import keras
import tensorflow as tf

GAMMA = 2.2


def preprocess_window(ldr, exposures, use_both_input=True):
    """Standard video inputs -> the official input domain (apply_hdr_preprocessing).

    The official loader reads 8-bit RGB frames (imageio), f = raw / 255, and for frame i
    lin = clip(clip(f, 0, 1) ** 2.2 / r_i, 0, 1) with r_i = 8 for a long (EV+1) frame and
    1 for a short (EV-2) one, then stacks [lin, lin ** (1/2.2)] (the gamma half is the
    exposure-normalised image re-encoded, not the raw LDR). Here r_i = t_i / min_j t_j
    from the exposures (identical for the official 1 : 8 alternation), and a frame is
    long when its exposure exceeds the window's shortest.

    Args:
      ldr: float32 [B, T, H, W, 3] gamma LDR in [0,1], RGB, temporal order.
      exposures: float32 [B, T] relative exposure times (> 0).
      use_both_input: bool. Return [lin, gamma] (6 channels) or [lin] (3).

    Returns:
      (frames float32 [B, T, H, W, 6 or 3], is_long float32 [B, T] in {0, 1}).
    """
    ldr = tf.cast(ldr, tf.float32)
    t = tf.cast(exposures, tf.float32)
    shortest = tf.reduce_min(t, axis=1, keepdims=True)
    ratio = t / shortest
    lin = tf.clip_by_value(tf.pow(tf.clip_by_value(ldr, 0.0, 1.0), GAMMA)
                           / ratio[:, :, None, None, None], 0.0, 1.0)
    is_long = tf.cast(t > shortest, tf.float32)
    if not use_both_input:
        return lin, is_long
    return tf.concat([lin, tf.pow(lin, 1.0 / GAMMA)], axis=-1), is_long


@keras.saving.register_keras_serializable(package="hdrkeras")
class DeAltHDRInputs(keras.layers.Layer):
    """(ldr, exposures) -> (frames, is_long) in the official input domain.

    See `preprocess_window` for the formula (lin = clip(L ** 2.2 /
    r, 0, 1) with r the exposure relative to the window's shortest, [lin, lin ** (1/2.2)]).
    A layer so the serving model is functional (Keras tensors take no raw TF ops).

    Call args:
      ldr: float32 [B, T, H, W, 3] gamma LDR in [0,1], RGB, time order.
      exposures: float32 [B, T] relative exposure times (> 0).

    Returns (frames float32 [B, T, H, W, 6 or 3], is_long float32 [B, T] in {0, 1}).

    Args:
      use_both_input: bool. [lin, gamma] (6 channels) or [lin] (3). Defaults to True.
    """

    def __init__(self, use_both_input=True, **kwargs):
        super().__init__(**kwargs)
        self.use_both_input = bool(use_both_input)

    def call(self, ldr, exposures):
        return preprocess_window(ldr, exposures, self.use_both_input)

    def compute_output_spec(self, ldr, exposures):
        shape = tuple(ldr.shape[:-1]) + (6 if self.use_both_input else 3,)
        return (keras.KerasTensor(shape, "float32"),
                keras.KerasTensor(tuple(exposures.shape), "float32"))

    def get_config(self):
        config = super().get_config()
        config.update({"use_both_input": self.use_both_input})
        return config
