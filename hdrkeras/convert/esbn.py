"""Official ESBN TF1 checkpoints (tkd1088/ESBN) -> hdrkeras ESBN networks.

Each official checkpoint holds ONE network: an alignment net (training_align_low.py or
training_align_high.py; both build `MCAE_align`, so both use the scopes
Align_Encoder_low / Align_Encoder_midforlow / Align_Decoder_low) or the fusion net
(training_fusion.py, scope "fusion"). Variables are named
  conv:  <S>_<n>/<S>_<n>_weights (HWIO), <S>_<n>/<S>_<n>_biases
  BN:    <S>_<n>/{gamma, beta, moving_mean, moving_variance}
with or without the ':0' tensor suffix. Adam slots and global counters saved beside them
are ignored. The official pipeline feeds RGB (it reverses cv2's BGR), so no channel
permutation is needed.
"""

import numpy as np

from hdrkeras.errors import ConfigError, DataError
from hdrkeras.models import ALIGN_INPUTS, frame_dict

ALIGN, FUSION = "align", "fusion"

# Scope names (non-reference encoder, reference encoder, decoder) of the alignment net.
# The official code uses the "low" names for BOTH trained nets; the "high" names are those
# of the commented-out second branch of network_align2.py, accepted for completeness.
ALIGN_SCOPES = {
    "low": ("Align_Encoder_low", "Align_Encoder_midforlow", "Align_Decoder_low"),
    "high": ("Align_Encoder_high", "Align_Encoder_midforhigh", "Align_Decoder_high"),
}
FUSION_SCOPE = "fusion"
_BN_ORDER = ("gamma", "beta", "moving_mean", "moving_variance")  # keras BN weight order
# Training state a TF1 Saver stores beside the model variables.
_TRAINING_STATE = ("beta1_power", "beta2_power", "global_step")
_SLOT_SUFFIXES = ("/Adam", "/Adam_1", "/Momentum", "/RMSProp", "/RMSProp_1")
# Builder kwargs load_reference accepts through `config` besides the fixture's is_train.
_ALIGN_KWARGS = ("name", "filters", "num_res_blocks", "bn_momentum", "bn_epsilon",
                 "leaky_slope", "unit_output")
_FUSION_KWARGS = ("name", "filters", "growth_rate", "num_dense_layers", "leaky_slope",
                  "unit_output")


def clean_names(state_dict):
    """Strips ':0' suffixes, converts values to float32 numpy, drops optimizer state and
    anything that is not numeric (a TF2 checkpoint's serialized object graph)."""
    out = {}
    for key, value in dict(state_dict).items():
        key = str(key)
        if key.endswith(":0"):
            key = key[:-2]
        if key in _TRAINING_STATE or key.endswith(_SLOT_SUFFIXES):
            continue
        value = np.asarray(value)
        if value.dtype.kind not in "fiub":
            continue
        out[key] = value.astype(np.float32)
    return out


def detect_kind(state_dict, source="checkpoint"):
    """"align" or "fusion" from the variable names; (kind, scope key or None)."""
    names = clean_names(state_dict)
    if any(k.startswith(FUSION_SCOPE + "_") for k in names):
        return FUSION, None
    for key, (enc, _, _) in ALIGN_SCOPES.items():
        if any(k.startswith(enc + "_") for k in names):
            return ALIGN, key
    sample = ", ".join(sorted(names)[:5]) or "no variables"
    raise DataError(f"{source}: not an ESBN checkpoint (no 'fusion_*' or 'Align_Encoder_*' "
                    f"variables; found {sample})")


def _conv_names(scope, n):
    return (f"{scope}_{n}/{scope}_{n}_weights", f"{scope}_{n}/{scope}_{n}_biases")


def _bn_names(scope, n):
    return tuple(f"{scope}_{n}/{v}" for v in _BN_ORDER)


def align_variable_map(model, scopes="low"):
    """[(official names tuple, keras layer)] for every weighted layer of an align net."""
    enc_n, enc_r, dec = ALIGN_SCOPES[scopes]
    pairs = []
    for ours, theirs in (("enc_nonref", enc_n), ("enc_ref", enc_r)):
        pairs.append((_conv_names(theirs, "conv1"), model.get_layer(f"{ours}_conv1")))
        pairs.append((_conv_names(theirs, "conv2"), model.get_layer(f"{ours}_conv2")))
        pairs.append((_bn_names(theirs, "batn2"), model.get_layer(f"{ours}_batn2")))
    for layer in model.layers:
        n = layer.name
        if not n.startswith("dec_") or not layer.weights:
            continue
        short = n[len("dec_"):]
        if "conv" in short:
            pairs.append((_conv_names(dec, short), layer))
        else:
            pairs.append((_bn_names(dec, short), layer))
    return pairs


