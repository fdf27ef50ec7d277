"""Procedural HDR radiance maps for the synthetic scene generator.

Everything here is numpy/OpenCV on the CPU and deterministic given a
`numpy.random.Generator`. Radiance is linear RGB float32 [H, W, 3] in the units of
the *shortest* exposure (t = 1): a value of 1 saturates the short frame, so with the
default -2/0/+2 EV bracket the reference (t = 4) saturates at 0.25 and the long frame
(t = 16) at 1/16. The maps are built so that light sources and bright sky sit several
thousand times above the darkest shadows, like real bracketed scenes.

Colour, texture and range are calibrated against statistics of real radiance maps
(`hdrkeras.data.scene_stats`, docs/synthetic_data.md): surfaces from a real-world
material palette, 1/f and dead-leaves textures, smooth shading, per-scene black-body
illuminants through an imperfect white balance, light sources and specular glints. The
building blocks (`pink_noise`, `material_color`, `dead_leaves`, `foliage`,
`textured_albedo`, `shading`, `scene_illuminants`, `specular_highlights`) take a
`numpy.random.Generator` and a size so other generators (e.g. video) can reuse them.
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


def pink_noise(rng, height, width, beta=2.0):
    """Gaussian noise with a power spectrum ~ 1/f^beta, [H, W] float32, zero mean, unit std.

    beta = 2 is the spectrum of natural images (van der Schaaf & van Hateren 1996); used
    for shading, albedo variation and cloud structure at all scales at once.
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fy ** 2 + fx ** 2)
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0)
    amp[0, 0] = 0.0
    spec = amp * (rng.standard_normal((height, fx.shape[1])) +
                  1j * rng.standard_normal((height, fx.shape[1])))
    out = np.fft.irfft2(spec, s=(height, width))
    return ((out - out.mean()) / max(float(out.std()), 1e-12)).astype(np.float32)


def blackbody_rgb(temperature):
    """Linear sRGB colour of a black body at `temperature` kelvin, [3] float32, white
    balanced so 6500 K is (1, 1, 1) and scaled to unit luminance.

    Planck's law integrated against the CIE 1931 observer (the multi-lobe Gaussian fit of
    Wyman, Sloan & Shirley 2013), then XYZ -> linear sRGB.
    """
    def xyz(t):
        lam = np.arange(380.0, 781.0, 5.0)
        def g(mu, s1, s2):
            s = np.where(lam < mu, s1, s2)
            return np.exp(-0.5 * ((lam - mu) / s) ** 2)
        xb = 1.056 * g(599.8, 37.9, 31.0) + 0.362 * g(442.0, 16.0, 26.7) - 0.065 * g(501.1, 20.4, 26.2)
        yb = 0.821 * g(568.8, 46.9, 40.5) + 0.286 * g(530.9, 16.3, 31.1)
        zb = 1.217 * g(437.0, 11.8, 36.0) + 0.681 * g(459.0, 26.0, 13.8)
        lm = lam * 1e-9
        planck = 1.0 / (lm ** 5 * (np.exp(1.4388e-2 / (lm * t)) - 1.0))
        return np.array([np.sum(planck * xb), np.sum(planck * yb), np.sum(planck * zb)])

    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415],
                  [0.0557, -0.2040, 1.0570]])
    rgb = np.maximum(m @ xyz(float(temperature)), 0.0) / np.maximum(m @ xyz(6500.0), 1e-30)
    return (rgb / float(rgb @ np.array([0.2126, 0.7152, 0.0722]))).astype(np.float32)


# Materials: (hue range in degrees, chroma range, albedo range, probability). Hue 0 = red,
# 120 = green, 240 = blue on the linear-RGB chroma circle; chroma is the relative
# deviation from grey (0 = grey, 1 = one channel near 0).
MATERIALS = {
    "foliage": ((75, 135), (0.45, 0.85), (0.04, 0.25), 0.22),
    "earth": ((15, 50), (0.25, 0.65), (0.08, 0.40), 0.18),
    "brick": ((0, 25), (0.45, 0.85), (0.08, 0.35), 0.10),
    "stone": ((0, 360), (0.0, 0.15), (0.08, 0.60), 0.22),
    "paint": ((0, 360), (0.40, 0.95), (0.06, 0.80), 0.28),
}


