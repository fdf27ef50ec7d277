"""Image statistics that say whether HDR radiance looks like the real world.

Used to calibrate the synthetic generator (`hdrkeras.data.procedural`) against real
radiance maps and to pin it in the tests: a model trained on grey, flat or low-range
scenes learns a grey, flat, low-range world. All functions take linear HDR float
[H, W, 3] (any scale: every statistic is scale invariant) and return plain floats.
Targets and their sources are in docs/synthetic_data.md.
"""

import numpy as np

# Rec. 709 luminance weights (linear RGB).
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
# An auto-exposure keys the median luminance to 18% grey; "clipped" counts pixels whose
# brightest channel then reaches 1. Comparable between radiance maps of any scale.
KEY = 0.18
# "Light" pixels: at least this many times the median luminance (emitters, sun, speculars).
LIGHT_RATIO = 100.0
STAT_NAMES = ("saturation", "illuminant_cast", "dr_log10", "clipped", "light_fraction",
              "spectrum_slope", "gradient_kurtosis")


def luminance(hdr):
    """[H, W, 3] linear RGB -> [H, W] Rec. 709 luminance."""
    return np.asarray(hdr, np.float32) @ LUMA


def saturation(hdr):
    """Colourfulness: sum over pixels of mean_c |c - grey| over the sum of grey, with
    grey = mean(R, G, B).

    The measure of issue 18 (0.09, 0.14, 0.30 on three public radiance maps): a ratio of
    sums, so bright regions weigh by their radiance, as they do in a tonemapped picture's
    impression and in any loss on linear HDR.
    """
    hdr = np.maximum(np.asarray(hdr, np.float64), 0.0)
    grey = hdr.mean(axis=-1, keepdims=True)
    total = float(grey.sum())
    return float(np.abs(hdr - grey).mean(axis=-1).sum() / total) if total > 0 else 0.0


def illuminant_cast(hdr):
    """Colour of the whole picture (grey-world): mean_c |m_c - mean(m)| / mean(m) of the
    mean RGB m. Near 0 for a white-balanced scene, larger under a coloured illuminant."""
    m = np.asarray(hdr, np.float64).reshape(-1, 3).mean(axis=0)
    g = max(float(m.mean()), 1e-30)
    return float(np.abs(m - g).mean() / g)


def dynamic_range(hdr):
    """log10 of the 99.9th over the 0.1th luminance percentile (a robust max / min)."""
    lum = luminance(hdr)
    lo, hi = np.percentile(lum, [0.1, 99.9])
    return float(np.log10(max(hi, 1e-30) / max(lo, 1e-30)))


def clipped_fraction(hdr, key=KEY):
    """Fraction of pixels whose brightest channel reaches 1 when the median luminance is
    exposed at `key` (what an auto-exposed reference frame loses to saturation)."""
    hdr = np.asarray(hdr, np.float32)
    med = max(float(np.median(luminance(hdr))), 1e-30)
    return float(np.mean(hdr.max(axis=-1) * (key / med) >= 1.0))


def light_fraction(hdr, ratio=LIGHT_RATIO):
    """Fraction of pixels at least `ratio` times the median luminance: light sources."""
    lum = luminance(hdr)
    return float(np.mean(lum >= ratio * max(float(np.median(lum)), 1e-30)))


def _log_luminance(hdr):
    lum = luminance(hdr)
    floor = max(float(np.percentile(lum, 0.1)), 1e-8 * max(float(lum.max()), 1e-30), 1e-30)
    return np.log(np.maximum(lum, floor)).astype(np.float64)


def spectrum_slope(hdr):
    """Slope of the radially averaged power spectrum of log luminance, log-log, fitted
    between 4 cycles per image and a quarter of the sampling rate. Natural images:
    about -2 (power ~ 1/f^2, van der Schaaf & van Hateren 1996)."""
    x = _log_luminance(hdr)
    h, w = x.shape
    x = x - x.mean()
    x *= np.outer(np.hanning(h), np.hanning(w))  # no edge spike in the spectrum
    power = np.abs(np.fft.fftshift(np.fft.fft2(x))) ** 2
    fy = (np.arange(h) - h // 2) / h
    fx = (np.arange(w) - w // 2) / w
    f = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    lo, hi = 4.0 / min(h, w), 0.25
    edges = np.geomspace(lo, hi, 13)
    idx = np.digitize(f.ravel(), edges)
    pf = power.ravel()
    ff = f.ravel()
    xs, ys = [], []
    for b in range(1, len(edges)):
        sel = idx == b
        if sel.any():
            xs.append(np.log(ff[sel].mean()))
            ys.append(np.log(pf[sel].mean() + 1e-30))
    if len(xs) < 3:
        return float("nan")
    return float(np.polyfit(xs, ys, 1)[0])


def gradient_kurtosis(hdr):
    """Kurtosis of horizontal and vertical differences of log luminance. A Gaussian gives
    3; natural images give heavy tails (mostly smooth, a few strong edges)."""
    x = _log_luminance(hdr)
    d = np.concatenate([np.diff(x, axis=0).ravel(), np.diff(x, axis=1).ravel()])
    d = d - d.mean()
    var = float(np.mean(d ** 2))
    if var <= 0:
        return float("nan")
    return float(np.mean(d ** 4) / var ** 2)


def image_stats(hdr):
    """All statistics of one linear HDR image, as {name: float} in STAT_NAMES order."""
    hdr = np.maximum(np.asarray(hdr, np.float32), 0.0)
    return {
        "saturation": saturation(hdr),
        "illuminant_cast": illuminant_cast(hdr),
        "dr_log10": dynamic_range(hdr),
        "clipped": clipped_fraction(hdr),
        "light_fraction": light_fraction(hdr),
        "spectrum_slope": spectrum_slope(hdr),
        "gradient_kurtosis": gradient_kurtosis(hdr),
    }


def summarize(per_image):
    """[{name: value}] -> {name: (median, min, max)} over images."""
    out = {}
    for name in STAT_NAMES:
        values = np.array([s[name] for s in per_image], np.float64)
        values = values[np.isfinite(values)]
        out[name] = ((float(np.median(values)), float(values.min()), float(values.max()))
                     if values.size else (float("nan"),) * 3)
    return out


def format_table(rows):
    """[(label, {name: value or (median, min, max)})] -> a Markdown table."""
    head = "| image | " + " | ".join(STAT_NAMES) + " |"
    lines = [head, "|" + "---|" * (len(STAT_NAMES) + 1)]
    for label, stats in rows:
        cells = []
        for name in STAT_NAMES:
            v = stats[name]
            if isinstance(v, tuple):
                cells.append(f"{v[0]:.3g} ({v[1]:.3g} to {v[2]:.3g})")
            else:
                cells.append(f"{v:.3g}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dataset_hdr_paths(root, hdr_name="HDRImg.hdr"):
    """Ground-truth files of a dataset in the Kalantari layout (root/<split>/<scene>/), or
    of a flat folder of .hdr/.exr files, sorted."""
    import glob
    import os

    paths = sorted(glob.glob(os.path.join(root, "*", "*", hdr_name)))
    if not paths:
        paths = sorted(p for ext in ("hdr", "exr") for p in glob.glob(os.path.join(root, f"*.{ext}")))
    return paths
