"""Import of official checkpoints and parity runs against the official outputs.

`load_reference(name, state_dict, config)` builds our Keras model from a mapping of the
official parameter names to numpy arrays; `parity_forward(name, state_dict, config, inputs)`
runs it on inputs in the official layout and returns outputs in the official layout under
the fixture's `out_*` names (see DESIGN.md, "Parity fixtures").

Each official network has a converter: a module exposing
`load_reference(name, state_dict, config=None, *, rgb=False)` and
`parity_forward(name, state_dict, config, inputs)`, registered in `CONVERTERS` under the
network's (fixture's) name by one `register(module, *names)` line below. The converter
modules import Keras and the models only when called, so importing this package is cheap.
"""

from hdrkeras.convert import (ahdrnet, dealthdr, esbn, fshdr, hdr_transformer, lanhdr,
                              lanhdr_losses, sctnet, selfhdr_losses)
from hdrkeras.registry import Registry

CONVERTERS = Registry("checkpoint converter")


def register(module, *names):
    """Registers converter `module` under each of `names` (official network names)."""
    for name in names:
        CONVERTERS.add(name, module)
    return module


register(esbn, "esbn_align", "esbn_fusion")
register(sctnet, "sctnet")
register(hdr_transformer, "hdr_transformer")
register(ahdrnet, "ahdrnet")
register(fshdr, "fshdr")
register(selfhdr_losses, "selfhdr_losses")
register(lanhdr, "lanhdr_2e", "lanhdr_3e", "lanhdr")
register(lanhdr_losses, "lanhdr_losses")
register(dealthdr, "dealthdr")


def names():
    return CONVERTERS.names()


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Builds our model for `name` carrying the official weights in `state_dict`.

    `rgb=True` permutes the first/last layers of a BGR-trained (OpenCV) checkpoint so the
    model takes and returns RGB, as every hdrkeras model does; parity runs keep BGR.
    """
    return CONVERTERS.get(name).load_reference(name, state_dict, config, rgb=rgb)


def parity_forward(name, state_dict, config, inputs):
    """Runs our port on official-layout `inputs`; returns official-layout `out_*` arrays."""
    return CONVERTERS.get(name).parity_forward(name, state_dict, config, inputs)
