"""Converts official checkpoints to .keras files.

  python -m hdrkeras.convert --method esbn --checkpoint PATH --out model.keras
  python -m hdrkeras.convert --method esbn --checkpoint align_low=CKPT_LOW \\
      --checkpoint align_high=CKPT_HIGH --checkpoint fusion=CKPT_FUSION --out DIR
  python -m hdrkeras.convert --method dealthdr --checkpoint net_g.pth --out dealthdr.keras
  python -m hdrkeras.convert --method lanhdr --checkpoint ckpt.pt --out lanhdr.keras

`--checkpoint` is repeatable, each `[ROLE=]PATH` (PATH: a checkpoint prefix or a
directory with a `checkpoint` index file). `--out` ending in `.keras` takes exactly one
checkpoint; any other `--out` is a directory receiving `<ROLE>.keras` per checkpoint.
Every checkpoint is converted before anything is written, and each file is written
atomically, so a failed run leaves no partial output.

Other methods add a converter to `CONVERTERS`: method -> function(specs, out) where specs
is a list of (role or None, path).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from hdrkeras.errors import ConfigError, DataError  # noqa: E402

FLAGS = flags.FLAGS


def define_flags():
    """Defined only when run as a program, so importing this module (tests, other CLIs in
    one process) never collides with other tools' --method/--checkpoint/--out flags."""
    flags.DEFINE_string("method", None, "Method whose official checkpoint to convert (esbn, dealthdr, lanhdr).")
    flags.DEFINE_multi_string("checkpoint", None,
                              "[ROLE=]PATH of an official checkpoint; repeatable.")
    flags.DEFINE_string("out", None, "Output .keras file, or a directory for several nets.")


def parse_specs(values, roles):
    """['[ROLE=]PATH', ...] -> [(role or None, path)]; ConfigError on unknown roles."""
    specs = []
    for value in values or ():
        role, sep, path = value.partition("=")
        if sep and role in roles:
            specs.append((role, path))
        elif sep and "/" not in role and os.sep not in role and not os.path.exists(value):
            raise ConfigError(f"--checkpoint {value}: unknown role {role!r}; known: "
                              f"{', '.join(roles)}")
        else:
            specs.append((None, value))
    if not specs:
        raise ConfigError("--checkpoint is required")
    return specs


def write_models(models, out):
    """{role: keras.Model} -> out (.keras file for one model, else DIR/<role>.keras)."""
    from hdrkeras.io.atomic import atomic_path

    if out.endswith(".keras"):
        targets = {role: out for role in models}
    else:
        if os.path.exists(out) and not os.path.isdir(out):
            raise DataError(f"--out {out}: exists and is not a directory")
        targets = {role: os.path.join(out, f"{role}.keras") for role in models}
    written = []
    for role, model in models.items():
        with atomic_path(targets[role]) as tmp:
            model.save(tmp)
        written.append(targets[role])
        print(f"wrote {targets[role]} ({role}, {model.count_params():,} parameters)")
    return written


def convert_esbn(specs, out):
    """ESBN: each spec is one network; see hdrkeras.convert.esbn.convert_checkpoint."""
    from hdrkeras.convert import esbn

    if out.endswith(".keras") and len(specs) != 1:
        raise ConfigError(f"--out {out} is one .keras file but {len(specs)} checkpoints "
                          "were given; use --out DIR to write several networks")
    models = {}
    for role, path in specs:
        print(f"converting {path} ...")
        role, model = esbn.convert_checkpoint(path, role)
        if role in models:
            raise ConfigError(f"two checkpoints were given as {role}; the alignment nets "
                              "share variable names, so name them: "
                              "--checkpoint align_low=PATH --checkpoint align_high=PATH")
        models[role] = model
    return write_models(models, out)


def convert_dealthdr(specs, out):
    """DeAltHDR: one official .pth (config inferred from its weights; the two unused
    SpyNets are dropped); see hdrkeras.convert.dealthdr.convert_checkpoint."""
    from hdrkeras.convert import dealthdr

    if len(specs) != 1:
        raise ConfigError(f"dealthdr takes exactly one --checkpoint, got {len(specs)}")
    path = specs[0][1]
    print(f"converting {path} ...")
    return write_models({"dealthdr": dealthdr.convert_checkpoint(path)}, out)


def convert_lanhdr(specs, out):
    """LAN-HDR: one official .pth (2E or 3E, told apart by its merge head) -> the video
    inference model (ldr, exposures -> hdr); see hdrkeras.methods.lanhdr."""
    from hdrkeras import methods
    from hdrkeras.convert import torch_checkpoint

    if len(specs) != 1:
        raise ConfigError(f"lanhdr takes exactly one --checkpoint, got {len(specs)}")
    path = specs[0][1]
    print(f"converting {path} ...")
    state_dict = torch_checkpoint.strip_module_prefix(torch_checkpoint.read_torch_checkpoint(path))
    return write_models({"lanhdr": methods.get("lanhdr").convert_checkpoint(state_dict, path)},
                        out)


# method -> (converter, roles accepted in --checkpoint ROLE=PATH)
CONVERTERS = {
    "esbn": (convert_esbn, ("align_low", "align_high", "fusion")),
    "dealthdr": (convert_dealthdr, ()),
    "lanhdr": (convert_lanhdr, ()),
}


def convert(method, checkpoints, out):
    """Library entry of the CLI: returns the list of written paths."""
    if not method:
        raise ConfigError(f"--method is required; known: {', '.join(sorted(CONVERTERS))}")
    if method not in CONVERTERS:
        raise ConfigError(f"--method {method!r} has no checkpoint converter; known: "
                          f"{', '.join(sorted(CONVERTERS))}")
    if not out:
        raise ConfigError("--out is required")
    fn, roles = CONVERTERS[method]
    return fn(parse_specs(checkpoints, roles), out)


def main(argv):
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    convert(FLAGS.method, FLAGS.checkpoint, FLAGS.out)


if __name__ == "__main__":
    from hdrkeras.cli import run_main

    define_flags()
    run_main(main, sys.argv)
