"""Registry of HDR methods: `get(name)` and `names()`.

The registry (`METHODS`) and the `register` decorator live in hdrkeras.methods.base; this
package fills it by importing every method module explicitly (no file scanning), so a
method that fails to import fails loudly here. A new method is one more line below.
"""

from hdrkeras.methods import (baselines, dealthdr, esbn, lanhdr, selfhdr,  # noqa: F401
                              supervised, video_baselines)
from hdrkeras.methods.base import METHODS, Method, register  # noqa: F401


def get(name):
    """The registered `Method` called `name`; UnknownNameError lists the known ones."""
    return METHODS.get(name)


def names():
    return METHODS.names()
