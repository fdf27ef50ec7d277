"""Backward warping by a dense optical flow.

`backward_warp` is the differentiable bilinear warp networks use (the op
tfa.image.dense_image_warp was); `remap_bicubic` is its numpy twin for data preparation,
where the sharper bicubic kernel matters more than gradients. Same flow convention.
"""

import numpy as np
import tensorflow as tf

from hdrkeras.errors import ConfigError

BORDERS = ("zeros", "edge", "reflect")
SAMPLINGS = ("pixel", "align_corners_false")


def _map_index(idx, size, border):
    """Integer sample positions -> (in-range positions, validity mask) for one axis."""
    last = size - 1
    if border == "zeros":
        valid = tf.logical_and(idx >= 0, idx <= last)
        return tf.clip_by_value(idx, 0, last), valid
    if border == "edge":
        return tf.clip_by_value(idx, 0, last), None
    # reflect about the first/last pixel centres without repeating them (d c b|a b c d|c b a);
    # periodic, so any offset is valid. A size-1 axis degenerates to edge.
    period = tf.maximum(2 * last, 1)
    m = tf.math.floormod(idx, period)
    m = tf.where(m > last, period - m, m)
    return tf.clip_by_value(m, 0, last), None


def _sample_positions(grid, flow, size, sampling):
    """Pixel coordinates sampled along one axis (see `backward_warp`'s `sampling`)."""
    v = grid + flow
    if sampling == "pixel":
        return v
    # grid_sample's unnormalisation of a grid normalised with the align_corners=True
    # formula, done in torch's order so float32 rounding matches.
    n = tf.cast(size, tf.float32)
    g = 2.0 * v / tf.maximum(n - 1.0, 1.0) - 1.0
    return ((g + 1.0) * n - 1.0) / 2.0


def backward_warp(image, flow, border="zeros", sampling="pixel", row_offset=0,
                  source_row0=0, height=None):
    """Samples `image` at `(y + dy, x + dx)` with bilinear interpolation.

    Args:
      image: float tensor [B, H, W, C] (any domain: LDR, HDR or features).
      flow: tensor [B, H, W, 2] in pixels; `flow[..., 0]` = dx (horizontal),
        `flow[..., 1]` = dy (vertical), the convention of the PyTorch `flow_warp` used by
        the official code. out(y, x) = image(y + dy, x + dx).
      border: "zeros" (samples outside contribute 0, like grid_sample padding "zeros",
        align_corners=True), "edge" (clamp to the border pixel) or "reflect" (mirror about
        the border pixel centres). Defaults to "zeros".
      sampling: "pixel" samples at x + dx exactly. "align_corners_false" reproduces the
        common PyTorch `warp`/`flow_warp` that normalises the grid as 2 v / (W - 1) - 1
        (align_corners=True convention) but calls grid_sample with its default
        align_corners=False, so it samples at (x + dx) W / (W - 1) - 0.5 (a slight
        stretch and half-pixel shift: zero flow is NOT the identity). DeAltHDR's SpyNet and
        FGMA warp this way, with border "edge" (grid_sample padding "border").
        Defaults to "pixel".
      row_offset: int. The flow covers rows row_offset .. row_offset + h - 1 of the
        image's grid (a band of rows, for bounded-memory evaluation): flow [B, h, W, 2]
        samples the whole image and gives [B, h, W, C], equal to those rows of the
        whole-flow warp. Defaults to 0 (flow and image of the same size).
      source_row0, height: int. `image` holds only rows source_row0.. of a map of
        `height` rows, all the rows the flow samples (`source_rows`), so a band needs
        only the rows its flow reaches. Defaults to 0 and image's height.

    Returns:
      Tensor [B, h, W, C] of `image`'s dtype (h = the flow's rows). Works in graph mode
      with unknown H and W. Coordinates are computed in float32 even for float16 images.
    """
    if border not in BORDERS:
        raise ConfigError(f"backward_warp: border must be one of {BORDERS}, got {border!r}")
    if sampling not in SAMPLINGS:
        raise ConfigError(
            f"backward_warp: sampling must be one of {SAMPLINGS}, got {sampling!r}")
    image = tf.convert_to_tensor(image)
    flow = tf.cast(flow, tf.float32)
    shape = tf.shape(image)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    rows = tf.shape(flow)[1]  # h unless the flow is a band of rows
    stored = h  # rows of `image`
    if height is not None:
        h = tf.constant(int(height), tf.int32)

    gy, gx = tf.meshgrid(tf.range(rows, dtype=tf.float32), tf.range(w, dtype=tf.float32),
                         indexing="ij")
    if row_offset:
        gy = gy + tf.cast(row_offset, tf.float32)
    x = _sample_positions(gx[None], flow[..., 0], w, sampling)
    y = _sample_positions(gy[None], flow[..., 1], h, sampling)
    x0f = tf.floor(x)
    y0f = tf.floor(y)
    wx1 = x - x0f
    wy1 = y - y0f
    x0 = tf.cast(x0f, tf.int32)
    y0 = tf.cast(y0f, tf.int32)

    flat = tf.reshape(image, [b, stored * w, c])
    out = 0.0
    for dy_, wy in ((0, 1.0 - wy1), (1, wy1)):
        yi, yvalid = _map_index(y0 + dy_, h, border)
        if source_row0:
            yi = yi - source_row0  # rows of the stored part
        for dx_, wx in ((0, 1.0 - wx1), (1, wx1)):
            xi, xvalid = _map_index(x0 + dx_, w, border)
            weight = wy * wx
            if border == "zeros":
                weight = weight * tf.cast(tf.logical_and(yvalid, xvalid), tf.float32)
            idx = tf.reshape(yi * w + xi, [b, rows * w])
            vals = tf.reshape(tf.gather(flat, idx, batch_dims=1), [b, rows, w, c])
            out = out + vals * tf.cast(weight, image.dtype)[..., None]
    return out