def material_color(rng, kind=None):
    """A surface albedo, linear RGB [3] float32 in (0, 1), from a real-world palette
    (`MATERIALS`: foliage, earth, brick, stone, paint) chosen at random unless `kind`."""
    if kind is None:
        names = list(MATERIALS)
        p = np.array([MATERIALS[k][3] for k in names])
        kind = names[int(rng.choice(len(names), p=p / p.sum()))]
    hue, chroma, albedo, _ = MATERIALS[kind]
    h = np.deg2rad(rng.uniform(*hue))
    d = np.cos(h - np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3]))  # zero-mean hue direction
    c = rng.uniform(*chroma)
    rgb = 1.0 + c * d / max(float(-d.min()), 1e-6) * 0.95
    grey = rng.uniform(*albedo)
    return np.clip(grey * rgb / rgb.mean(), 0.005, 0.95).astype(np.float32)


def dead_leaves(rng, height, width, colors, radius=(2.0, 20.0), count=None, alpha=3.0):
    """Occluding discs of power-law radii (the dead-leaves model: scale-invariant, with the
    edge statistics of natural images), [H, W, 3] float32.

    `colors(rng, n)` returns n RGB rows; radii follow p(r) ~ r^-alpha in `radius`.
    """
    r0, r1 = radius
    if count is None:
        count = int(3.0 * height * width / (np.pi * r0 * r1)) + 8
    u = rng.random(count)
    a1 = 1.0 - alpha
    radii = (r0 ** a1 + u * (r1 ** a1 - r0 ** a1)) ** (1.0 / a1)
    cols = colors(rng, count)
    canvas = np.repeat(cols[:1][None], height * width, 0).reshape(height, width, 3).copy()
    cy = rng.uniform(0, height, count)
    cx = rng.uniform(0, width, count)
    ratio = rng.uniform(0.4, 1.0, count)
    ang = rng.uniform(0, 180, count)
    for k in np.argsort(-radii):  # large first, so small leaves land on top
        cv2.ellipse(canvas, (int(cx[k]), int(cy[k])),
                    (max(1, int(radii[k])), max(1, int(radii[k] * ratio[k]))), float(ang[k]),
                    0, 360, tuple(float(v) for v in cols[k]), -1, cv2.LINE_AA)
    return canvas


def foliage(rng, height, width):
    """Leaves: green-yellow dead leaves with per-leaf brightness spread over ~30x (sun
    flecks next to the dark gaps of a canopy); albedo x light factor, [H, W, 3]."""
    def colors(r, n):
        base = np.stack([material_color(r, "foliage") for _ in range(min(n, 24))])
        pick = base[r.integers(0, len(base), n)]
        light = np.exp(r.normal(-0.6, 1.0, n))[:, None]
        return np.clip(pick * light, 1e-4, 3.0).astype(np.float32)
    size = min(height, width)
    return dead_leaves(rng, height, width, colors,
                       radius=(max(1.5, size / 120), max(4.0, size / 20)))


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


def textured_albedo(rng, height, width):
    """Surface reflectance [H, W, 3] in (0, 1) of one material from the real-world palette.

    One time in three a man-made pattern (stripes, checks, bricks) mixes two materials;
    otherwise a natural surface: a 1/f albedo variation, with patches of a second material
    (dirt, moss, paint wear) where a second 1/f field crosses a threshold.
    """
    c1, c2 = material_color(rng), material_color(rng)
    if rng.random() < 1 / 3:
        pattern = _pattern(rng, height, width)[..., None]
    else:
        field = pink_noise(rng, height, width, beta=rng.uniform(2.0, 3.0))
        cut = rng.uniform(0.6, 2.0)
        pattern = np.clip((field - cut) / 0.3, 0.0, 1.0)[..., None]
    grain = pink_noise(rng, height, width, beta=rng.uniform(1.8, 2.4))
    spread = rng.uniform(0.15, 0.45)
    albedo = (c1 * (1 - pattern) + c2 * pattern) * np.exp(spread * grain)[..., None]
    return np.clip(albedo, 0.005, 0.95).astype(np.float32)


