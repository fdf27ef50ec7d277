"""Procedural HDR radiance maps for the synthetic scene generator.

Everything here is numpy/OpenCV on the CPU and deterministic given a
`numpy.random.Generator`. Radiance is linear RGB float32 [H, W, 3] in the units of
the *shortest* exposure (t = 1): a value of 1 saturates the short frame, so with the
default -2/0/+2 EV bracket the reference (t = 4) saturates at 0.25 and the long frame
(t = 16) at 1/16. The maps are built so that light sources and bright sky sit several
thousand times above the darkest shadows, like real bracketed scenes.
"""

import cv2
import numpy as np

# Radiance levels, in short-exposure units (1.0 = short frame saturates).
SUN_LIGHT = (0.04, 0.12)       # irradiance on sunlit surfaces (albedo 1)
SHADE_RATIO = (0.008, 0.04)    # shade / sunlight
INDOOR_LIGHT = (0.003, 0.025)  # irradiance on indoor walls
SKY = (0.06, 0.3)              # zenith sky radiance
LAMP = (0.6, 2.5)              # light sources (saturate even the short frame at the top end)


def fractal_noise(rng, height, width, octaves=5, base_cells=3, persistence=0.55):
    """Multi-octave value noise, [H, W] float32 rescaled to [0, 1]: texture at several scales."""
    out = np.zeros((height, width), np.float32)
    amp, total = 1.0, 0.0
    longest = max(height, width)
    for octave in range(octaves):
        cells = base_cells * 2 ** octave
        gh = max(2, int(round(cells * height / longest)) + 1)
        gw = max(2, int(round(cells * width / longest)) + 1)
        grid = rng.random((gh, gw), dtype=np.float32)
        out += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= persistence
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def _coords(height, width):
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return yy, xx


def _pattern(rng, height, width):
    """A structured pattern in [0, 1], [H, W]: stripes, checks, bricks, or smooth noise."""
    yy, xx = _coords(height, width)
    kind = rng.integers(0, 4)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    if kind == 0:  # stripes with sharp-ish edges
        period = rng.uniform(4, 28)
        return 0.5 + 0.5 * np.tanh(3.0 * np.sin(2 * np.pi * u / period)).astype(np.float32)
    if kind == 1:  # checkerboard
        a, b = rng.uniform(5, 30, size=2)
        return ((np.floor(u / a) + np.floor(v / b)) % 2).astype(np.float32)
    if kind == 2:  # bricks with mortar lines
        bh = rng.uniform(5, 16)
        bw = bh * rng.uniform(1.8, 3.2)
        row = np.floor(yy / bh)
        shifted = xx + (row % 2) * bw / 2
        mortar = (np.mod(yy, bh) < 1.2) | (np.mod(shifted, bw) < 1.2)
        brick = fractal_noise(rng, height, width, octaves=3, base_cells=24)
        return np.where(mortar, 0.0, 0.55 + 0.45 * brick).astype(np.float32)
    return fractal_noise(rng, height, width, octaves=5, base_cells=int(rng.integers(2, 8)))


def _color(rng, lo=0.05, hi=0.85):
    """A random albedo colour (RGB in [lo, hi]) with a mild saturation."""
    grey = rng.uniform(lo, hi)
    tint = rng.uniform(0.6, 1.4, size=3)
    return np.clip(grey * tint / tint.mean(), 0.01, 0.95).astype(np.float32)


def textured_albedo(rng, height, width):
    """Surface reflectance [H, W, 3] in (0, 1): two colours mixed by a pattern, plus grain."""
    pattern = _pattern(rng, height, width)[..., None]
    c1, c2 = _color(rng), _color(rng)
    grain = fractal_noise(rng, height, width, octaves=4, base_cells=int(rng.integers(8, 40)))
    albedo = (c1 * (1 - pattern) + c2 * pattern) * (0.7 + 0.6 * grain[..., None])
    return np.clip(albedo, 0.01, 0.95).astype(np.float32)