def source_rows(flow, height, sampling="pixel", row_offset=0):
    """(first, end): the rows of a `height`-row map that an "edge"-border
    `backward_warp` by flow [B, h, W, 2] (rows row_offset.. of the grid) reads."""
    dy = tf.cast(flow[..., 1], tf.float32)
    grid = tf.range(tf.shape(flow)[1], dtype=tf.float32)[None, :, None] + float(row_offset)
    y = _sample_positions(grid, dy, height, sampling)
    first = int(tf.floor(tf.reduce_min(y)))
    last = int(tf.floor(tf.reduce_max(y))) + 1
    return max(0, min(first, height - 1)), max(1, min(last, height - 1) + 1)


def resize_flow(flow, height, width):
    """Bilinear resize of a pixel-unit flow [B, H, W, 2] to (height, width), with dx scaled
    by width / W and dy by height / H.

    Half-pixel centres without antialiasing (torch F.interpolate(mode="bilinear",
    align_corners=False)); resizing to the same size returns the flow unchanged. For a
    1-channel map (e.g. a mask) only the spatial resize is applied.
    """
    flow = tf.convert_to_tensor(flow)
    shape = tf.shape(flow)
    resized = tf.image.resize(flow, tf.stack([height, width]), method="bilinear",
                              antialias=False)
    resized = tf.cast(resized, flow.dtype)
    if flow.shape[-1] == 1:
        return resized
    sx = tf.cast(width, tf.float32) / tf.cast(shape[2], tf.float32)
    sy = tf.cast(height, tf.float32) / tf.cast(shape[1], tf.float32)
    scale = tf.cast(tf.stack([sx, sy]), flow.dtype)
    return resized * scale


def remap_bicubic(image, flow):
    """Bicubic backward warp of one numpy image: out(y, x) = image(y + dy, x + dx).

    Args:
      image: float array [H, W, C] (or [H, W]).
      flow: array [H, W, 2], flow[..., 0] = dx, flow[..., 1] = dy (as `backward_warp`).

    Returns:
      (warped float32 array of image's shape, inside bool [H, W]): `inside` is False where
      the sample point left the image; there the border pixel is repeated and callers
      usually replace it.
    """
    import cv2

    image = np.asarray(image, np.float32)
    flow = np.asarray(flow, np.float32)
    h, w = image.shape[:2]
    if flow.shape != (h, w, 2):
        raise ConfigError(f"remap_bicubic: flow must be [{h},{w},2], got {flow.shape}")
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = gx + flow[..., 0], gy + flow[..., 1]
    warped = cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_CUBIC,
                       borderMode=cv2.BORDER_REPLICATE)
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    return warped.reshape(image.shape), inside
