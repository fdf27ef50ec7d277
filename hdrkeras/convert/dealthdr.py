"""Official DeAltHDR v1.4.2 checkpoints (Goodenough8216/DeAltHDR
basicsr/models/archs/dealthdr_arch.py) -> hdrkeras DeAltHDR.

The official model builds a SpyNet inside each of its three FGMA modules but computes
every flow with `fgma_l3.spynet`; `fgma_l2.spynet.*` and `fgma_l1.spynet.*` never touch
the output, so they are dropped (logged) and everything else is matched strictly.
"""

import inspect
import logging

import numpy as np

from hdrkeras.convert import torch_checkpoint as tc
from hdrkeras.errors import ConfigError

log = logging.getLogger(__name__)

# Official constructor arguments without a counterpart in the port (and why).
_IGNORED = {
    "num_frames_tocache": "only sizes the FHR key/value caches, which the forward never reads",
    "training_mode": "accepted but unused by the official forward",
    "sensitivity": "a model input here (per request), not a constructor constant",
}
_UNUSED_PREFIXES = ("fgma_l2.spynet.", "fgma_l1.spynet.")
_BUFFERS = ("spynet.mean", "spynet.std")  # ImageNet constants the port builds itself
_SPYNET_IN_PERM = [2, 1, 0, 5, 4, 3, 6, 7]  # [ref RGB, warped supp RGB, flow xy]


def _block_types(state_dict, prefix):
    """(attention type, FFN type) of official block `prefix` from its parameter names.
    'FHR' and 'Channel' have the same parameters and (without caches) the same math."""
    if f"{prefix}.attn.qkv.weight" in state_dict:
        attn = "Channel"
    elif f"{prefix}.attn.conv1.weight" in state_dict:
        attn = "ReducedAttn"
    else:
        attn = "NoAttn"
    return attn, ("GFFW" if f"{prefix}.ffn.project_in.weight" in state_dict else "FFW")


def infer_config(state_dict):
    """The official constructor kwargs of a checkpoint, read from its parameter names and
    shapes (FHR blocks come back as 'Channel', which computes the same)."""
    from hdrkeras.models.dealthdr import LEVEL_TYPES  # noqa: PLC0415 - keep import light

    sd = tc.strip_module_prefix(state_dict)
    dual = "long_exposure_projection.weight" in sd
    needed = ("long_exposure_projection.weight" if dual else "input_projection.weight",
              "ending.weight", "fgma_l1.temperature", "fgma_l2.temperature",
              "fgma_l3.temperature")
    absent = [k for k in needed if k not in sd]
    if absent:
        raise ConfigError(f"dealthdr: not a DeAltHDR checkpoint (no {', '.join(absent)}); "
                          "pass its config explicitly if it is one")
    proj = np.shape(sd["long_exposure_projection.weight" if dual else "input_projection.weight"])
    dim, in_channels = int(proj[0]), int(proj[1])
    config = {"inp_channels": 3, "out_channels": int(np.shape(sd["ending.weight"])[0]),
              "dim": dim, "use_both_input": in_channels == 6, "use_dual_encoder": dual,
              "bias": "down1_2.body.0.bias" in sd}
    if in_channels not in (3, 6):
        raise ConfigError(f"dealthdr: the exposure projection takes {in_channels} channels; "
                          "expected 6 ([linear, gamma] RGB) or 3")
    config["LayerNorm_type"] = ("WithBias" if "latent.transformer_blocks.0.norm1.body.bias"
                                in sd else "BiasFree")
    counts = {}
    for official, short in LEVEL_TYPES.items():
        key = (("long_" if dual else "") + official) if official.startswith("encoder") \
            else official
        n = 0
        while f"{key}.transformer_blocks.{n}.norm1.body.weight" in sd:
            n += 1
        if n == 0:
            raise ConfigError(f"dealthdr: checkpoint has no {key}.transformer_blocks")
        counts[official] = n
        last = _block_types(sd, f"{key}.transformer_blocks.{n - 1}")
        first = _block_types(sd, f"{key}.transformer_blocks.0") if n > 1 else last
        config[f"{short}_attn_type1"], config[f"{short}_attn_type2"] = first[0], last[0]
        config[f"{short}_ffw_type"] = last[1]
    config["Enc_blocks"] = [counts[f"encoder_level{i}"] for i in (1, 2, 3)]
    config["Dec_blocks"] = [counts[f"decoder_level{i}"] for i in (3, 2, 1)]
    config["Middle_blocks"] = counts["latent"]
    config["num_refinement_blocks"] = counts["refinement"]
    heads = [int(np.shape(sd[f"fgma_l{i}.temperature"])[0]) for i in (1, 2, 3)]
    latent_t = "latent.transformer_blocks.0.attn.temperature"
    heads.append(int(np.shape(sd[latent_t])[0]) if latent_t in sd else 8)
    config["num_heads_blks"] = heads
    gffw = [k for k in sd if k.endswith(".ffn.project_in.weight")]
    if gffw:
        shape = np.shape(sd[gffw[0]])
        config["ffn_expansion_factor"] = shape[0] / 2 / shape[1]
    return config


