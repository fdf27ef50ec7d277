"""Reading official PyTorch checkpoints and copying their tensors into Keras layers.

torch is an optional extra (`pip install hdrkeras[convert]`), imported only when a
`.pth` file is actually read. Everything else here works on a plain mapping of the
official parameter names to numpy arrays (torch layouts: Conv2d OIHW, Linear [out, in]).
"""

import os

import numpy as np

from hdrkeras.errors import ConfigError, DataError, MissingWeightsError

# Keys under which training scripts commonly nest the weights.
# ("g": LAN-HDR's trainer saves {"g": generator, "optim_g": ..., "iter", "epoch"}.)
_WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net", "params", "params_ema",
                 "network", "g")


def strip_module_prefix(state_dict):
    """Drops DataParallel's 'module.' prefix from every key that has it."""
    out = {}
    for key, value in state_dict.items():
        out[key[len("module."):] if key.startswith("module.") else key] = value
    return out


def _unwrap(obj, path):
    """Finds the parameter mapping inside a loaded checkpoint object."""
    for _ in range(3):
        if not isinstance(obj, dict):
            break
        if obj and all(hasattr(v, "shape") for v in obj.values()):
            return obj
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj = inner
    raise DataError(f"{path}: no state dict found (expected a mapping of parameter names to "
                    f"tensors, possibly under one of {', '.join(_WRAPPER_KEYS)})")


