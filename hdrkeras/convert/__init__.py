"""Import of official checkpoints and parity runs against the official outputs.

`load_reference(name, state_dict, config)` builds our Keras model from a mapping of the
official parameter names to numpy arrays; `parity_forward(name, state_dict, config, inputs)`
runs it on inputs in the official layout and returns outputs in the official layout under
the fixture's `out_*` names (see DESIGN.md, "Parity fixtures").

Each architecture has its own module exposing `load_reference` and `parity_forward` with the
same signatures; this module only dispatches by fixture name.
"""

import importlib

# fixture / architecture name -> module that converts it (imported lazily: each pulls Keras).
_CONVERTERS = {
    "esbn_align": "hdrkeras.convert.esbn",
    "esbn_fusion": "hdrkeras.convert.esbn",
    "sctnet": "hdrkeras.convert.sctnet",
    "hdr_transformer": "hdrkeras.convert.hdr_transformer",
    "ahdrnet": "hdrkeras.convert.ahdrnet",
    "fshdr": "hdrkeras.convert.fshdr",
    "selfhdr_losses": "hdrkeras.convert.selfhdr_losses",
    "dealthdr": "hdrkeras.convert.dealthdr",
    "lanhdr_2e": "hdrkeras.convert.lanhdr",
    "lanhdr_3e": "hdrkeras.convert.lanhdr",
    "lanhdr_losses": "hdrkeras.convert.lanhdr_losses",
}


def names():
    return sorted(_CONVERTERS)


def _module(name):
    try:
        module_name = _CONVERTERS[name]
    except KeyError:
        raise KeyError(f"No converter named {name!r}; known: {', '.join(names())}") from None
    return importlib.import_module(module_name)


def load_reference(name, state_dict, config=None):
    """Builds our model for `name` carrying the official weights in `state_dict`."""
    return _module(name).load_reference(name, state_dict, config)


def parity_forward(name, state_dict, config, inputs):
    """Runs our port on official-layout `inputs`; returns official-layout `out_*` arrays."""
    return _module(name).parity_forward(name, state_dict, config, inputs)
