"""LAN-HDR (Chung & Cho, "LAN-HDR: Luminance-based Alignment Network for High Dynamic
Range Video Reconstruction", ICCV 2023).

Port of haesoochung/LAN-HDR@b63131f `models/model.py` (2 exposures, 5-frame window) and
`models/model_3E.py` (3 exposures, 7-frame window), which differ only in the number of
frames; official checkpoints load through `hdrkeras.convert.lanhdr`.

Structure (each part a callable Keras sub-model, sharing weights with the window model):

Per frame (depends on one frame only; streaming computes it once per frame):
  `frame_encoder`: (inputs_i [B,H,W,7], input_ys_i [B,H,W,4]) ->
    mov_0..3   the hallucination encoder (gated convs + FFT residual blocks) of the frame
               at 1/8, 1/4, 1/2, 1/1 resolution (8t, 4t, 2t, t channels; t = tdim);
    value_0..3 the value pyramid of the frame's [L, H] downsampled to 1/4 resolution
               (1/32 .. 1/4 of the frame);
    key        the luminance features of [Y, H] at 1/32 resolution (8t channels).
  `ref_extractor`: inputs_mid -> ref_0..3, the reference's own hallucination encoder
    (other weights than `mov`); computed once per window (the official code runs it once
    per frame pair) -- in a stream once per frame, when it becomes the reference.

Per window (depends on the reference; the query side depends only on the reference and
t_i, so frames of equal exposure could share it):
  `aligner`: (mov_0..3, value_0..3, key of frame i, ref_0..3, input_exp_ys_i) ->
    (aligned_i [B,H,W,ch], gate_i [B,H/4,W/4,1]): the reference re-exposed to frame i
    gives the query luminance features; hard 3x3-patch attention (cosine, argmax) picks
    for every 1/32-scale token of the reference the best patch of frame i, the
    reconstruction decoder upsamples the swapped values to 1/4, and the fuser blends
    them into the hallucination features with a learnt gate (gated adaptive blending)
    and decodes to full resolution.
  `merge`: concat(aligned_0..T-1) [B,H,W,T*ch] -> conv + 5 FFT residual blocks ->
    sigmoid HDR.

Domains: inputs are built by `hdrkeras.layers.lanhdr_inputs.LanHdrInputs` from gamma LDR
in [0,1] and relative exposure times; the output is linear HDR in (0,1) (sigmoid),
trained in the mu-law domain.

Initialisation: every kernel is drawn as torch.nn.Conv2d / nn.Linear draw theirs
(`TORCH_CONV_INIT`), so training from scratch starts where the official network does;
biases start at zero (torch draws them uniformly too).

Sizes: the official code works for any H, W (stride-2 convs with symmetric padding 1
give ceil(n/2); every upsampling goes to the exact size of its skip tensor), and so does
this port -- no padding or cropping is needed.
"""

import keras

from hdrkeras.layers.fft_residual_block import FFTResidualBlock
from hdrkeras.layers.gated_conv import GatedConv
from hdrkeras.layers.hard_patch_attention import HardPatchAttention
from hdrkeras.layers.residual_block import ResidualBlock
from hdrkeras.layers.resize_like import ResizeLike
from hdrkeras.layers.torch_compat import TORCH_CONV_INIT

FRAME_CHANNELS = 7  # [L (3), H (3), Y (1)]
LUMA_CHANNELS = 4  # [Y (1), H (3)]
NUM_RES_BLOCKS = 5  # Recon s3 and the merge (hard-coded in the official constructors)
FUSER_RES_BLOCKS = 2


def _input(channels, name):
    return keras.Input(shape=(None, None, channels), name=name)