def read_torch_checkpoint(path):
    """Loads an official `.pth` into {name: float32/int numpy array} without 'module.'.

    Handles checkpoints that wrap the weights (e.g. {'state_dict': ...} or
    {'model': ...}). Needs torch (CPU is enough).
    """
    path = os.fspath(path)
    try:
        import torch  # noqa: PLC0415 - optional dependency, imported on use only
    except ImportError as e:
        raise MissingWeightsError(
            f"{path}: reading PyTorch checkpoints needs torch; install it with "
            f"`pip install hdrkeras[convert]`, or save the state dict as .npz where torch "
            f"is installed ({e})") from None
    if not os.path.isfile(path):
        raise DataError(f"{path}: checkpoint file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file, pickle with custom classes, ...
        raise DataError(f"{path}: cannot read PyTorch checkpoint: {e}") from None
    state = _unwrap(obj, path)
    return {k: v.detach().cpu().numpy() for k, v in strip_module_prefix(state).items()}


class StateDictAssigner:
    """Copies named official tensors into Keras variables and checks nothing is left over.

    Every key of the state dict must be consumed exactly once (except keys ending in
    `ignore_suffixes`, i.e. buffers we compute ourselves) and every variable of the model
    must be written; `finish` raises ConfigError naming missing/unexpected keys.
    """

    def __init__(self, state_dict, source, ignore_suffixes=()):
        self.state = strip_module_prefix(dict(state_dict))
        self.source = source
        self.ignore_suffixes = tuple(ignore_suffixes)
        self.used = set()
        self.missing = []
        self.assigned = set()

    def _get(self, key):
        if key not in self.state:
            self.missing.append(key)
            return None
        self.used.add(key)
        return np.asarray(self.state[key])

    def _assign(self, variable, value, key):
        if tuple(variable.shape) != tuple(value.shape):
            raise ConfigError(f"{self.source}: {key} has shape {tuple(value.shape)} after "
                              f"conversion but the model expects {tuple(variable.shape)} "
                              f"({variable.path}); the config does not match the checkpoint")
        variable.assign(value.astype(np.float32))
        self.assigned.add(id(variable))

    def tensor(self, key, variable, transform=None):
        value = self._get(key)
        if value is not None:
            self._assign(variable, transform(value) if transform else value, key)

    def conv(self, prefix, layer, in_perm=None, out_perm=None):
        """torch Conv2d (OIHW) -> Keras Conv2D (HWIO); a 1x1 conv may target a Dense."""
        def to_keras(w):
            w = np.transpose(w, (2, 3, 1, 0))
            if in_perm is not None:
                w = w[:, :, in_perm, :]
            if out_perm is not None:
                w = w[..., out_perm]
            if len(layer.kernel.shape) == 2:
                w = w.reshape(w.shape[-2], w.shape[-1])
            return w
        self.tensor(prefix + ".weight", layer.kernel, to_keras)
        if getattr(layer, "use_bias", False):
            self.tensor(prefix + ".bias", layer.bias,
                        (lambda b: b[out_perm]) if out_perm is not None else None)

    def linear(self, prefix, layer):
        self.tensor(prefix + ".weight", layer.kernel, np.transpose)
        if layer.use_bias:
            self.tensor(prefix + ".bias", layer.bias)

    def norm(self, prefix, layer):
        self.tensor(prefix + ".weight", layer.gamma)
        self.tensor(prefix + ".bias", layer.beta)

    def finish(self, model):
        unexpected = sorted(k for k in self.state if k not in self.used
                            and not k.endswith(self.ignore_suffixes))
        unset = [v.path for v in model.weights if id(v) not in self.assigned]
        problems = []
        if self.missing:
            problems.append(f"missing keys: {_listing(self.missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {_listing(unexpected)}")
        if unset:
            problems.append(f"model variables not set: {_listing(unset)}")
        if problems:
            raise ConfigError(f"{self.source}: checkpoint does not match the model config; "
                              + "; ".join(problems))
        return model


def _listing(names, most=12):
    """The first `most` names, and how many there are in all when that is not all of them
    (a checkpoint of another network misses hundreds)."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} in all)"


# RGB <-> BGR in a 6-channel frame [H (3), L (3)] and in a 3-channel output.
FRAME_BGR_PERM = [2, 1, 0, 5, 4, 3]
OUTPUT_BGR_PERM = [2, 1, 0]


def assign_swin_group(assigner, prefix, group, conv_name="conv"):
    """Official RSTB/GSAB/CTB weights under `prefix` -> a `ResidualSwinGroup`."""
    for j, blk in enumerate(group.blocks):
        p = f"{prefix}.residual_group.blocks.{j}"
        assigner.norm(p + ".norm1", blk.norm1)
        assigner.tensor(p + ".attn.relative_position_bias_table",
                        blk.attn.relative_position_bias_table)
        assigner.linear(p + ".attn.qkv", blk.attn.qkv)
        assigner.linear(p + ".attn.proj", blk.attn.proj)
        assigner.norm(p + ".norm2", blk.norm2)
        assigner.linear(p + ".mlp.fc1", blk.mlp.fc1)
        assigner.linear(p + ".mlp.fc2", blk.mlp.fc2)
        if blk.local_context:
            assigner.conv(p + ".lce.conv.0", blk.lce.conv0)
            assigner.conv(p + ".lce.conv.1", blk.lce.conv1)
            assigner.conv(p + ".lce.conv.2", blk.lce.conv2)
            assigner.linear(p + ".lce.fc.0", blk.lce.fc0)
            assigner.linear(p + ".lce.fc.2", blk.lce.fc1)
    assigner.conv(f"{prefix}.{conv_name}", group.conv)


def infer_swin_stages(state_dict):
    """(depths, num_heads) from the official 'layers.i.residual_group.blocks.j' keys."""
    depths, heads = [], []
    i = 0
    while True:
        j = 0
        while f"layers.{i}.residual_group.blocks.{j}.norm1.weight" in state_dict:
            j += 1
        if j == 0:
            break
        depths.append(j)
        table = state_dict[f"layers.{i}.residual_group.blocks.0.attn.relative_position_bias_table"]
        heads.append(int(np.shape(table)[1]))
        i += 1
    return depths, heads


def swin_model_kwargs(name, config, state_dict, *, accepted, ignored, in_chans, embed_key):
    """An official Swin-style model config (or None: inferred from the weights) -> our
    constructor kwargs; rejects settings our port does not implement, naming them.

    Args:
      name: str. Model name used in error messages.
      config: dict or None. The official constructor kwargs.
      state_dict: mapping of official parameter names to arrays.
      accepted: names passed through unchanged.
      ignored: names that only size buffers we compute ourselves (e.g. img_size).
      in_chans: the only input channel count the architecture supports.
      embed_key: parameter whose first dimension is embed_dim (for inference).
    """
    if config is None:
        first_table = "layers.0.residual_group.blocks.0.attn.relative_position_bias_table"
        if embed_key not in state_dict or first_table not in state_dict:
            raise DataError(f"{name}: cannot infer the configuration from the checkpoint: it "
                            f"has no {embed_key!r} or {first_table!r} (not a {name} "
                            "checkpoint?)")
        depths, heads = infer_swin_stages(state_dict)
        return {"embed_dim": int(np.shape(state_dict[embed_key])[0]), "depths": depths,
                "num_heads": heads, "window_size": window_from_table(state_dict)}
    fixed = {"in_chans": in_chans, "patch_size": 1, "resi_connection": "1conv"}
    kwargs = {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif key in fixed:
            if value != fixed[key]:
                raise ConfigError(f"{name}: {key} must be {fixed[key]!r}, got {value!r}")
        elif key not in ignored:
            raise ConfigError(f"{name}: unknown config key {key!r}")
    return kwargs


def window_from_table(state_dict):
    n = np.shape(state_dict["layers.0.residual_group.blocks.0.attn.relative_position_bias_table"])[0]
    return (int(round(np.sqrt(n))) + 1) // 2


def nchw_to_nhwc(x):
    return np.ascontiguousarray(np.transpose(np.asarray(x, np.float32), (0, 2, 3, 1)))


def nhwc_to_nchw(x):
    return np.ascontiguousarray(np.transpose(np.asarray(x), (0, 3, 1, 2)))
