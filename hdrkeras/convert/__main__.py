"""Converts official checkpoints to .keras files.

  python -m hdrkeras.convert --method sctnet --checkpoint SCTNet.pth --out model.keras
  python -m hdrkeras.convert --method esbn --checkpoint align_low=CKPT_LOW \\
      --checkpoint align_high=CKPT_HIGH --checkpoint fusion=CKPT_FUSION --out model.keras

`--checkpoint` is repeatable, each `[ROLE=]PATH`: a PyTorch `.pth`, the same state dict as
`.npz`, or a TF1 checkpoint (prefix, or directory with a `checkpoint` index file); see
hdrkeras.convert.state_dicts. The roles are the method's `official_networks`. `--out`
ending in `.keras` receives the method's inference model, ready for
`python -m hdrkeras.export --method NAME --checkpoint model.keras`, and needs a checkpoint
for every role; any other `--out` is a directory receiving `<ROLE>.keras` per network
given. `--config JSON` passes official constructor arguments of a checkpoint trained with
a non-default configuration; `--backbone` picks the network of SelfHDR's checkpoints.
Every checkpoint is converted before anything is written, and each file is written
atomically, so a failed run leaves no partial output.
"""

import json
import os
import sys

from absl import flags

from hdrkeras import cli, convert, methods
from hdrkeras.convert.state_dicts import read_state_dict
from hdrkeras.errors import ConfigError, DataError, HDRKerasError
from hdrkeras.saving import save_keras

FLAGS = flags.FLAGS


def define_flags():
    """Defined only when run as a program, so importing this module (tests, other CLIs in
    one process) never collides with other tools' --method/--checkpoint/--out flags."""
    flags.DEFINE_string("method", None, "Method whose official checkpoint to convert.")
    flags.DEFINE_multi_string("checkpoint", None,
                              "[ROLE=]PATH of an official checkpoint; repeatable.")
    flags.DEFINE_string("out", None, "Output .keras file, or a directory for single networks.")
    flags.DEFINE_string("config", None, "Official constructor arguments as JSON, for a "
                        "checkpoint trained with a non-default configuration.")
    flags.DEFINE_string("backbone", None, "Network of a method that trains one of several "
                        "(selfhdr).")


def convertible():
    return [n for n in methods.names() if methods.get(n).official_roles({})]


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


def parse_config(text):
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--config is not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise ConfigError(f"--config must be a JSON object, got {text}")
    return config


def convert_networks(method, roles, specs, config=None):
    """[(role or None, path)] -> {role: keras.Model} carrying the official weights, taking
    RGB (colour layers permuted for a method whose official code reads BGR); `roles`:
    role -> converter name (Method.official_roles)."""
    networks = {}
    for role, path in specs:
        print(f"converting {path} ...", flush=True)
        state = read_state_dict(path)
        role = role or method.checkpoint_role(state, path, roles)
        if role in networks:
            raise ConfigError(f"two checkpoints were given as {role}; name each one's role: "
                              f"--checkpoint ROLE=PATH with ROLE one of {', '.join(roles)}")
        converter = roles[role]
        try:
            networks[role] = convert.load_reference(
                converter, state, method.official_config(role, config),
                rgb=method.official_bgr)
        except HDRKerasError as e:
            raise type(e)(f"{path} (as {method.name} {role}): {e}") from None
    return networks


def write_networks(networks, out):
    """{role: keras.Model} -> OUT/<role>.keras."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise DataError(f"--out {out}: exists and is not a directory")
    written = []
    for role, model in networks.items():
        path = save_keras(model, os.path.join(out, f"{role}.keras"))
        written.append(path)
        print(f"wrote {path} ({role}, {model.count_params():,} parameters)")
    return written


def convert_method(method_name, checkpoints, out, config=None, backbone=None):
    """Library entry of the CLI: returns the list of written paths."""
    if not method_name:
        raise ConfigError(f"--method is required; known: {', '.join(convertible())}")
    method = methods.get(method_name)
    options = method.parse_options({"backbone": backbone})
    converters = method.official_roles(options)
    if not converters:
        raise ConfigError(f"--method {method_name!r} has no official checkpoint to convert; "
                          f"methods with one: {', '.join(convertible())}")
    if not out:
        raise ConfigError("--out is required")
    roles = tuple(converters)
    specs = parse_specs(checkpoints, roles)
    one_file = out.endswith(".keras")
    if one_file and len(specs) > len(roles):
        raise ConfigError(f"--out {out} is one .keras file but {len(specs)} checkpoints were "
                          f"given; method {method.name!r} takes {len(roles)}")
    networks = convert_networks(method, converters, specs, config)
    if not one_file:
        return write_networks(networks, out)
    missing = [r for r in roles if r not in networks]
    if missing:
        raise ConfigError(f"--out {out}: the {method.name} inference model needs a checkpoint "
                          f"for each of {', '.join(roles)} (missing {', '.join(missing)}); "
                          f"use --out DIR to write only the networks given")
    model = method.from_official(networks, options)
    save_keras(model, out)
    print(f"wrote {out} ({method.name} inference model, {model.count_params():,} parameters)")
    return [out]


def main(argv):
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments: {' '.join(argv[1:])}")
    convert_method(FLAGS.method, FLAGS.checkpoint, FLAGS.out, parse_config(FLAGS.config),
                   FLAGS.backbone)


if __name__ == "__main__":
    define_flags()
    cli.run_main(main, sys.argv)