def _shape_mask(rng, height, width, center, size, kind=None):
    """Antialiased alpha [H, W] in [0, 1] of a random shape (ellipse, box, polygon, blob)."""
    ss = 4  # supersampling for smooth edges
    canvas = np.zeros((height * ss, width * ss), np.uint8)
    cx, cy = center[0] * ss, center[1] * ss
    r = size * ss / 2
    kind = int(rng.integers(0, 4)) if kind is None else kind
    if kind == 0:
        axes = (int(r * rng.uniform(0.5, 1.0)), int(r * rng.uniform(0.5, 1.0)))
        cv2.ellipse(canvas, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 255, -1)
    elif kind == 1:
        w, h = r * rng.uniform(0.4, 1.0), r * rng.uniform(0.4, 1.0)
        box = cv2.boxPoints(((cx, cy), (2 * w, 2 * h), rng.uniform(0, 90)))
        cv2.fillPoly(canvas, [np.round(box).astype(np.int32)], 255)
    elif kind == 2:
        n = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = r * rng.uniform(0.45, 1.0, n)
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], -1)
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 255)
    else:  # two overlapping ellipses: a "body and head" blob
        cv2.ellipse(canvas, (int(cx), int(cy + r * 0.3)),
                    (int(r * 0.45), int(r * 0.65)), 0, 0, 360, 255, -1)
        cv2.circle(canvas, (int(cx), int(cy - r * 0.55)), int(r * 0.3), 255, -1)
    mask = cv2.resize(canvas.astype(np.float32) / 255.0, (width, height),
                      interpolation=cv2.INTER_AREA)
    return np.clip(mask, 0.0, 1.0)


def _blend(dst, value, alpha):
    """Over-composites `value` ([H,W,3] or [3]) onto `dst` with alpha [H,W], in place."""
    a = alpha[..., None]
    dst *= 1 - a
    dst += a * value
    return dst


def _lamp(rng, rad, center, radius, level):
    """Adds a light source: a saturating disc plus a soft glow around it."""
    height, width = rad.shape[:2]
    yy, xx = _coords(height, width)
    d = np.sqrt((xx - center[0]) ** 2 + (yy - center[1]) ** 2)
    color = np.array([1.0, rng.uniform(0.8, 1.0), rng.uniform(0.55, 1.0)], np.float32)
    disc = np.clip(radius + 0.5 - d, 0.0, 1.0)
    _blend(rad, level * color, disc)
    glow = np.exp(-np.maximum(d - radius, 0.0) / (radius * rng.uniform(1.5, 4.0)))
    rad += (0.08 * level * glow)[..., None] * color


def _sky(rng, height, width, horizon):
    """Sky radiance [H, W, 3]: zenith-to-horizon gradient with clouds."""
    yy, _ = _coords(height, width)
    zenith = rng.uniform(*SKY)
    top = zenith * np.array([0.55, 0.75, 1.0], np.float32)
    bottom = zenith * rng.uniform(1.5, 2.5) * np.array([0.95, 0.97, 1.0], np.float32)
    t = np.clip(yy / max(horizon, 1.0), 0.0, 1.0)[..., None] ** 0.7
    sky = top * (1 - t) + bottom * t
    clouds = fractal_noise(rng, height, width, octaves=6, base_cells=3)
    cover = np.clip((clouds - rng.uniform(0.45, 0.75)) / 0.15, 0.0, 1.0)[..., None]
    cloud_level = zenith * rng.uniform(1.2, 3.0) * (0.6 + 0.4 * clouds[..., None])
    return (sky * (1 - cover) + cloud_level * cover).astype(np.float32)