def _desaturate(rgb, keep):
    """Moves colours [..., 3] towards their grey by 1 - `keep` (keep = 1: unchanged)."""
    grey = rgb.mean(axis=-1, keepdims=True)
    return (grey + keep * (rgb - grey)).astype(np.float32)


def shading(rng, height, width, strength=0.35):
    """Smooth multiplicative shading [H, W] around 1 (curved surfaces, soft occlusion):
    exp of a steep 1/f^3 field, so it varies slowly but at all scales."""
    return np.exp(strength * pink_noise(rng, height, width, beta=3.2)).astype(np.float32)


def scene_illuminants(rng, indoor):
    """Per-scene light colours as the white-balanced camera records them.

    Returns (main, secondary), linear RGB [3] of unit luminance: outdoors the sun
    (3300-6500 K) and the blue sky light in shade (8000-16000 K); indoors the room light
    (tungsten 2600-3400 K or LED 3500-6000 K) and daylight through windows (5500-7500 K).
    The camera's auto white balance settles between the two (outdoors near the sun,
    indoors pulled towards the bright windows), with an error of about 10% in temperature: scenes keep a cast and mixed lighting keeps its
    colour.
    """
    if indoor:
        t_main = rng.uniform(2600, 3400) if rng.random() < 0.6 else rng.uniform(3500, 6000)
        t_second = rng.uniform(5500, 7500)
    else:
        t_main = rng.uniform(3300, 6500)
        t_second = rng.uniform(8000, 16000)
    # Auto white balance settles between the lights; indoors the bright windows pull it
    # towards daylight (a grey-world estimate weighs pixels by their radiance).
    w = rng.uniform(0.4, 0.8) if indoor else rng.uniform(0.0, 0.2)
    t_wb = t_main ** (1 - w) * t_second ** w * float(np.exp(rng.normal(0.0, 0.1)))
    wb = blackbody_rgb(t_wb)
    main, second = blackbody_rgb(t_main) / wb, blackbody_rgb(t_second) / wb
    luma = np.array([0.2126, 0.7152, 0.0722], np.float32)
    return (main / float(main @ luma)).astype(np.float32), \
        (second / float(second @ luma)).astype(np.float32)


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


def _lamp(rng, rad, center, radius, level, color=None):
    """Adds a light source: a saturating disc plus a soft glow around it."""
    height, width = rad.shape[:2]
    yy, xx = _coords(height, width)
    d = np.sqrt((xx - center[0]) ** 2 + (yy - center[1]) ** 2)
    if color is None:
        color = blackbody_rgb(rng.uniform(2700, 6500)) / blackbody_rgb(4500) \
            if rng.random() < 0.9 else material_color(rng, "paint")  # a sign or signal
    color = np.asarray(color, np.float32) / max(float(np.max(color)), 1e-6)
    disc = np.clip(radius + 0.5 - d, 0.0, 1.0)
    _blend(rad, level * color, disc)
    glow = np.exp(-np.maximum(d - radius, 0.0) / (radius * rng.uniform(1.5, 4.0)))
    rad += (0.08 * level * glow)[..., None] * color


def specular_highlights(rng, rad, mask, level, count):
    """Adds `count` small glints (sun or lamp reflected by glossy surfaces) inside `mask`
    [H, W] > 0.5, at `level` x (0.3..1) radiance: the brightest non-emitters of a scene."""
    ys, xs = np.nonzero(mask > 0.5)
    if len(ys) == 0:
        return rad
    for k in rng.integers(0, len(ys), count):
        _lamp(rng, rad, (xs[k], ys[k]), rng.uniform(0.6, 2.0), level * rng.uniform(0.3, 1.0),
              color=np.ones(3, np.float32))
    return rad


