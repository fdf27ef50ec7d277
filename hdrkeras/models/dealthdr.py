"""DeAltHDR: HDR video from degraded alternating exposures (Zhang et al.).

Port of the authors' VERSION 1.4.2 `basicsr/models/archs/dealthdr_arch.py:DeAltHDR`
(github Goodenough8216/DeAltHDR@6a5b3a4), layer for layer, so official checkpoints load
through `hdrkeras.convert.dealthdr`. Config names are the official ones.

The window model is composed of three separately callable sub-models, so a streaming
runner can compute each piece once per sequence instead of once per window:

* per frame -- `long_encoder` / `short_encoder`: one frame's three encoder levels,
  through the encoder of ITS OWN exposure (the window model routes by the per-frame
  `is_long` flag, see `encode_frames`). Every frame is encoded the same way whatever its
  position in a window, so its features can be reused by the five windows containing it.
* per frame pair -- `pair_flow`: SpyNet flows a->b and b->a and the forward-backward
  consistency error of each direction. The error does not depend on the sensitivity s,
  which only thresholds it; one call serves both frames of the pair.
* per window -- `window_decoder`: the centre frame's latent, decoder, FGMA alignment of
  the four neighbours at every decoder level (mask = error > 0.5 / s), softmax fusion of
  five frames, refinement and output conv. It takes the centre's features, the
  neighbours' features, the centre->neighbour flows and errors, and s.

Deliberate differences from the official code: exposure routing is per frame (the
official picks the centre's branch by a string argument and assumes strict alternation
for the neighbours; for an alternating window both agree); s is a model input (a scalar
per batch element), not a constructor constant; one SpyNet is built (the official builds
three and uses only `fgma_l3.spynet`); the unused FHR key/value caches are not kept.
"""

import keras
import numpy as np
import tensorflow as tf

from hdrkeras.errors import ConfigError, DataError
from hdrkeras.layers.channel_attention import TORCH_CONV_INIT
from hdrkeras.layers.dealthdr_inputs import DeAltHDRInputs, preprocess_window  # noqa: F401
from hdrkeras.layers.dealthdr_block import (ATTENTION_TYPES, FFW_TYPES, LAYER_NORM_TYPES,
                                            DeAltHDRBlock)
from hdrkeras.layers.flow_consistency_error import FlowConsistencyError
from hdrkeras.layers.flow_guided_masked_attention import FlowGuidedMaskedAttention
from hdrkeras.layers.hdr_fusion import HDRFusion
from hdrkeras.layers.pad_to_multiple import crop_to, zero_pad_to_multiple
from hdrkeras.layers.pixel_shuffle import PixelShuffle
from hdrkeras.layers.pixel_unshuffle import PixelUnshuffle
from hdrkeras.layers.spy_net import IMAGENET_MEAN, IMAGENET_STD, SpyNet

WINDOW = 5  # frames T-2, T-1, T, T+1, T+2
CENTRE = 2
NEIGHBOURS = (0, 1, 3, 4)  # official order of the aligned neighbours
MULTIPLE = 32  # official padder_size = 2**3 * 4: inputs are zero-padded to it

LEVEL_TYPES = {  # official config prefix of each LevelBlock
    "encoder_level1": "encoder1", "encoder_level2": "encoder2",
    "encoder_level3": "encoder3", "latent": "latent", "decoder_level3": "decoder1",
    "decoder_level2": "decoder2", "decoder_level1": "decoder3",
    "refinement": "refinement"}


def sensitivity_threshold(sensitivity):
    """0.5 / (s + 1e-8) computed in float64 and returned in float32 (as the official
    Python-float threshold compared against a float32 map): s = 0 -> 5e7, no attention."""
    s = keras.ops.cast(sensitivity, "float64")
    return keras.ops.cast(keras.ops.divide(0.5, keras.ops.add(s, 1e-8)), "float32")


def check_sensitivity(sensitivity):
    """Rejects a negative or non-finite sensitivity: ConfigError when the value is known
    (eager), a failing graph assertion with the same message otherwise."""
    message = "DeAltHDR: sensitivity must be finite and >= 0 (0 = pure flow warping)"
    if tf.executing_eagerly():
        values = np.asarray(sensitivity)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ConfigError(f"{message}, got {values.tolist()}")
        return
    tf.debugging.assert_greater_equal(sensitivity, 0.0, message=message)
    tf.debugging.assert_all_finite(sensitivity, message)