def _outdoor(rng, height, width):
    sun = rng.uniform(*SUN_LIGHT)
    shade = sun * rng.uniform(*SHADE_RATIO)
    horizon = rng.uniform(0.3, 0.55) * height
    rad = _sky(rng, height, width, horizon)
    sky_mask = np.ones((height, width), np.float32)
    if rng.random() < 0.5:  # the sun (or a bright reflection) in frame
        _lamp(rng, rad, (rng.uniform(0, width), rng.uniform(0, horizon * 0.8)),
              rng.uniform(0.01, 0.03) * min(height, width) + 1.5, rng.uniform(*LAMP))

    # Skyline: buildings of random widths and heights, facades sunlit or in shade.
    x = -rng.uniform(0, 0.1) * width
    while x < width:
        bw = rng.uniform(0.12, 0.4) * width
        top = horizon - rng.uniform(-0.05, 0.35) * height
        x0, x1, y0 = int(max(x, 0)), int(min(x + bw, width)), int(max(top, 0))
        if x1 > x0 and y0 < height:
            h, w = height - y0, x1 - x0
            albedo = textured_albedo(rng, h, w)
            light = sun if rng.random() < 0.6 else shade
            shading = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), w,
                                  dtype=np.float32)[None, :, None]
            facade = albedo * light * shading
            if rng.random() < 0.7:  # windows: dark glass or reflected sky
                wy, wx = rng.uniform(8, 20), rng.uniform(8, 20)
                yy, xx = _coords(h, w)
                win = (np.mod(yy, wy) > wy * 0.4) & (np.mod(xx, wx) > wx * 0.35)
                if rng.random() < 0.5:  # reflects the sky
                    glass = np.full(3, rng.uniform(0.05, 0.6) * rad[:y0 + 1].mean(), np.float32)
                else:
                    glass = np.full(3, shade * 0.05, np.float32)
                facade = np.where(win[..., None], glass, facade)
            rad[y0:, x0:x1] = facade
            sky_mask[y0:, x0:x1] = 0.0
        x += bw

    # Ground: textured, sunlit, with a gradient towards the camera.
    ground_y = int(rng.uniform(0.65, 0.9) * height)
    gh = height - ground_y
    if gh > 0:
        albedo = textured_albedo(rng, gh, width)
        ramp = np.linspace(0.7, 1.2, gh, dtype=np.float32)[:, None, None]
        rad[ground_y:] = albedo * sun * ramp
        sky_mask[ground_y:] = 0.0

    # Static occluders (poles, trees, signs): silhouettes against the sky.
    for _ in range(int(rng.integers(2, 6))):
        size = rng.uniform(0.1, 0.45) * min(height, width)
        center = (rng.uniform(0, width), rng.uniform(0.2, 1.0) * height)
        alpha = _shape_mask(rng, height, width, center, size)
        light = sun if rng.random() < 0.5 else shade
        _blend(rad, textured_albedo(rng, height, width) * light, alpha)
        sky_mask *= 1 - alpha

    # Cast shadows on everything but the sky.
    for _ in range(int(rng.integers(1, 4))):
        size = rng.uniform(0.3, 0.8) * min(height, width)
        center = (rng.uniform(0, width), rng.uniform(0.5, 1.1) * height)
        alpha = _shape_mask(rng, height, width, center, size, kind=2)
        alpha *= 1 - sky_mask
        rad *= (1 - alpha * (1 - shade / sun))[..., None]

    # Dark openings (doorways, arcades, tunnel mouths): the low end of the range.
    for _ in range(int(rng.integers(1, 4))):
        dh = int(rng.uniform(0.1, 0.3) * height)
        dw = int(rng.uniform(0.05, 0.15) * width)
        y0 = int(rng.uniform(horizon, height - dh)) if height - dh > horizon else height - dh
        x0 = int(rng.uniform(0, width - dw))
        inside = textured_albedo(rng, dh, dw) * shade * rng.uniform(0.02, 0.2)
        rad[y0:y0 + dh, x0:x0 + dw] = inside
        sky_mask[y0:y0 + dh, x0:x0 + dw] = 0.0

    for _ in range(int(rng.integers(1, 4))):  # street lamps, lit signs, reflections
        _lamp(rng, rad, (rng.uniform(0, width), rng.uniform(0.2, 0.9) * height),
              rng.uniform(1.0, 3.0), rng.uniform(*LAMP))
    return rad, {"kind": "outdoor", "light": float(sun), "shade": float(shade)}


