"""The eight rotations/flips of a square patch, numbered ONE way everywhere.

Transform d in 0..7: rotate by 90 degrees d % 4 times (np.rot90's direction: the first
spatial axis runs bottom-up afterwards for d % 4 == 1), then flip horizontally (the second
spatial axis) when d >= 4. Patch records store d (hdrkeras/transform), the pipeline's
augmentation draws d: both mean the same pixels.
"""

import numpy as np

NUM_TRANSFORMS = 8


def dihedral_np(a, d, axes=(-3, -2)):
    """numpy array -> transform d of its two spatial `axes` (contiguous copy)."""
    d = int(d)
    if not 0 <= d < NUM_TRANSFORMS:
        raise ValueError(f"dihedral transform must be in 0..7, got {d}")
    a = np.rot90(a, d % 4, axes=axes)
    if d >= 4:
        a = np.flip(a, axis=axes[1])
    return np.ascontiguousarray(a)


def dihedral_tf(x, d, h_axis):
    """Tensor -> transform d (a Python int) of the square axes (h_axis, h_axis + 1).

    Built from one transpose and reversals (cheap contiguous copies in tf.data), equal
    to `dihedral_np` pixel for pixel.
    """
    import tensorflow as tf

    d = int(d)
    if not 0 <= d < NUM_TRANSFORMS:
        raise ValueError(f"dihedral transform must be in 0..7, got {d}")
    h, w = h_axis, h_axis + 1
    perm = list(range(len(x.shape)))
    perm[h], perm[w] = perm[w], perm[h]
    k = d % 4
    if k == 1:      # rot90: reverse columns, then transpose
        x = tf.transpose(tf.reverse(x, [w]), perm)
    elif k == 2:
        x = tf.reverse(x, [h, w])
    elif k == 3:    # rot270: transpose, then reverse columns
        x = tf.reverse(tf.transpose(x, perm), [w])
    if d >= 4:
        x = tf.reverse(x, [w])
    return x


def dihedral_index(p):
    """int32 [8, p*p]: flat pixel permutation of each transform of a p x p patch
    (gather along the flattened spatial axes applies transform d)."""
    grid = np.arange(p * p, dtype=np.int32).reshape(p, p)
    return np.stack([dihedral_np(grid, d, axes=(0, 1)).reshape(-1)
                     for d in range(NUM_TRANSFORMS)])
