"""In-graph reflect padding of an NHWC map to a multiple of a window size (any H, W)."""

import keras
import tensorflow as tf

PLACEMENTS = ("bottom_right", "center_chop")


def pad_amounts(n, multiple, placement):
    """(before, after) padding of a dimension of size `n` (int or scalar tensor).

    "bottom_right": (0, (m - n % m) % m) -- SwinIR/SCTNet `check_image_size`.
    "center_chop": p = m - n % m (a FULL m when n is already a multiple), split
      (p // 2, p - p // 2) -- SelfHDR's test-time chop wrapper.
    """
    m = multiple
    if placement == "bottom_right":
        return 0 * n, (m - n % m) % m
    if placement == "center_chop":
        p = m - n % m
        return p // 2, p - p // 2
    raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")


def zero_pad_to_multiple(x, multiple):
    """Zeros at the bottom and right of the spatial axes (-3, -2) up to a multiple of
    `multiple` (PyTorch's F.pad of the official DeAltHDR code). x: [..., H, W, C]."""
    shape = tf.shape(x)
    pad_h = pad_amounts(shape[-3], multiple, "bottom_right")[1]
    pad_w = pad_amounts(shape[-2], multiple, "bottom_right")[1]
    rank = x.shape.rank
    paddings = [[0, 0]] * (rank - 3) + [[0, pad_h], [0, pad_w], [0, 0]]
    return tf.pad(x, paddings)


def crop_to(x, height, width):
    """The top-left `height` x `width` of the spatial axes (-3, -2): undoes
    `zero_pad_to_multiple`."""
    return x[..., :height, :width, :]


class PaddingGeometry(keras.layers.Layer):
    """Base of PadToMultiple and CropPadding: the `multiple` and `placement` they share
    (a crop must use its pad's geometry)."""

    def __init__(self, multiple=8, placement="bottom_right", **kwargs):
        super().__init__(**kwargs)
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
        self.multiple = int(multiple)
        self.placement = placement

    def get_config(self):
        config = super().get_config()
        config.update({"multiple": self.multiple, "placement": self.placement})
        return config


@keras.saving.register_keras_serializable(package="hdrkeras")
class PadToMultiple(PaddingGeometry):
    """Reflect-pads H and W of an NHWC tensor to a multiple of `multiple`.

    Reflect = mirror without repeating the edge pixel (torch 'reflect', TF 'REFLECT');
    it needs the padding to be smaller than the dimension. Undo with `CropPadding`.

    Call args:
      x: float32 [B, H, W, C] (any domain; the models pad their raw inputs).

    Returns float32 [B, H', W', C] with H', W' multiples of `multiple`.

    Args:
      multiple: int. Target multiple (the window size). Defaults to 8.
      placement: str. "bottom_right" or "center_chop" (see `pad_amounts`).
        Defaults to "bottom_right".
    """

    def call(self, x):
        shape = tf.shape(x)
        top, bottom = pad_amounts(shape[1], self.multiple, self.placement)
        left, right = pad_amounts(shape[2], self.multiple, self.placement)
        return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, None, input_shape[-1])
