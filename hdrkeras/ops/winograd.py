"""Winograd F(2x2, 3x3) convolution (Lavin & Gray, CVPR 2016) from plain TF ops.

A stride-1 3x3 'SAME' conv as 16 batched [tiles, Cin] x [Cin, Cout] matmuls on 4x4 input
tiles taken with stride 2: 2.25x fewer multiplies than the direct conv. On CPUs without
AVX-512 TF's oneDNN runs wide NHWC 3x3 convs as im2col + gemm, several times slower than
this (docs/benchmarks.md, 2026-12-02). The tile transforms are strided slices and sums,
slow as separate graph ops: run it under XLA (jit_compile), which fuses them.
"""

import numpy as np
import tensorflow as tf

# Kernel transform G (4x3): U = G g G^T per (Cin, Cout) pair.
_G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float32)


def transform_kernel(kernel):
    """[3, 3, Cin, Cout] conv kernel -> [16, Cin, Cout] Winograd-domain kernel."""
    u = tf.einsum("ak,klio,bl->abio", tf.constant(_G, kernel.dtype), kernel,
                  tf.constant(_G, kernel.dtype))
    return tf.reshape(u, [16, tf.shape(kernel)[2], tf.shape(kernel)[3]])


def _tile_transform(x, axis, tiles):
    """B^T applied along `axis`: the 4 rows of each stride-2 4-row tile -> 4 sums."""
    rows = []
    for k in range(4):
        index = [slice(None)] * 4
        index[axis] = slice(k, k + 2 * tiles, 2)
        rows.append(x[tuple(index)])
    r0, r1, r2, r3 = rows
    return [r0 - r2, r1 + r2, r2 - r1, r1 - r3]


def conv3x3_same(x, u):
    """tf.nn.conv2d(x, kernel, 1, "SAME") for NHWC `x` [B, H, W, Cin] and
    u = transform_kernel(kernel), computed by Winograd F(2x2, 3x3). Any H, W >= 1."""
    batch, height, width, channels = tf.unstack(tf.shape(x))
    tiles_h, tiles_w = (height + 1) // 2, (width + 1) // 2
    # Output tile (i, j) covers rows 2i, 2i+1; its input tile is padded rows 2i-1 .. 2i+2.
    x = tf.pad(x, [[0, 0], [1, 2 * tiles_h + 1 - height], [1, 2 * tiles_w + 1 - width],
                   [0, 0]])
    v = [col for row in _tile_transform(x, 1, tiles_h) for col in _tile_transform(row, 2, tiles_w)]
    m = tf.matmul(tf.reshape(tf.stack(v), [16, -1, channels]), u)
    m = tf.reshape(m, [4, 4, batch, tiles_h, tiles_w, tf.shape(u)[-1]])
    # Output transform A^T m A, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
    rows = [m[0] + m[1] + m[2], m[1] - m[2] - m[3]]
    out = [tf.stack([r[0] + r[1] + r[2], r[1] - r[2] - r[3]], axis=3) for r in rows]
    out = tf.reshape(tf.stack(out, axis=2), [batch, 2 * tiles_h, 2 * tiles_w, tf.shape(u)[-1]])
    return out[:, :height, :width]
