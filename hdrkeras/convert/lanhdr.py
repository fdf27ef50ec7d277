"""Official LAN-HDR checkpoints (haesoochung/LAN-HDR models/model.py, model_3E.py:
Generator) -> hdrkeras `LanHdr`.

Official LAN-HDR reads its frames as RGB (imageio, and `read_16bit_tif` converts cv2's
BGR), so its checkpoints already take and return RGB: convert with `rgb=False` (the
default). `rgb=True` flips the colour order of every layer that sees colour channels
(for a checkpoint trained on BGR data); the luma channel Y is kept as given.
"""

import numpy as np

from hdrkeras.convert import torch_checkpoint as tc
from hdrkeras.errors import ConfigError

# Window of each registered name (the official trainer picks the file by nexps).
_WINDOWS = {"lanhdr_2e": {"nframes": 5, "nexps": 2}, "lanhdr_3e": {"nframes": 7, "nexps": 3}}
_KEYS = ("ch", "tdim", "nframes", "nexps")

# Colour permutations (RGB <-> BGR) of the channel groups the first layers read.
_FRAME7_PERM = [2, 1, 0, 5, 4, 3, 6]  # [L, H, Y]
_FRAME6_PERM = [2, 1, 0, 5, 4, 3]  # [L, H]
_LUMA4_PERM = [0, 3, 2, 1]  # [Y, H]


def window_name(state_dict, source):
    """"lanhdr_2e" or "lanhdr_3e" for an official state dict: the merge head reads
    nframes * ch channels (5 frames: model.py, 7: model_3E.py)."""
    try:
        head = np.shape(tc.strip_module_prefix(state_dict)["merge.conv1_head.weight"])
        frames = int(head[1]) // int(head[0])
    except (KeyError, IndexError, ZeroDivisionError):
        raise ConfigError(f"{source}: not a LAN-HDR checkpoint (no merge.conv1_head."
                          f"weight)") from None
    for key, window in _WINDOWS.items():
        if window["nframes"] == frames:
            return key
    raise ConfigError(f"{source}: a LAN-HDR checkpoint for a {frames}-frame window; the "
                      f"official models take 5 (2E) or 7 (3E)")


