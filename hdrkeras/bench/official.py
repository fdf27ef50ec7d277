"""python -m hdrkeras.bench.official --repo CHECKOUT --method NAME [--size HxW]
[--threads N] [--runs R] [--warmup W] [--json]

Times an official PyTorch backbone from the user's local checkout of its repository, the
way `python -m hdrkeras.bench` times ours (batch 1, random inputs, median after warm-up,
peak RSS of the timed runs), so both can be measured in one session on one machine: the
only comparison a shared, noisy host allows. Weights are random (timing only); the
checkout's parameter count is checked against the official default so a wrong file or
config cannot pass for the official network. Needs the `official` extra (PyTorch CPU,
einops). The official code is read from the checkout, never copied into hdrkeras.
"""

import dataclasses
import importlib.util
import json
import os
import sys
import types
from typing import Mapping, Optional

import numpy as np

from hdrkeras.bench.inference import format_result, parse_size, time_runs
from hdrkeras.errors import ConfigError, DataError, MissingWeightsError


@dataclasses.dataclass(frozen=True)
class OfficialModel:
    """Where an official network lives in its repository and what it should hold.

    Attributes:
      path: file inside the checkout (cszhilu1998/SelfHDR layout, or haesoochung/LAN-HDR).
      class_name: the nn.Module built with its default arguments, as SelfHDR does.
      params: its parameter count at those defaults.
      args: for LAN-HDR, the argparse namespace its Generator takes (config.py defaults);
        None for the SelfHDR backbones (built without arguments).
      kwargs: constructor arguments where the class has no defaults (DeAltHDR: its
        options/DeAltHDR.yml), as a tuple of (name, value).
      video: the forward takes one [1, 5, 6, H, W] window (DeAltHDR) instead of three
        [1, 6, H, W] frames.
    """

    path: str
    class_name: str
    params: int
    args: Optional[Mapping[str, int]] = None
    kwargs: tuple = ()
    video: bool = False


# SelfHDR's models/ carries all four backbones at their official defaults.
OFFICIAL_MODELS = {
    "ahdrnet": OfficialModel("models/ahdrnet.py", "AHDR", 1_241_507),
    "fshdr": OfficialModel("models/fshdr.py", "FSHDR", 1_833_603),
    "hdr_transformer": OfficialModel("models/hdr_transformer.py", "HDRTransformer", 1_222_113),
    "sctnet": OfficialModel("models/sctnet.py", "SCTNet", 994_555),
    # haesoochung/LAN-HDR: one window (5 frames, 2 exposures / 7 frames, 3 exposures).
    "lanhdr_2e": OfficialModel("models/model.py", "Generator", 7_315_140,
                               {"ch": 64, "tdim": 16, "nframes": 5, "nexps": 2}),
    "lanhdr_3e": OfficialModel("models/model_3E.py", "Generator", 7_388_868,
                               {"ch": 64, "tdim": 16, "nframes": 7, "nexps": 3}),
    # Goodenough8216/DeAltHDR (v1.4.2) at options/DeAltHDR.yml; three SpyNets built, one used.
    "dealthdr": OfficialModel(
        "basicsr/models/archs/dealthdr_arch.py", "DeAltHDR", 15_087_824,
        kwargs=(("inp_channels", 3), ("out_channels", 3), ("dim", 32),
                ("Enc_blocks", [2, 4, 6]), ("Middle_blocks", 6), ("Dec_blocks", [6, 4, 2]),
                ("num_heads_blks", [1, 2, 4, 8]), ("num_refinement_blocks", 1),
                ("ffn_expansion_factor", 2.5), ("bias", False),
                ("LayerNorm_type", "WithBias"),
                ("encoder1_attn_type1", "ReducedAttn"), ("encoder1_attn_type2", "ReducedAttn"),
                ("encoder2_attn_type1", "ReducedAttn"), ("encoder2_attn_type2", "ReducedAttn"),
                ("encoder3_attn_type1", "Channel"), ("encoder3_attn_type2", "Channel"),
                ("decoder1_attn_type1", "Channel"), ("decoder1_attn_type2", "Channel"),
                ("decoder2_attn_type1", "Channel"), ("decoder2_attn_type2", "Channel"),
                ("decoder3_attn_type1", "Channel"), ("decoder3_attn_type2", "Channel"),
                ("encoder1_ffw_type", "FFW"), ("encoder2_ffw_type", "FFW"),
                ("encoder3_ffw_type", "GFFW"), ("decoder1_ffw_type", "GFFW"),
                ("decoder2_ffw_type", "GFFW"), ("decoder3_ffw_type", "GFFW"),
                ("latent_attn_type1", "FHR"), ("latent_attn_type2", "Channel"),
                ("latent_ffw_type", "GFFW"), ("refinement_attn_type1", "ReducedAttn"),
                ("refinement_attn_type2", "ReducedAttn"), ("refinement_ffw_type", "GFFW"),
                ("use_both_input", True), ("num_frames_tocache", 4),
                ("use_dual_encoder", True)),
        video=True),
}


