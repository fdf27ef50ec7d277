"""Tonemaps: the mu-law used for training losses and PSNR-mu, PU21, 8-bit previews.

numpy in -> numpy out, tensor in -> tensor out (see `_backend.prepare`).
"""

import numpy as np

from hdrkeras.ops import _backend

MU = 5000.0


def mu_law(hdr, mu=MU):
    """Linear HDR (nominally [0,1]) -> mu-law domain: `log(1 + mu*x) / log(1 + mu)`.

    No clipping: callers that need [0,1] clip first (the metrics do). mu_law(0)=0,
    mu_law(1)=1.
    """
    xp, (hdr,) = _backend.prepare(hdr)
    return xp.log1p(mu * hdr) / float(np.log1p(mu))


def mu_law_inverse(y, mu=MU):
    """Inverse of `mu_law`: `((1 + mu) ** y - 1) / mu`."""
    xp, (y,) = _backend.prepare(y)
    return xp.expm1(y * float(np.log1p(mu))) / mu


# PU21 "banding + glare" parameters (Mantiuk & Azimi, PCS 2021; pu21_encoder.m / pu21.py of
# gfxdisp/pu21). Luminance is clamped to the range the encoding was fitted on.
PU21_PARAMS = (0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627,
               0.09150303166, 0.9099517204, 596.3148142)
PU21_L_MIN = 0.005
PU21_L_MAX = 10000.0


def pu21_encode(luminance_cd_m2):
    """Absolute luminance (cd/m^2) -> PU21 units (banding+glare variant).

    `V = p6 * (((p0 + p1 * Y**p3) / (1 + p2 * Y**p3)) ** p4 - p5)` with Y clamped to
    [0.005, 10000] cd/m^2. V is about 0 at 0.005 cd/m^2 and about 256 at 100 cd/m^2, so
    the encoded values play the role of 8-bit code values (PSNR peak 256 in pu21_metric).
    """
    xp, (y,) = _backend.prepare(luminance_cd_m2)
    p = PU21_PARAMS
    y = xp.clip(y, PU21_L_MIN, PU21_L_MAX)
    yp = xp.power(y, p[3])
    return p[6] * (xp.power((p[0] + p[1] * yp) / (1.0 + p[2] * yp), p[4]) - p[5])


def to_uint8(x):
    """Values in [0,1] (any layout) -> uint8 by clip, *255, round half to even."""
    xp, (x,) = _backend.prepare(x)
    return xp.cast_uint8(xp.round(xp.clip(x, 0.0, 1.0) * 255.0))


def preview(hdr, mu=MU):
    """Linear HDR -> 8-bit mu-law preview `to_uint8(mu_law(max(hdr, 0)))` (negatives -> 0)."""
    xp, (hdr,) = _backend.prepare(hdr)
    return to_uint8(mu_law(xp.maximum(hdr, 0.0), mu))