def _sky(rng, height, width, horizon):
    """Sky radiance [H, W, 3]: clear blue, hazy or sunset gradient with 1/f clouds."""
    yy, _ = _coords(height, width)
    zenith = rng.uniform(*SKY)
    mood = rng.random()
    if mood < 0.55:  # clear: deep blue overhead, paler at the horizon
        top = np.array([rng.uniform(0.25, 0.5), rng.uniform(0.5, 0.7), 1.0], np.float32)
        low = np.array([0.75, 0.88, 1.0], np.float32)
    elif mood < 0.8:  # hazy / overcast
        top = np.array([0.8, 0.87, 1.0], np.float32)
        low = np.array([0.95, 0.97, 1.0], np.float32)
    else:  # low sun: blue above, orange at the horizon
        top = np.array([0.35, 0.5, 1.0], np.float32)
        low = np.array([1.0, rng.uniform(0.55, 0.8), rng.uniform(0.25, 0.5)], np.float32)
    top = zenith * top / top.mean()
    bottom = zenith * rng.uniform(1.5, 2.5) * low / low.mean()
    t = np.clip(yy / max(horizon, 1.0), 0.0, 1.0)[..., None] ** 0.7
    sky = top * (1 - t) + bottom * t
    field = pink_noise(rng, height, width, beta=rng.uniform(2.6, 3.4))
    cover = np.clip((field - rng.uniform(-0.3, 1.2)) / 0.5, 0.0, 1.0)[..., None]
    tone = np.exp(0.35 * pink_noise(rng, height, width, beta=2.6))[..., None]
    cloud_level = zenith * rng.uniform(1.2, 3.0) * tone * np.array([1.0, 1.0, 1.02], np.float32)
    return (sky * (1 - cover) + cloud_level * cover).astype(np.float32)


def _tree(rng, rad, sky_mask, sun_rgb, shade_rgb, height, width, horizon):
    """A tree: a foliage crown (dead leaves) on a dark trunk, in place."""
    size = rng.uniform(0.25, 0.6) * min(height, width)
    cx = rng.uniform(0, width)
    cy = horizon - rng.uniform(-0.1, 0.35) * height
    crown = _shape_mask(rng, height, width, (cx, cy), size, kind=2)
    crown = np.clip(crown * (1.0 + 0.8 * pink_noise(rng, height, width, beta=1.5)), 0, 1)
    trunk = np.zeros((height, width), np.float32)
    tw = max(2, int(size * rng.uniform(0.05, 0.12)))
    trunk[int(max(cy, 0)):, int(cx - tw / 2):int(cx + tw / 2) + 1] = 1.0
    trunk *= 1.0 - crown
    bark = material_color(rng, "earth") * 0.4
    _blend(rad, bark * shade_rgb, trunk)
    mix = rng.uniform(0.3, 0.8)  # fraction of the crown that sees the sun
    light = sun_rgb * mix + shade_rgb * (1 - mix)
    _blend(rad, foliage(rng, height, width) * light, crown)
    sky_mask *= 1 - np.maximum(crown, trunk)