def _import_torch():
    try:
        import torch  # noqa: PLC0415 - optional dependency, imported on use only
    except ImportError as e:
        raise MissingWeightsError(
            f"timing the official PyTorch code needs torch; install it with "
            f"`pip install -e '.[official]'` ({e})") from None
    return torch


def _timm_stand_in(torch):
    """`timm.models.layers` as the official Swin files use it (DropPath, to_2tuple,
    trunc_normal_). timm itself needs torchvision, which does not install beside the CPU
    build of torch on every machine; identity at inference, so timing is unaffected."""
    nn = torch.nn

    class DropPath(nn.Module):
        def __init__(self, drop_prob=0.0):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x):
            if not self.training or not self.drop_prob:
                return x
            keep = 1.0 - self.drop_prob
            mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
            return x * mask / keep

    def to_2tuple(x):
        return tuple(x) if isinstance(x, (list, tuple)) else (x, x)

    def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
        return nn.init.trunc_normal_(tensor, mean, std, a, b)

    layers = types.ModuleType("timm.models.layers")
    layers.DropPath, layers.to_2tuple, layers.trunc_normal_ = DropPath, to_2tuple, trunc_normal_
    models = types.ModuleType("timm.models")
    models.layers = layers
    timm = types.ModuleType("timm")
    timm.models = models
    return {"timm": timm, "timm.models": models, "timm.models.layers": layers}


def _lanhdr_stand_ins(repo):
    """LAN-HDR's model files import its package layout (`models.*`, `utils`, `config`) and,
    at module level only, kornia's ColorJitter, its training utilities (skimage, yaml)
    and its argparse config (colorama). None of those run in the Generator's forward, so
    where they do not import they are replaced by empty modules; the network code itself
    is the checkout's."""
    if repo not in sys.path:
        sys.path.insert(0, repo)

    def empty(name, **attrs):
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        return module

    class _Unused:
        def __init__(self, *args, **kwargs):
            pass

    try:
        import kornia.augmentation  # noqa: F401, PLC0415
    except ImportError:
        aug = empty("kornia.augmentation", ColorJitter=_Unused)
        sys.modules.setdefault("kornia", empty("kornia", augmentation=aug))
        sys.modules.setdefault("kornia.augmentation", aug)
    sys.modules.setdefault("config", empty("config", ROOT_DIR=repo))
    for name in ("utils.utils", "utils.tools"):
        try:
            importlib.import_module(name)
        except ImportError:
            sys.modules[name] = empty(name)
            importlib.import_module("utils").__dict__[name.split(".")[1]] = sys.modules[name]