def fusion_variable_map(model):
    """[(official names tuple, keras layer)] for every conv of the fusion net."""
    return [(_conv_names(FUSION_SCOPE, layer.name), layer)
            for layer in model.layers if layer.weights]


def assign(model, pairs, state_dict, source, strict=True):
    """Copies official arrays into the layers; DataError naming every mismatch.

    Missing variables are always an error; unused ones only when `strict`.
    """
    names = clean_names(state_dict)
    expected = [n for group, _ in pairs for n in group]
    missing = [n for n in expected if n not in names]
    unused = sorted(set(names) - set(expected))
    if missing or (strict and unused):
        def show(items):
            if not items:
                return "none"
            head = ", ".join(items[:6])
            return f"{len(items)} ({head}{', ...' if len(items) > 6 else ''})"
        raise DataError(
            f"{source} does not match the ESBN {model.name} net: missing variables "
            f"{show(missing)}; unused variables {show(unused)}")
    for group, layer in pairs:
        arrays = [names[n] for n in group]
        want = [tuple(w.shape) for w in layer.weights]
        got = [a.shape for a in arrays]
        if want != got:
            raise DataError(f"{source}: {group[0]} has shapes {got}, but layer {layer.name} "
                            f"expects {want} (wrong network or config?)")
        layer.set_weights(arrays)
    return model


def _split_config(name, config, allowed):
    config = dict(config or {})
    if config.pop("is_train", False):
        raise ConfigError(f"{name}: is_train=True is not supported (conversion runs inference)")
    strict = bool(config.pop("strict", True))
    scopes = config.pop("scopes", None)
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise ConfigError(f"{name}: unknown config keys {unknown}; allowed: "
                          f"{sorted(allowed) + ['is_train', 'scopes', 'strict']}")
    return config, strict, scopes


def build_from_state(kind, state_dict, config=None, source="checkpoint"):
    """Builds the ESBN net of `kind` ("align"/"fusion") carrying `state_dict`.

    Args:
      kind: "align" or "fusion".
      state_dict: mapping official variable name (':0' optional) -> array.
      config: dict of builder kwargs, plus "strict" (default True: unused variables are
        an error) and, for align, "scopes" ("low"/"high"; detected when absent).
      source: str. the checkpoint path/name, for messages.
    """
    from hdrkeras.models.esbn import ESBNAlign, ESBNFusion

    if kind == FUSION:
        kwargs, strict, _ = _split_config(source, config, _FUSION_KWARGS)
        model = ESBNFusion(**kwargs)
        return assign(model, fusion_variable_map(model), state_dict, source, strict)
    if kind == ALIGN:
        kwargs, strict, scopes = _split_config(source, config, _ALIGN_KWARGS)
        if scopes is None:
            detected, scopes = detect_kind(state_dict, source)
            if detected != ALIGN:
                raise DataError(f"{source}: holds the fusion net, not an alignment net")
        if scopes not in ALIGN_SCOPES:
            raise ConfigError(f"{source}: scopes must be one of {sorted(ALIGN_SCOPES)}, "
                              f"got {scopes!r}")
        model = ESBNAlign(**kwargs)
        return assign(model, align_variable_map(model, scopes), state_dict, source, strict)
    raise ConfigError(f"{source}: kind must be 'align' or 'fusion', got {kind!r}")


def detect_role(state_dict, source="checkpoint"):
    """The ESBN role of a checkpoint given without one: "fusion", or "align_low" /
    "align_high" from the scope names (the official code names both nets "low")."""
    kind, scopes = detect_kind(state_dict, source)
    if kind == FUSION:
        return FUSION
    return "align_high" if scopes == "high" else "align_low"


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Fixture name 'esbn_align' / 'esbn_fusion' -> our Keras net with the official weights.

    `rgb` is accepted for the converters' common signature; ESBN's pipeline already feeds
    RGB, so there is nothing to permute.
    """
    kinds = {"esbn_align": ALIGN, "esbn_fusion": FUSION}
    if name not in kinds:
        raise ConfigError(f"hdrkeras.convert.esbn converts {sorted(kinds)}, not {name!r}")
    return build_from_state(kinds[name], state_dict, config, source=name)


def parity_forward(name, state_dict, config, inputs):
    """Fixture inputs (NHWC, official [-1, 1] tensors) -> official `out_*` outputs."""
    model = load_reference(name, state_dict, config)
    if name == "esbn_align":
        xs = {k: np.asarray(inputs["x_" + k], np.float32) for k in ALIGN_INPUTS}
        return {"out_output_low": np.asarray(model(xs, training=False))}
    xs = frame_dict([np.asarray(inputs[k], np.float32) for k in ("x_low", "x_mid", "x_high")])
    return {"out_output_hdr": np.asarray(model(xs, training=False))}