def _outdoor(rng, height, width):
    sun = rng.uniform(*SUN_LIGHT)
    shade = sun * rng.uniform(*SHADE_RATIO)
    sun_col, sky_col = scene_illuminants(rng, indoor=False)
    sun_rgb, shade_rgb = sun * sun_col, shade * sky_col
    horizon = rng.uniform(0.3, 0.55) * height
    rad = _sky(rng, height, width, horizon)
    sky_mask = np.ones((height, width), np.float32)
    if rng.random() < 0.5:  # the sun (or a bright reflection) in frame
        _lamp(rng, rad, (rng.uniform(0, width), rng.uniform(0, horizon * 0.8)),
              rng.uniform(0.01, 0.03) * min(height, width) + 1.5, rng.uniform(*LAMP),
              color=sun_col)

    # Distant hills or tree line at the horizon: foliage in sun or haze.
    if rng.random() < 0.5:
        ridge = horizon + 0.06 * height * pink_noise(rng, 1, width, beta=2.5)[0]
        yy, _ = _coords(height, width)
        hill = np.clip(yy - ridge[None, :] + 0.5, 0.0, 1.0)
        haze = rng.uniform(0.3, 0.8)
        _blend(rad, foliage(rng, height, width) * sun_rgb * haze + rad.mean((0, 1)) * 0.2, hill)
        sky_mask *= 1 - hill

    # Skyline: buildings of random widths and heights, facades sunlit or in shade.
    x = -rng.uniform(0, 0.1) * width
    gaps = rng.uniform(0.0, 0.6)
    while x < width:
        bw = rng.uniform(0.12, 0.4) * width
        if rng.random() < gaps:  # an open gap: the sky and hills stay visible
            x += bw * 0.7
            continue
        top = horizon - rng.uniform(-0.05, 0.35) * height
        x0, x1, y0 = int(max(x, 0)), int(min(x + bw, width)), int(max(top, 0))
        if x1 > x0 and y0 < height:
            h, w = height - y0, x1 - x0
            albedo = textured_albedo(rng, h, w)
            light = sun_rgb if rng.random() < 0.6 else shade_rgb
            ramp = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), w,
                               dtype=np.float32)[None, :]
            facade = albedo * light * (ramp * shading(rng, h, w, 0.2))[..., None]
            if rng.random() < 0.7:  # windows: dark glass or reflected sky
                wy, wx = rng.uniform(8, 20), rng.uniform(8, 20)
                yy, xx = _coords(h, w)
                win = (np.mod(yy, wy) > wy * 0.4) & (np.mod(xx, wx) > wx * 0.35)
                if rng.random() < 0.5:  # reflects the sky
                    glass = rng.uniform(0.05, 0.6) * rad[:y0 + 1].mean((0, 1))
                else:
                    glass = shade_rgb * 0.05
                facade = np.where(win[..., None], glass.astype(np.float32), facade)
                if rng.random() < 0.4:  # the sun glints in a few panes
                    specular_highlights(rng, facade, win.astype(np.float32),
                                        rng.uniform(*LAMP), int(rng.integers(1, 4)))
            rad[y0:, x0:x1] = facade
            sky_mask[y0:, x0:x1] = 0.0
        x += bw

    for _ in range(int(rng.integers(0, 3))):
        _tree(rng, rad, sky_mask, sun_rgb, shade_rgb, height, width, horizon)

    # Ground: textured, sunlit, with a gradient towards the camera.
    ground_y = int(rng.uniform(0.65, 0.9) * height)
    gh = height - ground_y
    if gh > 0:
        albedo = foliage(rng, gh, width) if rng.random() < 0.3 else textured_albedo(rng, gh, width)
        ramp = np.linspace(0.7, 1.2, gh, dtype=np.float32)[:, None, None]
        rad[ground_y:] = albedo * sun_rgb * ramp
        sky_mask[ground_y:] = 0.0

    # Static occluders (poles, bushes, signs): silhouettes against the sky.
    for _ in range(int(rng.integers(2, 6))):
        size = rng.uniform(0.1, 0.45) * min(height, width)
        center = (rng.uniform(0, width), rng.uniform(0.2, 1.0) * height)
        alpha = _shape_mask(rng, height, width, center, size)
        light = sun_rgb if rng.random() < 0.5 else shade_rgb
        surface = foliage(rng, height, width) if rng.random() < 0.35 else \
            textured_albedo(rng, height, width) * shading(rng, height, width)[..., None]
        _blend(rad, surface * light, alpha)
        sky_mask *= 1 - alpha

    # Cast shadows on everything but the sky: sunlight replaced by blue sky light.
    for _ in range(int(rng.integers(1, 4))):
        size = rng.uniform(0.3, 0.8) * min(height, width)
        center = (rng.uniform(0, width), rng.uniform(0.5, 1.1) * height)
        alpha = _shape_mask(rng, height, width, center, size, kind=2)
        alpha *= 1 - sky_mask
        rad *= 1 - alpha[..., None] * (1 - shade_rgb / sun_rgb)

    # Dark openings (doorways, arcades, tunnel mouths): the low end of the range.
    for _ in range(int(rng.integers(2, 5))):
        dh = int(rng.uniform(0.1, 0.3) * height)
        dw = int(rng.uniform(0.05, 0.15) * width)
        y0 = int(rng.uniform(horizon, height - dh)) if height - dh > horizon else height - dh
        x0 = int(rng.uniform(0, width - dw))
        inside = textured_albedo(rng, dh, dw) * shade_rgb * rng.uniform(0.02, 0.2)
        rad[y0:y0 + dh, x0:x0 + dw] = inside
        sky_mask[y0:y0 + dh, x0:x0 + dw] = 0.0

    for _ in range(int(rng.integers(1, 4))):  # street lamps, lit signs, reflections
        _lamp(rng, rad, (rng.uniform(0, width), rng.uniform(0.2, 0.9) * height),
              rng.uniform(1.0, 3.0), rng.uniform(*LAMP))
    return rad, {"kind": "outdoor", "light": float(sun), "shade": float(shade),
                 "light_rgb": sun_col, "shade_rgb": sky_col}


