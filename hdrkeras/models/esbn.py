"""ESBN: exposure-structure blending networks (Lee, Chung & Cho, IEEE Access 2020).

Port of the official TF1 code (tkd1088/ESBN@3f873ab): `network_align2.py:MCAE_align` (the
alignment net, trained twice: once for the short and once for the long exposure) and
`network_fusion3.py:MCAE_fusion` (the merging net). Layer for layer the same convolutions,
paddings ('SAME', i.e. Keras 'same', asymmetric for stride 2), batch norms and activations,
so official checkpoints load through `hdrkeras.convert.esbn`.

ESBN works in a [-1, 1] convention: each frame enters as a 6-channel tensor
`concat([2L - 1, 2H - 1])` (L gamma LDR in [0,1], H = L**2.2 / t with t relative to the
REFERENCE frame's exposure time, as the official pipeline reads Kalantari's exposure.txt);
both networks end in tanh. `hdrkeras.layers.FrameInputs("esbn")` builds those tensors from
our standard inputs. Both nets follow the contract of hdrkeras.models (classes, dict inputs).
"""

import keras

from hdrkeras.layers.crop_padding import CropPadding
from hdrkeras.layers.pad_to_multiple import PadToMultiple
from hdrkeras.models.contract import ALIGN_INPUTS, FRAME_INPUTS, NetworkConfig


# Official hyperparameters: tf.contrib.layers.batch_norm(decay=0.9, epsilon=1e-5,
# scale=True, center=True), truncated_normal(stddev=0.01) conv kernels, zero biases,
# lrelu leak 0.2.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5
INIT_STDDEV = 0.01
LEAKY_SLOPE = 0.2
# Three stride-2 convolutions, three 2x nearest upsamplings with skip concatenations.
SIZE_MULTIPLE = 8


def _conv(filters, kernel, name, strides=1):
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="same", name=name,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=INIT_STDDEV),
        bias_initializer="zeros")


def _bn(name, momentum, epsilon):
    return keras.layers.BatchNormalization(
        axis=-1, momentum=momentum, epsilon=epsilon, center=True, scale=True, name=name)


def _head(x, unit_output, name):
    """tanh output in [-1, 1]; with `unit_output`, mapped to (x + 1) / 2 in [0, 1]."""
    y = keras.layers.Activation("tanh", dtype="float32", name=f"{name}_tanh")(x)
    if unit_output:
        y = keras.layers.Rescaling(0.5, offset=0.5, dtype="float32", name=f"{name}_unit")(y)
    return y


@keras.saving.register_keras_serializable(package="hdrkeras")
class ESBNAlign(NetworkConfig, keras.Model):
    """ESBN alignment net: re-synthesises a non-reference exposure aligned to the reference.

    Two-way encoder (separate weights for the non-reference and the reference frame: 5x5
    stride-2 convs, the first encoder feature taken before its activation, the second after
    batch norm), a blending conv, `num_res_blocks` residual blocks, and a decoder with 2x
    nearest upsampling, skips from both encoders and ReLU after every concatenation.
    The same class makes the low net (short exposure as non-reference) and the high net
    (long exposure as non-reference); they differ only in weights.

    Inputs: a dict (ALIGN_INPUTS), each float32 [B, H, W, 6] NHWC, RGB, ESBN's [-1, 1]
    convention (see FrameInputs): channels 0:3 = 2L - 1, 3:6 = 2H - 1.
      nonref: the frame to align (short for the low net, long for the high net).
      ref: the reference (middle) frame.
    Output: float32 [B, H, W, 3], tanh in [-1, 1]: the non-reference exposure's gamma LDR
      aligned to the reference, encoded as 2L - 1 ((y + 1) / 2 is gamma LDR in [0, 1]; with
      `unit_output=True` the model returns that directly).

    Any H and W: inputs are reflect-padded (bottom/right) to a multiple of 8 inside the
    model and the output is cropped back.

    Args:
      filters: int. width of the first encoder conv; the others are 2x/4x it (official 64).
      num_res_blocks: int. residual blocks in the bottleneck. Defaults to 9.
      bn_momentum: float. BatchNorm moving-average momentum (TF1 decay). Defaults to 0.9.
      bn_epsilon: float. BatchNorm epsilon. Defaults to 1e-5.
      leaky_slope: float. slope of the encoder LeakyReLUs. Defaults to 0.2.
      unit_output: bool. append (y + 1) / 2. Defaults to False (raw tanh, as official).
      name: str. model name ("align_low" / "align_high"). Defaults to "align_low".
    """

    def __init__(self, filters=64, num_res_blocks=9, bn_momentum=BN_MOMENTUM,
                 bn_epsilon=BN_EPSILON, leaky_slope=LEAKY_SLOPE, unit_output=False,
                 name="align_low", **kwargs):
        f = int(filters)
        inputs = {k: keras.Input((None, None, 6), name=k) for k in ALIGN_INPUTS}
        nonref, ref = inputs["nonref"], inputs["ref"]

        def bn(n):
            return _bn(n, bn_momentum, bn_epsilon)

        def encoder(x, p):
            x = PadToMultiple(SIZE_MULTIPLE, name=f"{p}_pad")(x)
            e1 = _conv(f, 5, f"{p}_conv1", strides=2)(x)  # used before any activation
            e2 = keras.layers.LeakyReLU(negative_slope=leaky_slope, name=f"{p}_lrelu2")(e1)
            e2 = _conv(2 * f, 5, f"{p}_conv2", strides=2)(e2)
            e2 = bn(f"{p}_batn2")(e2)  # no activation: feeds the skips raw
            return e2, e1

        n2, n1 = encoder(nonref, "enc_nonref")
        r2, r1 = encoder(ref, "enc_ref")

        p = "dec"
        x4 = keras.layers.Concatenate(name=f"{p}_cat4")([n2, r2])
        x3 = keras.layers.LeakyReLU(negative_slope=leaky_slope, name=f"{p}_lrelu3")(x4)
        x3 = _conv(4 * f, 5, f"{p}_conv3", strides=2)(x3)
        x3 = bn(f"{p}_batn3")(x3)

        res = x3
        for i in range(int(num_res_blocks)):
            r = f"{p}_resb{i}"
            y = _conv(4 * f, 3, f"{r}_conv1")(res)
            y = bn(f"{r}_batn1")(y)
            y = keras.layers.ReLU(name=f"{r}_relu")(y)
            y = _conv(4 * f, 3, f"{r}_conv2")(y)
            y = bn(f"{r}_batn2")(y)
            res = keras.layers.Add(name=f"{r}_add")([res, y])  # no activation after the add

        def up_block(parts, filters_out, level):
            x = keras.layers.Concatenate(name=f"{p}_cat{level}")(parts)
            x = keras.layers.ReLU(name=f"{p}_relu{level}")(x)
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{p}_upsa{level}")(x)
            x = _conv(filters_out, 5, f"{p}_conv{level}")(x)
            return bn(f"{p}_batn{level}")(x)

        x2 = up_block([res, x3], 2 * f, 2)
        x1 = up_block([x2, n2, r2], f, 1)
        x0 = up_block([x1, n1, r1], f, 0)
        x = keras.layers.ReLU(name=f"{p}_relu8")(x0)
        x = _conv(3, 5, f"{p}_conv8")(x)
        x = CropPadding(SIZE_MULTIPLE, name="crop")([x, nonref])
        out = _head(x, unit_output, "output")
        super().__init__(inputs=inputs, outputs=out, name=name, **kwargs)

        # === Config ===
        self.set_config(
            filters=f, num_res_blocks=int(num_res_blocks), bn_momentum=float(bn_momentum),
            bn_epsilon=float(bn_epsilon), leaky_slope=float(leaky_slope),
            unit_output=bool(unit_output))