def model_kwargs(name, config, state_dict):
    """Official args (ch, tdim, nframes, nexps; or None: inferred from the weights) ->
    `LanHdr` kwargs; ConfigError on unknown keys or a window that contradicts `name`."""
    if name == "lanhdr":  # either window, told apart by the merge head's input width
        name = window_name(state_dict, name)
    window = _WINDOWS.get(name)
    if window is None:
        raise ConfigError(f"unknown LAN-HDR converter name {name!r}; known: "
                          f"{sorted(_WINDOWS) + ['lanhdr']}")
    if config is None:
        try:
            tdim = int(np.shape(state_dict["align.FE_KQ.conv11.weight"])[0])
            head = np.shape(state_dict["merge.conv1_head.weight"])
        except KeyError as e:
            raise ConfigError(f"{name}: cannot infer the config, checkpoint lacks {e}") from None
        config = {"ch": int(head[0]), "tdim": tdim, "nframes": int(head[1]) // int(head[0]),
                  "nexps": window["nexps"]}
    unknown = sorted(set(config) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{name}: unknown config keys {unknown}; LAN-HDR takes {list(_KEYS)}")
    kwargs = {**window, **{k: int(v) for k, v in config.items()}}
    for key, value in window.items():
        if kwargs[key] != value:
            raise ConfigError(f"{name}: {key} must be {value}, got {kwargs[key]}")
    return kwargs


def _assign_pyramid(a, prefix, encoder, gated, in_perm):
    """FE_res_fft / FE_res_fft_gc weights -> a `pyramid_encoder` sub-model."""
    for i, conv in enumerate(("conv11", "conv12", "conv21", "conv31", "conv41")):
        layer = encoder.get_layer(conv)
        perm = in_perm if i == 0 else None
        if gated:
            a.conv(f"{prefix}.{conv}.conv2d", layer.conv2d, in_perm=perm)
        else:
            a.conv(f"{prefix}.{conv}", layer, in_perm=perm)
    for i in range(1, 5):
        _assign_fft_block(a, f"{prefix}.block{i}", encoder.get_layer(f"block{i}"))


def _assign_fft_block(a, prefix, block):
    a.conv(prefix + ".main.0", block.main_0)
    a.conv(prefix + ".main.2", block.main_2)
    a.conv(prefix + ".main_fft.0", block.main_fft_0)
    a.conv(prefix + ".main_fft.2", block.main_fft_2)


def _assign_resblock(a, prefix, block):
    a.conv(prefix + ".conv1", block.conv1)
    a.conv(prefix + ".conv2", block.conv2)
    if block.downsample is not None:
        a.conv(prefix + ".downsample", block.downsample)


def assign_weights(model, state_dict, rgb=False, source="lanhdr"):
    """Copies an official Generator state dict into `model` (strict: every key used once,
    every variable set)."""
    a = tc.StateDictAssigner(state_dict, source)

    def perm(p):
        return p if rgb else None

    _assign_pyramid(a, "align.FE_KQ", model.fe_kq, False, perm(_LUMA4_PERM))
    _assign_pyramid(a, "align.FE_V", model.fe_v, False, perm(_FRAME6_PERM))
    _assign_pyramid(a, "align.mov_extractor", model.mov_extractor, True, perm(_FRAME7_PERM))
    _assign_pyramid(a, "align.ref_extractor", model.ref_extractor, True, perm(_FRAME7_PERM))

    # Linear over unfolded 3x3 patches, input order (c, ki, kj), == a 3x3 conv:
    # (out, C*9) -> (out, C, 3, 3) -> HWIO. A width that does not split into 3x3 patches
    # is passed on unchanged, so the assigner reports the shape mismatch.
    def embed_to_conv(w):
        if w.ndim != 2 or w.shape[1] % 9:
            return w
        return np.transpose(np.reshape(w, (w.shape[0], -1, 3, 3)), (2, 3, 1, 0))

    a.tensor("align.Transformer.embed.weight", model.transformer.embed.kernel, embed_to_conv)

    recon = model.recon
    a.conv("align.Recon.s3.conv_head", recon.get_layer("s3_conv_head"))
    for i in range(5):
        _assign_resblock(a, f"align.Recon.s3.RBs.{i}", recon.get_layer(f"s3_rb_{i}"))
    a.conv("align.Recon.s3.conv_tail", recon.get_layer("s3_conv_tail"))
    for up in ("up_8_4", "up_4_2", "up_2_1"):
        a.conv(f"align.Recon.{up}.skip_conv", recon.get_layer(f"{up}_skip_conv"))
        _assign_resblock(a, f"align.Recon.{up}.out_conv", recon.get_layer(f"{up}_out_conv"))
    a.conv("align.Recon.conv_final1", recon.get_layer("conv_final1"))

    fuser = model.fuser
    _assign_resblock(a, "align.Fuser.RB_head", fuser.get_layer("rb_head"))
    for i in range(2):
        _assign_resblock(a, f"align.Fuser.RBs.{i}", fuser.get_layer(f"rb_{i}"))
    for conv in ("conv_tail", "conv_bn", "conv_gate"):
        a.conv(f"align.Fuser.{conv}", fuser.get_layer(conv))
    _assign_resblock(a, "align.Fuser.fb", fuser.get_layer("fb"))
    for up in ("up_8_4", "up_4_2", "up_2_1"):
        a.conv(f"align.Fuser.{up}.skip_conv", fuser.get_layer(f"{up}_skip_conv"))
        _assign_resblock(a, f"align.Fuser.{up}.rb", fuser.get_layer(f"{up}_rb"))

    merge = model.merge
    a.conv("merge.conv1_head", merge.get_layer("conv1_head"))
    for i in range(5):
        _assign_fft_block(a, f"merge.RB1s.{i}", merge.get_layer(f"rb1_{i}"))
    a.conv("merge.conv1_tail", merge.get_layer("conv1_tail"),
           out_perm=tc.OUTPUT_BGR_PERM if rgb else None)
    return a.finish(model)


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Builds `LanHdr` carrying official weights.

    Args:
      name: "lanhdr_2e" (5-frame window), "lanhdr_3e" (7-frame window) or "lanhdr"
        (either, from the weights).
      state_dict: mapping official key -> numpy array (torch layout; 'module.' optional).
      config: official args {ch, tdim, nframes, nexps} (meta.json "config"), or None to
        infer ch/tdim/nframes from the weights.
      rgb: flip the colour order of the first layers and the output (see module
        docstring: not needed for official checkpoints, which are RGB).
    """
    from hdrkeras.models.lanhdr import LanHdr  # noqa: PLC0415 - keep import light

    state_dict = tc.strip_module_prefix(state_dict)
    model = LanHdr(**model_kwargs(name, config, state_dict))
    return assign_weights(model, state_dict, rgb=rgb, source=name)


def parity_forward(name, state_dict, config, inputs):
    """Runs the port on the fixture's NCHW inputs and returns, in the official layout:
    out_output, out_gates_<i>; the attention of every frame (aux_corr_max_<i>,
    aux_corr_argmax_<i>); the stand-alone attention test (aux_tr_out_S, aux_tr_out_T,
    aux_tr_argmax) when its inputs are given; and, when the raw `ldr_frames` /
    `exposures` are given, our preprocessing of them under the fixture's input names
    (inputs_<i>, input_ys_<i>, input_exp_ys_<i>)."""
    import tensorflow as tf  # noqa: PLC0415

    from hdrkeras.layers.lanhdr_inputs import LanHdrInputs  # noqa: PLC0415

    model = load_reference(name, state_dict, config)
    n = model.nframes
    names = [f"{k}_{i}" for k in ("inputs", "input_ys", "input_exp_ys") for i in range(n)]
    feeds = {k: tc.nchw_to_nhwc(inputs[k]) for k in names}
    y = model(feeds, training=False)
    out = {"out_output": tc.nhwc_to_nchw(y["output"].numpy())}
    gates = y["gates"].numpy()
    for i in range(n):
        out[f"out_gates_{i}"] = tc.nhwc_to_nchw(gates[:, i])
        s, idx = model.attention(feeds[f"inputs_{i}"], feeds[f"input_ys_{i}"],
                                 feeds[f"input_exp_ys_{i}"])
        out[f"aux_corr_max_{i}"] = np.reshape(s.numpy(), (s.shape[0], -1))
        out[f"aux_corr_argmax_{i}"] = idx.numpy().astype(np.int64)
    if "aux_tr_query" in inputs:
        q, k, v = (tc.nchw_to_nhwc(inputs[f"aux_tr_{x}"]) for x in ("query", "key", "value"))
        s, t, idx = model.transformer(q, k, v, return_argmax=True)
        out["aux_tr_out_S"] = tc.nhwc_to_nchw(s.numpy())
        out["aux_tr_out_T"] = tc.nhwc_to_nchw(t.numpy())
        out["aux_tr_argmax"] = idx.numpy().astype(np.int64)
    if "ldr_frames" in inputs and "exposures" in inputs:
        ldr = np.transpose(np.asarray(inputs["ldr_frames"], np.float32), (0, 1, 3, 4, 2))
        exposures = np.broadcast_to(np.asarray(inputs["exposures"], np.float32),
                                    ldr.shape[:2])
        pre = LanHdrInputs()(tf.constant(ldr), tf.constant(exposures))
        out.update({k: tc.nhwc_to_nchw(v.numpy()) for k, v in pre.items()})
    return out