@keras.saving.register_keras_serializable(package="hdrkeras")
class DeAltHDR(keras.Model):
    """Five-frame alternating-exposure HDR video network with flow-guided masked attention.

    Call with a dict:
      frames: float32 [B, 5, H, W, Cf] NHWC, frames T-2..T+2 in the official input domain:
        Cf = 6 channels [lin, lin ** (1/2.2)] with lin = clip(L ** 2.2 / t, 0, 1) (L gamma
        LDR in [0,1], t the exposure relative to the short one), or Cf = 3 ([lin]) when
        `use_both_input` is False. Any H, W: zero-padded at the bottom/right to a multiple
        of 32 inside (as the official `check_image_size`), the output cropped back.
      is_long: float32 [B, 5], 1 for a long-exposure frame (its encoder branch), 0 short.
      sensitivity: float32 [B] or scalar s >= 0: 0 = pure flow warping, large = attention
        (almost) everywhere. Official default 15.
    Returns float32 [B, H, W, out_channels]: the centre frame's linear HDR in the scale of
    the training targets (inputs are normalised to the short exposure; no output
    activation or clamp, as officially).

    Sub-models (see the module docstring): `long_encoder`, `short_encoder` (the same model
    when `use_dual_encoder` is False), `pair_flow`, `window_decoder`.

    Args (official names):
      inp_channels, out_channels: int. Colour channels in / out. Defaults 3, 3.
      dim: int. Level-1 width (doubling per level). Defaults to 32.
      Enc_blocks: 3 ints. Blocks per encoder level. Defaults to (2, 4, 6).
      Middle_blocks: int. Latent blocks. Defaults to 6.
      Dec_blocks: 3 ints. Blocks of decoder levels 3, 2, 1. Defaults to (6, 4, 2).
      num_heads_blks: 4 ints. Attention heads of levels 1..4. Defaults to (1, 2, 4, 8).
      num_refinement_blocks: int. Defaults to 1.
      ffn_expansion_factor: float. Gated FFN width factor. Defaults to 2.5.
      bias: bool. Bias on the attention/FFN/resampling convs. Defaults to False.
      LayerNorm_type: 'WithBias' or 'BiasFree'. Defaults to 'WithBias'.
      {encoder1,2,3,decoder1,2,3,latent,refinement}_attn_type{1,2}: block mixers
        ('Channel', 'FHR', 'ReducedAttn', 'NoAttn'); type1 for all but the last block
        of a level, type2 for the last. decoder1 is the coarsest decoder level.
      {encoder1,2,3,decoder1,2,3,latent,refinement}_ffw_type: 'FFW' or 'GFFW'.
      use_both_input: bool. Frames carry [lin, gamma] (6 channels). Defaults to True.
      use_dual_encoder: bool. Separate long/short encoders. Defaults to True.
    Port-only args:
      spynet_mean, spynet_std: 3 floats each. SpyNet's input normalisation (officially
        the ImageNet RGB buffers; reversed for a BGR-trained checkpoint made RGB).
    """

    def __init__(self, inp_channels=3, out_channels=3, dim=32, Enc_blocks=(2, 4, 6),
                 Middle_blocks=6, Dec_blocks=(6, 4, 2), num_heads_blks=(1, 2, 4, 8),
                 num_refinement_blocks=1, ffn_expansion_factor=2.5, bias=False,
                 LayerNorm_type="WithBias",
                 encoder1_attn_type1="ReducedAttn", encoder1_attn_type2="ReducedAttn",
                 encoder2_attn_type1="ReducedAttn", encoder2_attn_type2="ReducedAttn",
                 encoder3_attn_type1="Channel", encoder3_attn_type2="Channel",
                 decoder1_attn_type1="Channel", decoder1_attn_type2="Channel",
                 decoder2_attn_type1="Channel", decoder2_attn_type2="Channel",
                 decoder3_attn_type1="Channel", decoder3_attn_type2="Channel",
                 encoder1_ffw_type="FFW", encoder2_ffw_type="FFW", encoder3_ffw_type="GFFW",
                 decoder1_ffw_type="GFFW", decoder2_ffw_type="GFFW", decoder3_ffw_type="GFFW",
                 latent_attn_type1="FHR", latent_attn_type2="Channel", latent_ffw_type="GFFW",
                 refinement_attn_type1="ReducedAttn", refinement_attn_type2="ReducedAttn",
                 refinement_ffw_type="GFFW", use_both_input=True, use_dual_encoder=True,
                 spynet_mean=IMAGENET_MEAN, spynet_std=IMAGENET_STD, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self._config = {k: v for k, v in locals().items()
                        if k not in ("self", "kwargs", "__class__")}
        for key in ("Enc_blocks", "Dec_blocks", "num_heads_blks"):
            self._config[key] = [int(v) for v in self._config[key]]
        for key in ("spynet_mean", "spynet_std"):
            self._config[key] = [float(v) for v in self._config[key]]
        cfg = self._config
        self._validate(cfg)
        self.frame_channels = inp_channels * (2 if use_both_input else 1)
        self.use_dual_encoder = bool(use_dual_encoder)
        heads = cfg["num_heads_blks"]

        def level(prefix, official, n, n_heads):
            """An official LevelBlock (`official`, named `prefix`_i here): n - 1 blocks
            of attn_type1, then one of attn_type2."""
            t = LEVEL_TYPES[official]
            return [DeAltHDRBlock(cfg[f"{t}_attn_type{1 if i < n - 1 else 2}"],
                                  cfg[f"{t}_ffw_type"], n_heads, ffn_expansion_factor, bias,
                                  LayerNorm_type, name=f"{prefix}_{i}")
                    for i in range(n)]

        def conv(filters, size, name, use_bias=bias):
            return keras.layers.Conv2D(filters, size, padding="same", use_bias=use_bias,
                                       kernel_initializer=TORCH_CONV_INIT, name=name)

        def run(blocks, x):
            for block in blocks:
                x = block(x)
            return x

        widths = [dim, dim * 2, dim * 4, dim * 8]

        # === Per-frame encoders (one per exposure) ===
        down1_2 = [conv(dim // 2, 3, "down1_2"), PixelUnshuffle(2, name="down1_2_unshuffle")]
        down2_3 = [conv(dim, 3, "down2_3"), PixelUnshuffle(2, name="down2_3_unshuffle")]
        encoders = {}
        for branch in ("long", "short") if self.use_dual_encoder else ("",):
            pre = f"{branch}_" if branch else ""
            frame = keras.Input((None, None, self.frame_channels), name="frame")
            x = conv(dim, 3, f"{pre}exposure_projection" if branch else "input_projection")(
                frame)
            f1 = run(level(f"{pre}encoder_level1", "encoder_level1", Enc_blocks[0], heads[0]),
                     x)
            f2 = run(level(f"{pre}encoder_level2", "encoder_level2", Enc_blocks[1], heads[1]),
                     run(down1_2, f1))
            f3 = run(level(f"{pre}encoder_level3", "encoder_level3", Enc_blocks[2], heads[2]),
                     run(down2_3, f2))
            encoders[branch] = keras.Model(frame, [f1, f2, f3], name=f"{pre}encoder")
        self.long_encoder = encoders["long" if self.use_dual_encoder else ""]
        self.short_encoder = encoders["short" if self.use_dual_encoder else ""]

        # === Per-pair flow ===
        a = keras.Input((None, None, 3), name="frame_a")
        b = keras.Input((None, None, 3), name="frame_b")
        spynet = SpyNet(spynet_mean, spynet_std, name="spynet")
        flow_ab, flow_ba = spynet([a, b]), spynet([b, a])
        error = FlowConsistencyError(name="consistency")
        self.pair_flow = keras.Model(
            [a, b], [flow_ab, flow_ba, error([a, flow_ab, flow_ba]),
                     error([b, flow_ba, flow_ab])], name="pair_flow")

        # === Per-window decoder ===
        n = len(NEIGHBOURS)
        centre = [keras.Input((None, None, c), name=f"centre_level{i + 1}")
                  for i, c in enumerate(widths[:3])]
        nbs = [keras.Input((n, None, None, c), name=f"neighbours_level{i + 1}")
               for i, c in enumerate(widths[:3])]
        flow = keras.Input((n, None, None, 2), name="flow")
        flow_error = keras.Input((n, None, None, 1), name="flow_error")
        sensitivity = keras.Input((), name="sensitivity")
        thr = keras.ops.reshape(sensitivity_threshold(sensitivity), (-1, 1, 1, 1, 1))
        mask = keras.ops.cast(keras.ops.greater(flow_error, thr), "float32")
        x = run([conv(widths[2] // 2, 3, "down3_4"), PixelUnshuffle(2, name="down3_4_unshuffle")],
                centre[2])
        x = run(level("latent", "latent", Middle_blocks, heads[3]), x)
        for lv, nblocks in ((3, Dec_blocks[0]), (2, Dec_blocks[1]), (1, Dec_blocks[2])):
            width = widths[lv - 1]
            x = run([conv(width * 4, 3, f"up{lv + 1}_{lv}"),
                     PixelShuffle(2, name=f"up{lv + 1}_{lv}_shuffle")], x)
            x = keras.ops.concatenate([x, centre[lv - 1]], axis=-1)
            x = conv(width, 1, f"reduce_chan_level{lv}")(x)
            x = run(level(f"decoder_level{lv}", f"decoder_level{lv}", nblocks, heads[lv - 1]),
                    x)
            aligned = FlowGuidedMaskedAttention(heads[lv - 1], bias, name=f"fgma_l{lv}")(
                [x, nbs[lv - 1], flow, mask])
            x = HDRFusion(bias, name=f"hdr_fusion_l{lv}")([x, aligned])
        x = run(level("refinement", "refinement", num_refinement_blocks, heads[0]), x)
        out = conv(out_channels, 3, "ending", use_bias=True)(x)
        self.window_decoder = keras.Model(centre + nbs + [flow, flow_error, sensitivity], out,
                                          name="window_decoder")
        self.built = True

    @staticmethod
    def _validate(cfg):
        for key, value in cfg.items():
            if key.endswith(("attn_type1", "attn_type2")) and value not in ATTENTION_TYPES:
                raise ConfigError(f"DeAltHDR: {key} must be one of {ATTENTION_TYPES}, got "
                                  f"{value!r}")
            if key.endswith("ffw_type") and value not in FFW_TYPES:
                raise ConfigError(f"DeAltHDR: {key} must be one of {FFW_TYPES}, got {value!r}")
        if cfg["LayerNorm_type"] not in LAYER_NORM_TYPES:
            raise ConfigError(f"DeAltHDR: LayerNorm_type must be one of {LAYER_NORM_TYPES}, "
                              f"got {cfg['LayerNorm_type']!r}")
        for key in ("Enc_blocks", "Dec_blocks"):
            if len(cfg[key]) != 3 or min(cfg[key]) < 1:
                raise ConfigError(f"DeAltHDR: {key} must be 3 positive ints, got {cfg[key]}")
        if len(cfg["num_heads_blks"]) != 4:
            raise ConfigError(f"DeAltHDR: num_heads_blks must be 4 ints, got "
                              f"{cfg['num_heads_blks']}")
        if cfg["Middle_blocks"] < 1 or cfg["num_refinement_blocks"] < 1:
            raise ConfigError("DeAltHDR: Middle_blocks and num_refinement_blocks must be >= 1")
        if cfg["dim"] % 2:
            raise ConfigError(f"DeAltHDR: dim must be even, got {cfg['dim']}")

    # === Composition ===
    def encode_frames(self, frames, is_long):
        """Per-frame features of every frame, each through the encoder of its own exposure.

        frames [B, T, H, W, Cf] (H, W multiples of 32), is_long [B, T] -> three tensors
        [B, T, h_l, w_l, C_l]. Frames are partitioned by exposure so each runs through one
        encoder only (an empty partition is skipped)."""
        frames = tf.convert_to_tensor(frames, tf.float32)
        shape = tf.shape(frames)
        b, t, h, w = shape[0], shape[1], shape[2], shape[3]
        flat = tf.reshape(frames, [b * t, h, w, self.frame_channels])
        if self.long_encoder is self.short_encoder:
            feats = self.long_encoder(flat)
        else:
            part = tf.cast(tf.reshape(is_long, [b * t]) > 0.5, tf.int32)
            inputs = tf.dynamic_partition(flat, part, 2)
            indices = tf.dynamic_partition(tf.range(b * t), part, 2)
            outs = [self._encode_or_skip(enc, x)
                    for enc, x in zip((self.short_encoder, self.long_encoder), inputs)]
            feats = [tf.dynamic_stitch(indices, list(level)) for level in zip(*outs)]
        return [tf.reshape(f, tf.concat([[b, t], tf.shape(f)[1:]], 0)) for f in feats]

    def _encode_or_skip(self, encoder, x):
        """encoder(x), or empty features when x holds no frame (layers need a batch)."""
        shape = tf.shape(x)
        dim = self._config["dim"]

        def empty():
            return [tf.zeros([0, shape[1] // 2 ** i, shape[2] // 2 ** i, dim * 2 ** i])
                    for i in range(3)]

        return tf.cond(shape[0] > 0, lambda: list(encoder(x)), empty)

    def centre_flows(self, frames):
        """Centre -> neighbour flows and consistency errors of a padded window
        [B, 5, H, W, Cf]: ([B, 4, H, W, 2], [B, 4, H, W, 1]), neighbours T-2, T-1, T+1, T+2."""
        lin = frames[..., :3]  # flow sees the linear channels only
        shape = tf.shape(lin)
        b, h, w, n = shape[0], shape[2], shape[3], len(NEIGHBOURS)
        cur = tf.repeat(lin[:, CENTRE], n, axis=0)
        nb = tf.reshape(tf.gather(lin, NEIGHBOURS, axis=1), [b * n, h, w, 3])
        flow, _, error, _ = self.pair_flow([cur, nb])
        return tf.reshape(flow, [b, n, h, w, 2]), tf.reshape(error, [b, n, h, w, 1])

    def forward(self, frames, is_long, sensitivity):
        """The window pass with its intermediates: {"hdr": [B, H, W, out] cropped,
        "flow": [B, 4, H', W', 2] centre -> neighbour flows and "flow_error"
        [B, 4, H', W', 1] at the padded size H', W'}. Arguments as `call`'s dict."""
        frames = tf.convert_to_tensor(frames, tf.float32)
        if frames.shape.rank != 5 or frames.shape[1] not in (None, WINDOW):
            raise DataError(f"DeAltHDR: frames must be [B, {WINDOW}, H, W, C] (a window of "
                            f"{WINDOW} frames), got shape {frames.shape}")
        if frames.shape[-1] not in (None, self.frame_channels):
            raise DataError(f"DeAltHDR: frames must have {self.frame_channels} channels, got "
                            f"shape {frames.shape}")
        shape = tf.shape(frames)
        b, h, w = shape[0], shape[2], shape[3]
        if frames.shape[1] is None:  # traced with an unknown window length
            with tf.control_dependencies([tf.debugging.assert_equal(
                    shape[1], WINDOW, message=f"DeAltHDR: the model takes windows of {WINDOW} "
                    "frames (T-2..T+2)")]):
                frames = tf.identity(frames)
        sensitivity = tf.cast(sensitivity, tf.float32)
        check_sensitivity(sensitivity)
        sensitivity = tf.broadcast_to(sensitivity, [b])
        frames = zero_pad_to_multiple(frames, MULTIPLE)  # cropped back below
        f1, f2, f3 = self.encode_frames(frames, is_long)
        flow, error = self.centre_flows(frames)
        centre = [f[:, CENTRE] for f in (f1, f2, f3)]
        nbs = [tf.gather(f, NEIGHBOURS, axis=1) for f in (f1, f2, f3)]
        out = self.window_decoder(centre + nbs + [flow, error, sensitivity])
        return {"hdr": crop_to(out, h, w), "flow": flow, "flow_error": error}

    def call(self, inputs, training=None):
        return self.forward(inputs["frames"], inputs["is_long"], inputs["sensitivity"])["hdr"]

    def get_config(self):
        config = dict(self._config)
        config.update({"name": self.name, "trainable": self.trainable})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# === Window inference from standard video inputs ===

def check_window(ldr, exposures, sensitivity, window=WINDOW):
    """Raises DataError / ConfigError for inputs a caller got wrong (eager values)."""
    ldr_shape, exp_shape = np.shape(ldr), np.shape(exposures)
    if len(ldr_shape) != 5 or ldr_shape[-1] != 3:
        raise DataError(f"DeAltHDR: ldr must be [B, T, H, W, 3], got shape {ldr_shape}")
    if ldr_shape[1] != window:
        raise DataError(f"DeAltHDR: the model takes windows of {window} frames (T-2..T+2), "
                        f"got {ldr_shape[1]} frames (ldr shape {ldr_shape})")
    if tuple(exp_shape) != tuple(ldr_shape[:2]):
        raise DataError(f"DeAltHDR: exposures must be [B, T] = {list(ldr_shape[:2])}, got "
                        f"shape {exp_shape}")
    values = np.asarray(exposures)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise DataError(f"DeAltHDR: exposures must be finite and > 0, got {values.tolist()}")
    if not np.all(np.isfinite(np.asarray(ldr))):
        raise DataError("DeAltHDR: ldr contains non-finite values")
    check_sensitivity(np.asarray(sensitivity, np.float32))


def build_window_inference(model):
    """A graph function hdr = f(ldr, exposures, sensitivity) for serving / export.

    Input signature: ldr float32 [B, 5, H, W, 3] gamma LDR in [0,1] (RGB, temporal order,
    any B, H, W), exposures float32 [B, 5] relative exposure times, sensitivity float32
    [B] (s >= 0; a failing graph assertion otherwise). Returns float32 [B, H, W, 3], the
    centre frame's linear HDR. Preprocessing (`preprocess_window`), routing and padding
    happen inside, so a caller needs nothing but raw frames and exposures.
    """
    both = model.get_config()["use_both_input"]

    @tf.function(input_signature=[tf.TensorSpec([None, WINDOW, None, None, 3], tf.float32),
                                  tf.TensorSpec([None, WINDOW], tf.float32),
                                  tf.TensorSpec([None], tf.float32)])
    def window_inference(ldr, exposures, sensitivity):
        frames, is_long = preprocess_window(ldr, exposures, both)
        return model({"frames": frames, "is_long": is_long, "sensitivity": sensitivity})

    return window_inference


def infer_window(model, ldr, exposures, sensitivity=15.0):
    """Centre-frame HDR of windows of standard video inputs (any H, W), eagerly, with the
    inputs checked first (DataError / ConfigError naming the problem).

    Args:
      model: a `DeAltHDR`.
      ldr: float32 [B, 5, H, W, 3] gamma LDR in [0,1], RGB, temporal order.
      exposures: float32 [B, 5] relative exposure times (short = 1).
      sensitivity: float or float32 [B], s >= 0. Defaults to 15 (official default).

    Returns:
      float32 [B, H, W, 3] linear HDR of the centre frame (see `DeAltHDR`).
    """
    check_window(ldr, exposures, sensitivity)
    frames, is_long = preprocess_window(ldr, exposures,
                                        model.get_config()["use_both_input"])
    batch = np.shape(ldr)[0]
    sensitivity = np.broadcast_to(np.asarray(sensitivity, np.float32), [batch])
    return model({"frames": frames, "is_long": is_long, "sensitivity": sensitivity})


@keras.saving.register_keras_serializable(package="hdrkeras")
class DeAltHDRVideo(keras.Model):
    """The `dealthdr` method's inference model: standard video inputs -> centre-frame HDR.

    Inputs (dict):
      ldr: float32 [B, 5, H, W, 3] gamma LDR in [0,1], RGB, frames T-2..T+2 in time order.
      exposures: float32 [B, 5] relative exposure times (> 0; each frame is routed to the
        encoder of its own exposure: long when above the window's shortest).
      sensitivity: float32 [B], s >= 0 per request (0 = pure flow warping; official 15).
    Output: float32 [B, H, W, 3] linear HDR of the centre frame, any H, W.

    Functional around `network` (a `DeAltHDR`, whose weights are the whole model), so a
    server trades quality for speed per request through `sensitivity`.

    Args:
      network: dict. `DeAltHDR` constructor arguments. Defaults to the official config.
    """

    def __init__(self, network=None, **kwargs):
        network = dict(network or {})
        network.pop("name", None)
        network.pop("trainable", None)
        inputs = {"ldr": keras.Input((WINDOW, None, None, 3), name="ldr"),
                  "exposures": keras.Input((WINDOW,), name="exposures"),
                  "sensitivity": keras.Input((), name="sensitivity")}
        net = DeAltHDR(**network, name="network")
        frames, is_long = DeAltHDRInputs(net.get_config()["use_both_input"], name="inputs")(
            inputs["ldr"], inputs["exposures"])
        hdr = net({"frames": frames, "is_long": is_long,
                   "sensitivity": inputs["sensitivity"]})
        kwargs.setdefault("name", "dealthdr")
        super().__init__(inputs=inputs, outputs=hdr, **kwargs)
        self.network = net
        self.network_config = {k: v for k, v in net.get_config().items()
                               if k not in ("name", "trainable")}

    def get_config(self):
        return {"network": self.network_config, "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

