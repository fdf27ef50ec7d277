"""Padding images to a network's spatial multiple and cropping the result back."""

import tensorflow as tf

from hdrkeras.errors import ConfigError

MODES = ("reflect", "symmetric", "constant")
WHERE = ("bottom_right", "symmetric")


def _pair(multiple):
    if isinstance(multiple, int):
        multiple = (multiple, multiple)
    mh, mw = (int(m) for m in multiple)
    if mh < 1 or mw < 1:
        raise ConfigError(f"pad_to_multiple: multiple must be >= 1, got {multiple!r}")
    return mh, mw


def _split(total, where):
    if where == "bottom_right":
        return 0, total
    before = total // 2
    return before, total - before


def _source_index(size, before, after, mode):
    """Index into an axis of length `size` for each padded position (reflect/symmetric)."""
    pos = tf.range(-before, size + after)
    if mode == "reflect":  # d c b | a b c d | c b a
        period = tf.maximum(2 * (size - 1), 1)
        m = tf.math.floormod(pos, period)
        m = tf.where(m > size - 1, period - m, m)
    else:  # symmetric: c b a | a b c d | d c b
        period = 2 * size
        m = tf.math.floormod(pos, period)
        m = tf.where(m > size - 1, period - 1 - m, m)
    return tf.clip_by_value(m, 0, size - 1)


def pad_to_multiple(x, multiple, mode="reflect", constant_values=0.0, where="bottom_right"):
    """Pads the H and W axes of `x` up to the next multiple of `multiple`.

    Args:
      x: tensor [B, H, W, C] or [B, N, H, W, C] (H, W are axes -3, -2); any dtype/domain.
      multiple: int or (mh, mw).
      mode: "reflect" (mirror without repeating the edge), "symmetric" (mirror repeating
        it) or "constant". Reflect/symmetric work for any pad size (periodic mirroring), so
        a 10-pixel image can be padded to 64. Defaults to "reflect".
      constant_values: fill value for mode "constant".
      where: "bottom_right" (all padding after the image) or "symmetric" (split, extra
        pixel after). Defaults to "bottom_right".

    Returns:
      The padded tensor. Undo with `crop_to(y, H, W, where=where)`. Works with unknown H, W.
    """
    if mode not in MODES:
        raise ConfigError(f"pad_to_multiple: mode must be one of {MODES}, got {mode!r}")
    if where not in WHERE:
        raise ConfigError(f"pad_to_multiple: where must be one of {WHERE}, got {where!r}")
    mh, mw = _pair(multiple)
    x = tf.convert_to_tensor(x)
    rank = x.shape.rank
    if rank not in (4, 5):
        raise ConfigError(f"pad_to_multiple: expected a rank-4 or rank-5 tensor, got shape {x.shape}")
    shape = tf.shape(x)
    h, w = shape[-3], shape[-2]
    top, bottom = _split((-h) % mh, where)
    left, right = _split((-w) % mw, where)
    if mode == "constant":
        pads = [[0, 0]] * (rank - 3) + [[top, bottom], [left, right], [0, 0]]
        return tf.pad(x, pads, constant_values=constant_values)
    x = tf.gather(x, _source_index(h, top, bottom, mode), axis=rank - 3)
    return tf.gather(x, _source_index(w, left, right, mode), axis=rank - 2)


def crop_to(x, height, width, where="bottom_right"):
    """Crops axes -3, -2 of `x` back to (height, width); inverse of `pad_to_multiple`.

    `where` must be the value used for padding ("bottom_right": keep the top-left corner;
    "symmetric": remove `(excess // 2)` from the top/left).
    """
    if where not in WHERE:
        raise ConfigError(f"crop_to: where must be one of {WHERE}, got {where!r}")
    x = tf.convert_to_tensor(x)
    shape = tf.shape(x)
    top = left = 0
    if where == "symmetric":
        top = (shape[-3] - height) // 2
        left = (shape[-2] - width) // 2
    return x[..., top:top + height, left:left + width, :]