def _conv(filters, k, name, strides=1, activation=None, use_bias=True):
    """A conv with torch's symmetric zero padding k//2 (also for stride 2) and torch's
    default kernel init: Keras' Glorot init draws kernels ~1.7x larger, which through the
    unnormalised residual and Fourier blocks drives the sigmoid into saturation within the
    first optimiser steps (output constant, gradient zero)."""
    kw = dict(activation=activation, use_bias=use_bias, kernel_initializer=TORCH_CONV_INIT,
              name=name)
    if strides == 1:
        return keras.layers.Conv2D(filters, k, padding="same", **kw)
    pad = keras.layers.ZeroPadding2D(k // 2, name=name + "_pad")
    conv = keras.layers.Conv2D(filters, k, strides=strides, padding="valid", **kw)
    return lambda x: conv(pad(x))


def pyramid_encoder(name, in_channels, tdim, gated):
    """FE_res_fft (plain convs) / FE_res_fft_gc (gated convs): [B,H,W,in] ->
    [lv4 (8t, 1/8), lv3 (4t, 1/4), lv2 (2t, 1/2), lv1 (t, 1/1)], the official order."""
    x = inp = _input(in_channels, name + "_input")

    def conv(filters, cname, strides=1):
        if gated:
            layer = GatedConv(filters, strides=strides, name=cname)
        else:
            layer = _conv(filters, 3, cname, strides)
        return keras.layers.ReLU(name=cname + "_relu")(layer(x))

    x = conv(tdim, "conv11")
    x = conv(tdim, "conv12")
    levels = [FFTResidualBlock(name="block1")(x)]
    x = levels[0]
    for i, mult in ((2, 2), (3, 4), (4, 8)):
        x = conv(tdim * mult, f"conv{i}1", strides=2)
        x = FFTResidualBlock(name=f"block{i}")(x)
        levels.append(x)
    return keras.Model(inp, levels[::-1], name=name)


def luminance_encoder(tdim):
    """FE_KQ: only its coarsest level (the attention tokens) is used by the model."""
    full = pyramid_encoder("fe_kq", LUMA_CHANNELS, tdim, gated=False)
    return keras.Model(full.input, full.outputs[0], name="fe_kq")


def _upsample_block(prefix, skip, up, out_channels):
    """UpsampleBlock: ResBlock(skip_conv(skip) + bilinear(up -> size of skip))."""
    x = _conv(skip.shape[-1], 3, prefix + "_skip_conv")(skip)
    x = keras.layers.Add(name=prefix + "_add")([x, ResizeLike(name=prefix + "_up")([up, x])])
    return ResidualBlock(out_channels, name=prefix + "_out_conv")(x)


def _upsample_block_v2(prefix, x, skip, out_channels):
    """UpsampleBlockv2: ResBlock(conv3x3(bilinear(x -> size of skip)) + skip)."""
    x = ResizeLike(name=prefix + "_up")([x, skip])
    x = _conv(skip.shape[-1], 3, prefix + "_skip_conv")(x)
    x = keras.layers.Add(name=prefix + "_add")([x, skip])
    return ResidualBlock(out_channels, name=prefix + "_rb")(x)


def reconstruction(ch, tdim):
    """Recon_swap_once: (value_0..3, S, T) -> aligned features [B, h, w, ch] at the
    resolution of value_3 (1/4 of the frame)."""
    t = tdim
    v = [_input(c, f"value_{i}") for i, c in enumerate((8 * t, 4 * t, 2 * t, t))]
    s = _input(1, "score")
    swapped = _input(8 * t, "swapped")
    x = keras.layers.Concatenate(name="s3_cat")([swapped, v[0]])
    x = _conv(8 * t, 3, "s3_conv_head")(x)
    x = keras.layers.Multiply(name="s3_times_score")([x, s])
    for i in range(NUM_RES_BLOCKS):
        x = ResidualBlock(8 * t, name=f"s3_rb_{i}")(x)
    x = _conv(4 * t, 3, "s3_conv_tail")(x)
    x = _upsample_block("up_8_4", v[1], x, 2 * t)
    x = _upsample_block("up_4_2", v[2], x, t)
    x = _upsample_block("up_2_1", v[3], x, ch)
    x = _conv(ch, 3, "conv_final1", activation="relu")(x)
    return keras.Model(v + [s, swapped], x, name="recon")


def fuser(ch, tdim):
    """Fuser: (cat[mov_0, ref_0], mov_1+ref_1, recon, mov_2+ref_2, mov_3+ref_3) ->
    (features [B,H,W,ch], gate [B,h,w,1] at 1/4), with gated adaptive blending."""
    t = tdim
    f = _input(16 * t, "coarse")
    x2 = _input(4 * t, "skip_4")
    a = _input(ch, "recon")
    x1 = _input(2 * t, "skip_2")
    x0 = _input(t, "skip_1")
    x = ResidualBlock(8 * t, name="rb_head")(f)
    for i in range(FUSER_RES_BLOCKS):
        x = ResidualBlock(8 * t, name=f"rb_{i}")(x)
    x = _conv(4 * t, 3, "conv_tail")(x)
    x = _upsample_block_v2("up_8_4", x, x2, 2 * t)
    x = _conv(ch, 1, "conv_bn")(x)
    gate = _conv(1, 5, "conv_gate", activation="sigmoid")(
        keras.layers.Concatenate(name="gate_cat")([x, a]))
    x = gate * (x + a) + (1.0 - gate) * x  # the official blend, term for term
    x = ResidualBlock(2 * t, name="fb")(x)
    x = _upsample_block_v2("up_4_2", x, x1, t)
    x = _upsample_block_v2("up_2_1", x, x0, ch)
    return keras.Model([f, x2, a, x1, x0], [x, gate], name="fuser")


def merge(ch, nframes):
    """Merge_test_res_fft: concat of the aligned features [B,H,W,T*ch] -> sigmoid HDR."""
    inp = _input(ch * nframes, "aligned")
    x = _conv(ch, 3, "conv1_head", activation="relu")(inp)
    for i in range(NUM_RES_BLOCKS):
        x = FFTResidualBlock(name=f"rb1_{i}")(x)
    x = _conv(3, 3, "conv1_tail", activation="sigmoid")(x)
    return keras.Model(inp, x, name="merge")


def _split_frames(x, n):
    """[T*B, ...] frame-major -> list of T tensors [B, ...]."""
    return keras.ops.split(x, n, axis=0) if n > 1 else [x]


@keras.saving.register_keras_serializable(package="hdrkeras")
class LanHdr(keras.Model):
    """LAN-HDR window model (2 or 3 alternating exposures).

    Inputs (a dict, names as the official forward's lists and the parity fixtures), each
    float32 NHWC, i = 0..nframes-1 in time order, reference = frame nframes // 2:
      inputs_i       [B,H,W,7]: [L_i (gamma LDR in [0,1], RGB), H_i = L_i**2.2/t_i
                     (linear), Y(L_i)];
      input_ys_i     [B,H,W,4]: [Y(L_i), H_i];
      input_exp_ys_i [B,H,W,4]: [Y(Le_i), Le_i**2.2/t_i], Le_i = the reference re-exposed
                     to t_i.
    `hdrkeras.layers.lanhdr_inputs.LanHdrInputs` builds them from `ldr` [B,T,H,W,3] and
    `exposures` [B,T].
    Outputs: {"output": [B,H,W,3] linear HDR of the reference in (0,1) (sigmoid),
              "gates": [B,T,ceil(H/4),ceil(W/4),1] the blending gates of the fuser}.

    Any H, W (see module docstring). The T frames run through the per-frame encoder and
    the aligner as one batch of T*B.

    Args:
      ch: int. feature width of the aligned maps and the merge. Defaults to 64.
      tdim: int. base width of the encoders and the attention. Defaults to 16.
      nframes: int. window length (5 for 2 exposures, 7 for 3). Defaults to 5.
      nexps: int. number of alternating exposures (2 or 3); recorded, not used by the
        network (the official trainer selects model.py / model_3E.py with it).
        Defaults to 2.
    """

    def __init__(self, ch=64, tdim=16, nframes=5, nexps=2, **kwargs):
        ch, tdim, nframes, nexps = int(ch), int(tdim), int(nframes), int(nexps)
        if nframes < 1 or nframes % 2 == 0:
            raise ValueError(f"nframes must be odd and positive (centre reference), got {nframes}")
        if nexps < 1:
            raise ValueError(f"nexps must be positive, got {nexps}")

        # === Layers (official module names) ===
        self.mov_extractor = pyramid_encoder("mov_extractor", FRAME_CHANNELS, tdim, True)
        self.ref_extractor = pyramid_encoder("ref_extractor", FRAME_CHANNELS, tdim, True)
        self.fe_v = pyramid_encoder("fe_v", 6, tdim, False)
        self.fe_kq = luminance_encoder(tdim)
        self.transformer = HardPatchAttention(4 * tdim, name="transformer")
        self.recon = reconstruction(ch, tdim)
        self.fuser = fuser(ch, tdim)
        self.merge = merge(ch, nframes)
        self.frame_encoder = self._build_frame_encoder(tdim)
        self.aligner = self.aligner_model(self.fuser)

        # === Functional model ===
        names = ("inputs", "input_ys", "input_exp_ys")
        chans = (FRAME_CHANNELS, LUMA_CHANNELS, LUMA_CHANNELS)
        inputs = {f"{n}_{i}": _input(c, f"{n}_{i}")
                  for n, c in zip(names, chans) for i in range(nframes)}

        def stacked(n):
            xs = [inputs[f"{n}_{i}"] for i in range(nframes)]
            return keras.ops.concatenate(xs, axis=0) if nframes > 1 else xs[0]

        mid = nframes // 2
        feats = self.frame_encoder([stacked("inputs"), stacked("input_ys")])
        ref = self.ref_extractor(inputs[f"inputs_{mid}"])
        ref = [keras.ops.concatenate([r] * nframes, axis=0) if nframes > 1 else r for r in ref]
        aligned, gates = self.aligner(list(feats) + ref + [stacked("input_exp_ys")])
        aligned = keras.layers.Concatenate(name="aligned")(_split_frames(aligned, nframes))
        output = self.merge(aligned)
        gates = keras.ops.stack(_split_frames(gates, nframes), axis=1)
        super().__init__(inputs=inputs, outputs={"output": output, "gates": gates}, **kwargs)

        # === Config ===
        self.ch, self.tdim, self.nframes, self.nexps = ch, tdim, nframes, nexps

    def _build_frame_encoder(self, tdim):
        frame = _input(FRAME_CHANNELS, "frame")
        ys = _input(LUMA_CHANNELS, "ys")
        mov = self.mov_extractor(frame)
        return keras.Model([frame, ys], list(mov) + self._value_key(frame, ys, mov[1]),
                           name="frame_encoder")

    def _value_key(self, frame, ys, quarter):
        """value_0..3 and key of a frame, at the size of `quarter` (1/4 resolution)."""
        small = ResizeLike(name="frame_to_quarter")([frame[..., :6], quarter])
        ys_small = ResizeLike(name="ys_to_quarter")([ys, quarter])
        return list(self.fe_v(small)) + [self.fe_kq(ys_small)]

    def value_key_model(self):
        """(frame, ys, quarter) -> [value_0..3, key]: the frame encoder's outputs without
        the hallucination pyramid, whose 1/4-resolution level only gives their size; here
        `quarter` does (any [B, ceil(ceil(H/2)/2), ceil(ceil(W/2)/2), 1] tensor)."""
        frame = _input(FRAME_CHANNELS, "frame")
        ys = _input(LUMA_CHANNELS, "ys")
        quarter = _input(1, "quarter")
        return keras.Model([frame, ys, quarter], self._value_key(frame, ys, quarter),
                           name="value_key_encoder")

    def aligner_model(self, fuse, name="aligner"):
        """The per-position aligner (see the module docstring) around `fuse`: the fuser, or
        a sub-model of it that stops earlier (streaming runs the fuser's last,
        64-channel full-resolution block in row bands for large frames)."""
        widths = [int(o.shape[-1]) for o in self.mov_extractor.outputs]  # 8t, 4t, 2t, t
        mov = [_input(c, f"mov_{i}") for i, c in enumerate(widths)]
        value = [_input(c, f"value_{i}") for i, c in enumerate(widths)]
        key = _input(widths[0], "key")
        ref = [_input(c, f"ref_{i}") for i, c in enumerate(widths)]
        exp_ys = _input(LUMA_CHANNELS, "exp_ys")
        query = self.fe_kq(ResizeLike(name="exp_ys_to_quarter")([exp_ys, mov[1]]))
        score, swapped = self.transformer(query, key, value[0])
        a = self.recon(value + [score, swapped])
        sums = [keras.layers.Add(name=f"mov_ref_{i}")([mov[i], ref[i]]) for i in (1, 2, 3)]
        coarse = keras.layers.Concatenate(name="mov_ref_0")([mov[0], ref[0]])
        outputs = fuse([coarse, sums[0], a, sums[1], sums[2]])
        return keras.Model(mov + value + [key] + ref + [exp_ys], outputs, name=name)

    def attention(self, inputs_i, input_ys_i, input_exp_ys_i):
        """Eager: (S [B,h,w,1], argmax [B,h*w]) of the alignment of frame i (NHWC
        arrays as the model inputs); for inspection and the parity checks."""
        feats = self.frame_encoder([inputs_i, input_ys_i])
        query = self.fe_kq(ResizeLike()([input_exp_ys_i, feats[1]]))
        s, _, idx = self.transformer(query, feats[8], feats[4], return_argmax=True)
        return s, idx

    def get_config(self):
        return {"ch": self.ch, "tdim": self.tdim, "nframes": self.nframes,
                "nexps": self.nexps, "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def lanhdr_2e(**kwargs):
    """The 2-exposure configuration (models/model.py): 5-frame window."""
    return LanHdr(nframes=5, nexps=2, **kwargs)


def lanhdr_3e(**kwargs):
    """The 3-exposure configuration (models/model_3E.py): 7-frame window."""
    return LanHdr(nframes=7, nexps=3, **kwargs)