def model_kwargs(config, state_dict=None):
    """Official constructor kwargs (meta.json "config"; None: inferred from the
    checkpoint, see `infer_config`) -> DeAltHDR kwargs. Unknown keys raise ConfigError."""
    from hdrkeras.models.dealthdr import DeAltHDR  # noqa: PLC0415 - keep import light

    if config is None:
        return infer_config(state_dict)
    accepted = set(inspect.signature(DeAltHDR.__init__).parameters) - {"self", "kwargs"}
    kwargs = {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif key not in _IGNORED:
            raise ConfigError(f"dealthdr: unknown config key {key!r}")
    return kwargs


def _depthwise(w):
    return np.transpose(w, (2, 3, 0, 1))  # torch [C, 1, kh, kw] -> Keras [kh, kw, C, 1]


def _flat(w):
    return np.reshape(w, -1)  # [1, C, 1, 1] layer scales, [heads, 1, 1] temperatures


def _assign_block(a, prefix, block):
    for norm in ("norm1", "norm2"):
        layer = getattr(block, norm)
        a.tensor(f"{prefix}.{norm}.body.weight", layer.gamma)
        if block.layer_norm_type == "WithBias":
            a.tensor(f"{prefix}.{norm}.body.bias", layer.beta)
    attn = block.attn
    if block.attention_type in ("Channel", "FHR"):
        a.conv(f"{prefix}.attn.qkv", attn.qkv)
        _assign_dw(a, f"{prefix}.attn.qkv_dwconv", attn.qkv_dwconv)
        a.conv(f"{prefix}.attn.project_out", attn.project_out)
        a.tensor(f"{prefix}.attn.temperature", attn.temperature, _flat)
    elif block.attention_type == "ReducedAttn":
        a.conv(f"{prefix}.attn.conv1", attn.conv1)
        _assign_dw(a, f"{prefix}.attn.conv2", attn.conv2)
        a.conv(f"{prefix}.attn.conv3", attn.conv3)
        a.tensor(f"{prefix}.attn.beta", attn.beta, _flat)
    ffn = block.ffn
    if block.ffw_type == "GFFW":
        a.conv(f"{prefix}.ffn.project_in", ffn.project_in)
        _assign_dw(a, f"{prefix}.ffn.dwconv", ffn.dwconv)
        a.conv(f"{prefix}.ffn.project_out", ffn.project_out)
    else:
        a.conv(f"{prefix}.ffn.conv4", ffn.conv4)
        a.conv(f"{prefix}.ffn.conv5", ffn.conv5)
        a.tensor(f"{prefix}.ffn.gamma", ffn.gamma, _flat)


def _assign_dw(a, prefix, layer):
    a.tensor(prefix + ".weight", layer.kernel, _depthwise)
    if layer.use_bias:
        a.tensor(prefix + ".bias", layer.bias)


def _assign_level(a, official, model, ours=None):
    ours = ours or official
    i = 0
    while True:
        try:
            block = model.get_layer(f"{ours}_{i}")
        except ValueError:
            return
        _assign_block(a, f"{official}.transformer_blocks.{i}", block)
        i += 1


def assign_weights(model, state_dict, rgb=False, source="dealthdr"):
    """Copies official DeAltHDR weights into `model` (strict, except the two unused
    SpyNets, which are dropped, and the SpyNet mean/std buffers, which are constants here).

    rgb: the checkpoint was trained on BGR frames; permute the exposure projections' input
    channels, SpyNet's input channels and normalisation, and the output conv so the model
    takes and returns RGB. The official code reads frames with imageio (RGB), so official
    checkpoints need rgb=False.
    """
    state_dict = tc.strip_module_prefix(state_dict)
    dropped = sorted(k for k in state_dict if k.startswith(_UNUSED_PREFIXES))
    if dropped:
        log.info("%s: dropping %d tensors of the unused fgma_l2/fgma_l1 SpyNets (the official "
                 "forward computes all flows with fgma_l3.spynet)", source, len(dropped))
    state = {k: v for k, v in state_dict.items() if k not in dropped}
    a = tc.StateDictAssigner(state, source, ignore_suffixes=_BUFFERS)
    dec, pair = model.window_decoder, model.pair_flow
    in_perm = None
    if rgb:
        in_perm = tc.FRAME_BGR_PERM if model.frame_channels == 6 else tc.OUTPUT_BGR_PERM
    branches = ("long", "short") if model.use_dual_encoder else ("",)
    for branch in branches:
        enc = model.short_encoder if branch == "short" else model.long_encoder
        pre = f"{branch}_" if branch else ""
        proj = f"{pre}exposure_projection" if branch else "input_projection"
        a.conv(proj, enc.get_layer(proj), in_perm=in_perm)
        for lv in (1, 2, 3):
            _assign_level(a, f"{pre}encoder_level{lv}", enc)
    a.conv("down1_2.body.0", enc.get_layer("down1_2"))
    a.conv("down2_3.body.0", enc.get_layer("down2_3"))
    a.conv("down3_4.body.0", dec.get_layer("down3_4"))
    _assign_level(a, "latent", dec)
    for lv in (3, 2, 1):
        a.conv(f"up{lv + 1}_{lv}.body.0", dec.get_layer(f"up{lv + 1}_{lv}"))
        a.conv(f"reduce_chan_level{lv}", dec.get_layer(f"reduce_chan_level{lv}"))
        _assign_level(a, f"decoder_level{lv}", dec)
        fgma = dec.get_layer(f"fgma_l{lv}")
        for conv in ("proj_q", "proj_k", "proj_v", "project_out"):
            a.conv(f"fgma_l{lv}.{conv}", getattr(fgma, conv))
        a.tensor(f"fgma_l{lv}.temperature", fgma.temperature, _flat)
        fusion = dec.get_layer(f"hdr_fusion_l{lv}")
        a.conv(f"hdr_fusion_l{lv}.weight_conv.0", fusion.conv0)
        a.conv(f"hdr_fusion_l{lv}.weight_conv.2", fusion.conv1)
    _assign_level(a, "refinement", dec)
    a.conv("ending", dec.get_layer("ending"), out_perm=tc.OUTPUT_BGR_PERM if rgb else None)
    spynet = pair.get_layer("spynet")
    for level, convs in enumerate(spynet.basic_module):
        for k, conv in enumerate(convs):
            a.conv(f"fgma_l3.spynet.basic_module.{level}.basic_module.{2 * k}", conv,
                   in_perm=_SPYNET_IN_PERM if rgb and k == 0 else None)
    return a.finish(model)


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Builds `DeAltHDR` carrying official weights.

    Args:
      name: "dealthdr".
      state_dict: mapping official key -> numpy array (torch layout; 'module.' optional).
      config: official constructor kwargs (meta.json "config"), or None to infer them
        from the checkpoint (`infer_config`).
      rgb: see `assign_weights` (False for official checkpoints, which are RGB).
    """
    from hdrkeras.layers.spy_net import IMAGENET_MEAN, IMAGENET_STD  # noqa: PLC0415
    from hdrkeras.models.dealthdr import DeAltHDR  # noqa: PLC0415

    kwargs = model_kwargs(config, state_dict)
    if rgb:  # the BGR-trained SpyNet normalised B with the R statistics, etc.
        kwargs.update(spynet_mean=IMAGENET_MEAN[::-1], spynet_std=IMAGENET_STD[::-1])
    model = DeAltHDR(**kwargs)
    return assign_weights(model, state_dict, rgb=rgb, source=name)


def convert_checkpoint(path, rgb=False):
    """An official DeAltHDR `.pth` (BasicSR saves {'params': ...}) -> DeAltHDR, config
    inferred from the weights. Needs torch to read the file."""
    return load_reference("dealthdr", tc.read_torch_checkpoint(path), None, rgb=rgb)


_RUNS = (  # (output, input, centre exposure, s) as in the fixture's forward_kwargs
    ("out_s0", "inp", "long", 0.0), ("out_s15", "inp", "long", 15.0),
    ("out_s1000", "inp", "long", 1000.0), ("out_s15_short", "inp_short", "short", 15.0))


def is_long_of_centre(exposure_type, batch=1):
    """The official routing of an alternating window as per-frame flags [B, 5]: T-2, T,
    T+2 take the centre's branch, T-1 and T+1 the other."""
    centre = 1.0 if exposure_type == "long" else 0.0
    row = [centre, 1.0 - centre, centre, 1.0 - centre, centre]
    return np.tile(np.asarray(row, np.float32), (batch, 1))


def parity_forward(name, state_dict, config, inputs):
    """Runs the port on the fixture's NTCHW inputs (`inp`, `inp_short`) and returns every
    official-layout output: out_s0/s15/s1000 (inp, centre long), out_s15_short (inp_short,
    centre short), out_flow_example (SpyNet centre -> T-2, NCHW at the padded size),
    out_mask_s15 ([4, 1, H', W'] FGMA masks) and out_mask_ratio ([run, neighbour]).

    All runs go through the model as ONE batch (each element with its own routing and
    sensitivity), which is also what a server does with mixed requests."""
    from hdrkeras.models.dealthdr import sensitivity_threshold  # noqa: PLC0415

    model = load_reference(name, state_dict, config)
    runs = [r for r in _RUNS if r[1] in inputs]
    if not runs:
        return {}
    frames = np.concatenate([np.transpose(inputs[inp], (0, 1, 3, 4, 2)) for _, inp, _, _ in runs
                             ]).astype(np.float32)
    per_run = len(inputs[runs[0][1]])
    is_long = np.concatenate([is_long_of_centre(e, per_run) for _, _, e, _ in runs])
    sens = np.repeat(np.asarray([s for *_, s in runs], np.float32), per_run)
    result = model.forward(frames, is_long, sens)
    y, flow, error = (np.asarray(result[k]) for k in ("hdr", "flow", "flow_error"))
    thr = np.asarray(sensitivity_threshold(sens))[:, None, None, None, None]
    mask = (error > thr).astype(np.float32)  # [B, 4, H', W', 1]
    out = {}
    for r, (key, *_rest) in enumerate(runs):
        first = r * per_run
        out[key] = tc.nhwc_to_nchw(y[first:first + per_run])
        if key == "out_s15":
            out["out_mask_s15"] = np.transpose(mask[first], (0, 3, 1, 2))
            out["out_flow_example"] = tc.nhwc_to_nchw(flow[first:first + per_run, 0])
    if len(runs) == len(_RUNS):
        out["out_mask_ratio"] = mask[::per_run].mean(axis=(2, 3, 4)).astype(np.float32)
    return out