def _indoor(rng, height, width):
    light = 10 ** rng.uniform(np.log10(INDOOR_LIGHT[0]), np.log10(INDOOR_LIGHT[1]))
    yy, xx = _coords(height, width)
    falloff = fractal_noise(rng, height, width, octaves=2, base_cells=2)
    illum = light * (0.3 + 1.0 * falloff)[..., None]
    rad = textured_albedo(rng, height, width) * illum
    floor_y = int(rng.uniform(0.6, 0.85) * height)
    rad[floor_y:] = textured_albedo(rng, height - floor_y, width) * illum[floor_y:] * 0.8

    # Windows onto a bright outdoor view: the high end of the dynamic range.
    for _ in range(int(rng.integers(1, 3))):
        wh = int(rng.uniform(0.25, 0.5) * height)
        ww = int(rng.uniform(0.15, 0.35) * width)
        y0 = int(rng.uniform(0.05, 0.4) * height)
        x0 = int(rng.uniform(0, width - ww))
        view = _sky(rng, wh, ww, wh * rng.uniform(0.4, 1.0))
        view *= rng.uniform(1.0, 2.0)
        bars = np.zeros((wh, ww), bool)
        bars[:, ww // 2 - 1:ww // 2 + 1] = True
        bars[wh // 2 - 1:wh // 2 + 1, :] = True
        bars[:2], bars[-2:], bars[:, :2], bars[:, -2:] = True, True, True, True
        view[bars] = 0.3 * light
        rad[y0:y0 + wh, x0:x0 + ww] = view
        # Sunlight through the window lands on the floor as a bright patch.
        if rng.random() < 0.7:
            patch = _shape_mask(rng, height, width,
                                (x0 + ww / 2 + rng.uniform(-1, 1) * ww, rng.uniform(floor_y, height)),
                                rng.uniform(0.2, 0.4) * min(height, width), kind=1)
            boost = rng.uniform(0.05, 0.2) / light
            rad *= (1 + patch * boost)[..., None]

    # Furniture: dead-leaves shapes, some deep in shadow.
    for _ in range(int(rng.integers(3, 8))):
        size = rng.uniform(0.1, 0.4) * min(height, width)
        center = (rng.uniform(0, width), rng.uniform(0.3, 1.0) * height)
        alpha = _shape_mask(rng, height, width, center, size)
        dim = light * (rng.uniform(0.05, 0.3) if rng.random() < 0.4 else rng.uniform(0.5, 1.2))
        _blend(rad, textured_albedo(rng, height, width) * dim, alpha)

    for _ in range(int(rng.integers(0, 3))):  # lamps
        _lamp(rng, rad, (rng.uniform(0, width), rng.uniform(0.1, 0.7) * height),
              rng.uniform(1.5, 0.03 * min(height, width) + 2.0), rng.uniform(*LAMP))
    return rad, {"kind": "indoor", "light": float(light), "shade": float(light * 0.1)}


def procedural_radiance(rng, height, width):
    """A random static HDR scene (no moving objects).

    Args:
      rng: numpy.random.Generator.
      height, width: int. Size of the map.

    Returns:
      (radiance, info): radiance float32 [H, W, 3] linear RGB in short-exposure units
      (see module docstring); info dict with `kind` ("outdoor"/"indoor"), `light`
      (irradiance of lit surfaces) and `shade` (irradiance in shadow), used to light
      the foreground objects consistently.
    """
    if rng.random() < 0.6:
        rad, info = _outdoor(rng, height, width)
    else:
        rad, info = _indoor(rng, height, width)
    return np.maximum(rad, 0.0).astype(np.float32), info


def object_sprite(rng, size, info):
    """A textured foreground object with its own radiance.

    Returns (premultiplied radiance float32 [S, S, 3], alpha float32 [S, S]) with
    S = ceil(size); lit like the scene (`info["light"]` or `info["shade"]`), or
    emissive (a lamp, a screen) one time in six.
    """
    s = int(np.ceil(size))
    alpha = _shape_mask(rng, s, s, (s / 2, s / 2), size * 0.95)
    if rng.random() < 1 / 6:
        level = rng.uniform(0.2, 1.0) * LAMP[1] * 0.5
        rad = level * (0.6 + 0.4 * textured_albedo(rng, s, s))
    else:
        light = info["light"] if rng.random() < 0.6 else info["shade"]
        ramp = np.linspace(rng.uniform(0.5, 0.9), rng.uniform(1.0, 1.4), s, dtype=np.float32)
        shading = ramp[:, None] if rng.random() < 0.5 else ramp[None, :]
        rad = textured_albedo(rng, s, s) * light * shading[..., None]
    return (rad * alpha[..., None]).astype(np.float32), alpha.astype(np.float32)
