"""Picks numpy or TensorFlow for the element-wise ops, so each op has one implementation.

Rule: if any argument is a tf.Tensor / tf.Variable the computation runs in TensorFlow and
returns a tensor; otherwise it runs in numpy and returns numpy. Float arrays keep their
dtype (the widest float among the tensor arguments if any, else among the numpy
arrays); Python scalars, lists and integer
arrays become float32.
"""

import numpy as np
import tensorflow as tf


class _Numpy:
    """The handful of array functions the ops need, numpy flavour."""

    is_tf = False
    clip = staticmethod(np.clip)
    power = staticmethod(np.power)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    expm1 = staticmethod(np.expm1)
    exp = staticmethod(np.exp)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    round = staticmethod(np.round)
    where = staticmethod(np.where)

    @staticmethod
    def cast_uint8(x):
        return np.asarray(x).astype(np.uint8)


class _TensorFlow:
    """The same functions backed by TensorFlow ops (graph-mode friendly)."""

    is_tf = True
    clip = staticmethod(tf.clip_by_value)
    power = staticmethod(tf.pow)
    log = staticmethod(tf.math.log)
    log1p = staticmethod(tf.math.log1p)
    expm1 = staticmethod(tf.math.expm1)
    exp = staticmethod(tf.math.exp)
    maximum = staticmethod(tf.maximum)
    minimum = staticmethod(tf.minimum)
    round = staticmethod(tf.round)
    where = staticmethod(tf.where)

    @staticmethod
    def cast_uint8(x):
        return tf.cast(x, tf.uint8)


NUMPY = _Numpy()
TENSORFLOW = _TensorFlow()


def _is_array(x):
    return isinstance(x, np.ndarray) or tf.is_tensor(x)


def _float_dtype(x):
    """The float dtype of an array argument, or None for scalars / non-float arrays."""
    if tf.is_tensor(x):
        dt = x.dtype
        return dt.as_numpy_dtype if dt.is_floating else None
    if isinstance(x, (np.ndarray, np.generic)) and np.issubdtype(x.dtype, np.floating):
        return x.dtype.type
    return None


def prepare(*args):
    """Returns (namespace, converted args) with every arg as an array of one float dtype.

    `None` arguments pass through unchanged.
    """
    use_tf = any(tf.is_tensor(a) for a in args if a is not None)
    # With tensors involved the tensors decide the dtype (a float16 tensor stays float16
    # next to a float64 numpy exposure vector).
    deciders = [a for a in args if a is not None and (tf.is_tensor(a) or not use_tf)]
    floats = [d for d in (_float_dtype(a) for a in deciders) if d is not None]
    dtype = np.result_type(*floats).type if floats else np.float32
    if use_tf:
        tf_dtype = tf.as_dtype(dtype)
        out = tuple(None if a is None else
                    (tf.cast(a, tf_dtype) if tf.is_tensor(a) else tf.constant(np.asarray(a), tf_dtype))
                    for a in args)
        return TENSORFLOW, out
    out = tuple(None if a is None else np.asarray(a, dtype=dtype) for a in args)
    return NUMPY, out
