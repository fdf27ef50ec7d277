"""Crops a padded NHWC map back to the size of the unpadded input (undoes PadToMultiple)."""

import keras
import tensorflow as tf

from hdrkeras.layers.pad_to_multiple import PaddingGeometry, pad_amounts


@keras.saving.register_keras_serializable(package="hdrkeras")
class CropPadding(PaddingGeometry):
    """Removes the padding `PadToMultiple(multiple, placement)` added.

    Call args:
      inputs: [y, reference]: y float32 [B, H', W', C] computed on the padded map;
        reference [B, H, W, *] the unpadded input (only its H, W are read).

    Returns float32 [B, H, W, C].

    Args:
      multiple: int. Same as the padding layer's. Defaults to 8.
      placement: str. Same as the padding layer's. Defaults to "bottom_right".
    """

    def call(self, inputs):
        y, reference = inputs
        shape = tf.shape(reference)
        h, w = shape[1], shape[2]
        top, _ = pad_amounts(h, self.multiple, self.placement)
        left, _ = pad_amounts(w, self.multiple, self.placement)
        return y[:, top:top + h, left:left + w, :]

    def compute_output_shape(self, input_shape):
        y, ref = input_shape
        return (y[0], ref[1], ref[2], y[-1])