@keras.saving.register_keras_serializable(package="hdrkeras")
class ESBNFusion(NetworkConfig, keras.Model):
    """ESBN merging net: fuses the aligned short, reference and aligned long frames.

    Per-exposure 3x3 convs (separate weights) + LeakyReLU, a 3x3 merge conv, one residual
    dense block (LeakyReLU after every conv, including the final 1x1, before the residual
    add), a global residual from the reference branch's activated features, a 3x3 output
    conv and tanh. Stride 1 throughout, so any H and W without padding.

    Inputs: a dict (FRAME_INPUTS), each float32 [B, H, W, 6] NHWC, RGB, ESBN's [-1, 1]
    convention (see FrameInputs): x1 aligned short (official "low"), x2 reference ("mid"),
    x3 aligned long ("high").
    Output: float32 [B, H, W, 3], tanh in [-1, 1]; (y + 1) / 2 is the linear HDR in [0, 1]
      in the scale of the HDR inputs (H = L**2.2 / t, t relative to the reference; see
      FrameInputs). `unit_output=True` returns (y + 1) / 2 directly.

    Args:
      filters: int. feature width. Defaults to 64.
      growth_rate: int. filters of each dense layer. Defaults to 32.
      num_dense_layers: int. 3x3 dense layers in the residual dense block. Defaults to 6.
      leaky_slope: float. LeakyReLU slope. Defaults to 0.2.
      unit_output: bool. append (y + 1) / 2. Defaults to False (raw tanh, as official).
      name: str. model name. Defaults to "fusion".
    """

    def __init__(self, filters=64, growth_rate=32, num_dense_layers=6, leaky_slope=LEAKY_SLOPE,
                 unit_output=False, name="fusion", **kwargs):
        f = int(filters)
        inputs = {k: keras.Input((None, None, 6), name=k) for k in FRAME_INPUTS}

        def lrelu(n):
            return keras.layers.LeakyReLU(negative_slope=leaky_slope, name=n)

        feats = [lrelu(f"lrelu1_{n}")(_conv(f, 3, f"conv1_{n}")(x))
                 for n, x in zip(("low", "mid", "high"), (inputs[k] for k in FRAME_INPUTS))]
        mid = feats[1]
        x0 = keras.layers.Concatenate(name="cat1")(feats)
        x0 = lrelu("lrelu2")(_conv(f, 3, "conv2")(x0))

        dense = [x0]
        for k in range(1, int(num_dense_layers) + 1):
            y = dense[0] if k == 1 else keras.layers.Concatenate(name=f"resden1_cat{k}")(dense)
            dense.append(lrelu(f"resden1_lrelu{k}")(_conv(growth_rate, 3, f"resden1_conv{k}")(y)))
        k = int(num_dense_layers) + 1
        y = keras.layers.Concatenate(name=f"resden1_cat{k}")(dense)
        y = lrelu(f"resden1_lrelu{k}")(_conv(f, 1, f"resden1_conv{k}")(y))
        x1 = keras.layers.Add(name="resden1_add")([x0, y])

        x6 = keras.layers.Add(name="global_residual")([x1, mid])
        out = _head(_conv(3, 3, "conv4")(x6), unit_output, "output")
        super().__init__(inputs=inputs, outputs=out, name=name, **kwargs)

        # === Config ===
        self.set_config(
            filters=f, growth_rate=int(growth_rate), num_dense_layers=int(num_dense_layers),
            leaky_slope=float(leaky_slope), unit_output=bool(unit_output))
