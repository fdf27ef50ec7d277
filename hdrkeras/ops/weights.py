"""Per-pixel merge weights shared by target construction (numpy) and losses (tensors)."""

from hdrkeras.ops import _backend


def triangle_weight(ldr):
    """Well-exposedness of a gamma LDR value x in [0,1]: 2x below 0.5, 2 - 2x above.

    SelfHDR weights its structure-preserving loss with it and builds the colour
    component from it: where the reference is dark (x < 0.5) the long frame takes the
    remaining 1 - 2x, where it is bright the short frame takes 2x - 1. Any layout; numpy in,
    numpy out, tensor in, tensor out.
    """
    xp, (x,) = _backend.prepare(ldr)
    return xp.where(x < 0.5, 2.0 * x, 2.0 - 2.0 * x)
