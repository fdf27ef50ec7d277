"""Camera response: gamma-encoded LDR <-> linear radiance, and synthetic re-exposure.

All five methods model the camera as a pure gamma curve (gamma = 2.2) and take the HDR-domain
input of bracket i as `H_i = L_i ** 2.2 / t_i`. Every function accepts numpy arrays /
Python scalars (returns numpy) or tf tensors (returns tensors); see `_backend.prepare`.
"""

from hdrkeras.ops import _backend

GAMMA = 2.2


def ldr_to_linear(ldr, gamma=GAMMA):
    """Gamma LDR in [0,1] -> linear LDR in [0,1]: `clip(ldr, 0, 1) ** gamma`. Any layout."""
    xp, (ldr,) = _backend.prepare(ldr)
    return xp.power(xp.clip(ldr, 0.0, 1.0), gamma)


def linear_to_ldr(x, gamma=GAMMA):
    """Linear values -> gamma LDR in [0,1]: `clip(x, 0, 1) ** (1 / gamma)`. Any layout."""
    xp, (x,) = _backend.prepare(x)
    return xp.power(xp.clip(x, 0.0, 1.0), 1.0 / gamma)


def ldr_to_hdr(ldr, exposure, gamma=GAMMA):
    """Gamma LDR in [0,1] -> linear HDR estimate `ldr ** gamma / t` (the papers' H_i).

    Args:
      ldr: gamma-encoded LDR in [0,1], any layout (e.g. [B,N,H,W,3] or [H,W,3]); values
        are clipped to [0,1] first so out-of-range inputs cannot produce NaN.
      exposure: relative exposure time(s) `t`, broadcastable against `ldr`
        (scalar, or e.g. shape [B,N,1,1,1]).
      gamma: camera gamma. Defaults to 2.2.
    """
    xp, (ldr, exposure) = _backend.prepare(ldr, exposure)
    return xp.power(xp.clip(ldr, 0.0, 1.0), gamma) / exposure


def reexpose(hdr, exposure, gamma=GAMMA, bits=None):
    """Synthesises the LDR a camera with exposure `t` would record from linear HDR.

    `clip(hdr * t, 0, 1) ** (1 / gamma)`, optionally quantised to `2**bits - 1` levels
    (round to nearest). Output is gamma LDR in [0,1], same layout as `hdr`.
    """
    xp, (hdr, exposure) = _backend.prepare(hdr, exposure)
    out = xp.power(xp.clip(hdr * exposure, 0.0, 1.0), 1.0 / gamma)
    if bits is not None:
        levels = float(2 ** int(bits) - 1)
        out = xp.round(out * levels) / levels
    return out


def ldr_to_ldr(ldr, exposure_in, exposure_out, gamma=GAMMA):
    """Re-exposes gamma LDR directly: `clip(clip(ldr, 0, 1) * (t_out / t_in) ** (1/gamma), 0, 1)`.

    LAN-HDR's `pt_ldr_to_ldr` (how its reference frame is shown at each neighbour's
    exposure); same result as `reexpose(ldr_to_hdr(ldr, t_in), t_out)` up to float
    rounding, computed in the official order. Exposures broadcast against `ldr`.
    """
    xp, (ldr, exposure_in, exposure_out) = _backend.prepare(ldr, exposure_in, exposure_out)
    gain = xp.power(exposure_out / exposure_in, 1.0 / gamma)
    return xp.clip(xp.clip(ldr, 0.0, 1.0) * gain, 0.0, 1.0)