def _indoor(rng, height, width):
    light = 10 ** rng.uniform(np.log10(INDOOR_LIGHT[0]), np.log10(INDOOR_LIGHT[1]))
    room_col, day_col = scene_illuminants(rng, indoor=True)
    falloff = fractal_noise(rng, height, width, octaves=2, base_cells=2)
    illum = light * (0.3 + 1.0 * falloff)[..., None] * room_col
    # Walls and floor: large areas, so rarely a saturated colour.
    wall = _desaturate(textured_albedo(rng, height, width), rng.uniform(0.2, 0.7))
    rad = wall * illum * shading(rng, height, width)[..., None]
    floor_y = int(rng.uniform(0.6, 0.85) * height)
    floor = _desaturate(textured_albedo(rng, height - floor_y, width), rng.uniform(0.3, 1.0))
    rad[floor_y:] = floor * illum[floor_y:] * 0.8

    # Windows onto a bright outdoor view: the high end of the dynamic range.
    for _ in range(int(rng.integers(1, 3))):
        wh = int(rng.uniform(0.25, 0.5) * height)
        ww = int(rng.uniform(0.15, 0.35) * width)
        y0 = int(rng.uniform(0.05, 0.4) * height)
        x0 = int(rng.uniform(0, width - ww))
        horizon = wh * rng.uniform(0.4, 1.0)
        view = _sky(rng, wh, ww, horizon)
        if rng.random() < 0.6:  # trees outside
            yy, _ = _coords(wh, ww)
            edge = horizon + 0.1 * wh * pink_noise(rng, 1, ww, beta=2.0)[0]
            below = np.clip(yy - edge[None, :], 0.0, 1.0)
            _blend(view, foliage(rng, wh, ww) * rng.uniform(0.05, 0.15) * day_col, below)
        view *= rng.uniform(1.0, 2.0) * day_col
        bars = np.zeros((wh, ww), bool)
        bars[:, ww // 2 - 1:ww // 2 + 1] = True
        bars[wh // 2 - 1:wh // 2 + 1, :] = True
        bars[:2], bars[-2:], bars[:, :2], bars[:, -2:] = True, True, True, True
        view[bars] = 0.3 * light * room_col
        rad[y0:y0 + wh, x0:x0 + ww] = view
        # Sunlight through the window lands on the floor as a bright patch.
        if rng.random() < 0.7:
            patch = _shape_mask(rng, height, width,
                                (x0 + ww / 2 + rng.uniform(-1, 1) * ww, rng.uniform(floor_y, height)),
                                rng.uniform(0.2, 0.4) * min(height, width), kind=1)
            boost = rng.uniform(0.05, 0.2) / light
            rad *= 1 + patch[..., None] * boost * day_col / room_col

    # Furniture: dead-leaves shapes, some deep in shadow, some glossy.
    for _ in range(int(rng.integers(3, 8))):
        size = rng.uniform(0.1, 0.4) * min(height, width)
        center = (rng.uniform(0, width), rng.uniform(0.3, 1.0) * height)
        alpha = _shape_mask(rng, height, width, center, size)
        dim = light * (rng.uniform(0.05, 0.3) if rng.random() < 0.4 else rng.uniform(0.5, 1.2))
        surface = textured_albedo(rng, height, width) * shading(rng, height, width)[..., None]
        if rng.random() < 0.3:
            specular_highlights(rng, surface, alpha, rng.uniform(0.2, 0.6) / dim,
                                int(rng.integers(1, 3)))
        _blend(rad, surface * dim * room_col, alpha)

    for _ in range(int(rng.integers(0, 3))):  # lamps
        _lamp(rng, rad, (rng.uniform(0, width), rng.uniform(0.1, 0.7) * height),
              rng.uniform(1.5, 0.03 * min(height, width) + 2.0), rng.uniform(*LAMP),
              color=room_col)
    return rad, {"kind": "indoor", "light": float(light), "shade": float(light * 0.1),
                 "light_rgb": room_col, "shade_rgb": room_col}


def procedural_radiance(rng, height, width):
    """A random static HDR scene (no moving objects).

    Args:
      rng: numpy.random.Generator.
      height, width: int. Size of the map.

    Returns:
      (radiance, info): radiance float32 [H, W, 3] linear RGB in short-exposure units
      (see module docstring); info dict with `kind` ("outdoor"/"indoor"), `light`
      (irradiance of lit surfaces), `shade` (irradiance in shadow) and their colours
      `light_rgb`, `shade_rgb` ([3], unit luminance), used to light the foreground
      objects consistently.
    """
    if rng.random() < 0.6:
        rad, info = _outdoor(rng, height, width)
    else:
        rad, info = _indoor(rng, height, width)
    return np.maximum(rad, 0.0).astype(np.float32), info


def object_sprite(rng, size, info):
    """A textured foreground object with its own radiance.

    Returns (premultiplied radiance float32 [S, S, 3], alpha float32 [S, S]) with
    S = ceil(size); lit like the scene (`info["light"]` or `info["shade"]`, coloured by
    `info["light_rgb"]` / `info["shade_rgb"]` when present), glossy (a specular glint)
    one time in three, or emissive (a lamp, a screen) one time in six.
    """
    s = int(np.ceil(size))
    alpha = _shape_mask(rng, s, s, (s / 2, s / 2), size * 0.95)
    if rng.random() < 1 / 6:
        level = rng.uniform(0.2, 1.0) * LAMP[1] * 0.5
        tint = material_color(rng, "paint") if rng.random() < 0.5 else np.ones(3, np.float32)
        rad = level * (0.6 + 0.4 * textured_albedo(rng, s, s)) * (tint / tint.max())
    else:
        lit = rng.random() < 0.6
        light = info["light"] if lit else info["shade"]
        color = info.get("light_rgb" if lit else "shade_rgb", np.ones(3, np.float32))
        ramp = np.linspace(rng.uniform(0.5, 0.9), rng.uniform(1.0, 1.4), s, dtype=np.float32)
        shade = ramp[:, None] if rng.random() < 0.5 else ramp[None, :]
        shade = shade * shading(rng, s, s, 0.25)
        rad = textured_albedo(rng, s, s) * light * shade[..., None] * color
        if rng.random() < 1 / 3:
            specular_highlights(rng, rad, alpha, light * rng.uniform(5.0, 30.0), 1)
    return (rad * alpha[..., None]).astype(np.float32), alpha.astype(np.float32)


def place_sprite(prem, alpha, center, angle, height, width):
    """Warps a square sprite (premultiplied radiance `prem` [s, s, 3], `alpha` [s, s]) so its
    centre lands at `center` (x, y) rotated by `angle` degrees, on a height x width canvas."""
    s = alpha.shape[0]
    m = cv2.getRotationMatrix2D((s / 2, s / 2), angle, 1.0)
    m[:, 2] += np.asarray(center) - s / 2
    kw = dict(flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return (cv2.warpAffine(prem, m, (width, height), **kw),
            cv2.warpAffine(alpha, m, (width, height), **kw))