def official_class(repo, method, torch):
    """The official nn.Module class of `method` from the checkout at `repo`."""
    if method not in OFFICIAL_MODELS:
        raise ConfigError(f"no official PyTorch model known for {method!r}; "
                          f"known: {', '.join(sorted(OFFICIAL_MODELS))}")
    entry = OFFICIAL_MODELS[method]
    if not os.path.isdir(repo):
        raise DataError(f"{repo}: official checkout not found (clone the official repository)")
    path = os.path.join(repo, entry.path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: not in the checkout (expected the SelfHDR layout, "
                        f"{entry.path})")
    try:
        import timm.models.layers  # noqa: F401, PLC0415 - the real one when it imports
    except ImportError:
        for name, module in _timm_stand_in(torch).items():
            sys.modules.setdefault(name, module)
    if entry.args is not None:
        _lanhdr_stand_ins(repo)
    spec = importlib.util.spec_from_file_location(f"official_{method}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as e:
        raise MissingWeightsError(f"{path}: cannot import it ({e}); the official code "
                                  f"needs `pip install -e '.[official]'`") from None
    cls = getattr(module, entry.class_name, None)
    if cls is None:
        raise DataError(f"{path}: no class {entry.class_name}")
    return cls


def measure_official(repo, method, height=256, width=256, threads=None, runs=3, warmup=1,
                     seed=0, sensitivity=None):
    """Times the official network's forward on CPU; returns a `format_result` dict."""
    if runs < 1 or warmup < 0:
        raise ConfigError(f"--runs must be >= 1 and --warmup >= 0, got {runs}, {warmup}")
    torch = _import_torch()
    if threads:
        torch.set_num_threads(int(threads))
    entry = OFFICIAL_MODELS[method]
    cls = official_class(repo, method, torch)
    net = (cls(types.SimpleNamespace(**entry.args)) if entry.args is not None
           else cls(**dict(entry.kwargs))).eval()
    params = int(sum(p.numel() for p in net.parameters()))
    if params != entry.params:
        raise DataError(f"{os.path.join(repo, entry.path)}: {entry.class_name}() has "
                        f"{params:,} parameters, the official default has {entry.params:,}: "
                        f"not the official network")
    rng = np.random.default_rng(seed)

    def tensors(n, channels):
        return [torch.from_numpy(rng.uniform(0, 1, (1, channels, height, width))
                                 .astype(np.float32)) for _ in range(n)]

    extra, kwargs = {}, {}
    if entry.video:  # DeAltHDR: one 5-frame window per output frame, official test settings
        s = 15.0 if sensitivity is None else float(sensitivity)
        frames = [torch.from_numpy(rng.uniform(0, 1, (1, 5, 6, height, width))
                                   .astype(np.float32))]
        kwargs = {"exposure_type": "long", "training_mode": "mixed", "sensitivity": s}
        extra = {"sensitivity": s}
    elif entry.args is not None:  # LAN-HDR: per-frame input lists [L, H, Y], [Y, H], [Y(Le), He]
        n = entry.args["nframes"]
        frames = (tensors(n, 7), tensors(n, 4), tensors(n, 4))
    else:
        frames = tensors(3, 6)

    def forward():
        with torch.no_grad():
            return net(*frames, **kwargs)

    return {
        "method": f"official {method} (PyTorch {torch.__version__})", "backbone": method,
        "implementation": "official", "mode": "inference",
        "height": height, "width": width, "batch": 1,
        "frames": 5 if entry.video else (3 if entry.args is None else entry.args["nframes"]),
        "params": params,
        "threads": threads, "tile": None, "overlap": None, "runs": runs, "warmup": warmup,
        "xla": False, "device": "CPU", **extra, **time_runs(forward, warmup, runs),
    }


def main(argv):
    from absl import flags

    f = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not f.repo or not f.method:
        raise ConfigError("give --repo CHECKOUT and --method NAME")
    height, width = parse_size(f.size)
    result = measure_official(f.repo, f.method, height, width, f.threads, f.runs, f.warmup,
                              sensitivity=f.sensitivity)
    print(json.dumps(result) if f.json else format_result(result), flush=True)
    return 0


if __name__ == "__main__":
    from absl import flags

    flags.DEFINE_string("repo", None, "Local checkout of the official repository (SelfHDR).")
    flags.DEFINE_string("method", None, f"One of {', '.join(sorted(OFFICIAL_MODELS))}.")
    flags.DEFINE_string("size", "256x256", "Input size HxW.")
    flags.DEFINE_integer("threads", None, "torch intra-op threads (default: torch's choice).")
    flags.DEFINE_integer("runs", 3, "Timed runs (median reported).")
    flags.DEFINE_integer("warmup", 1, "Untimed warm-up runs.")
    flags.DEFINE_float("sensitivity", None, "DeAltHDR's s (default 15).")
    flags.DEFINE_bool("json", False, "Print one JSON line.")
    from hdrkeras import cli

    cli.run_main(main)
