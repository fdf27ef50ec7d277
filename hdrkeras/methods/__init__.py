"""Registry of HDR methods: `get(name)` and `names()`.

Filled by explicit imports at the bottom of this module (no file scanning), so a method
that fails to import fails loudly here.
"""

_REGISTRY = {}


def register(cls):
    """Class decorator: registers an instance of a `Method` subclass under `cls.name`."""
    name = cls.name
    if not name:
        raise ValueError(f"{cls.__name__} has no name")
    if name in _REGISTRY:
        raise ValueError(f"Method {name!r} is registered twice ({cls.__name__})")
    _REGISTRY[name] = cls()
    return cls


def get(name):
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"No method named {name!r} in hdrkeras.methods; known: {', '.join(names())}") from None


def names():
    return sorted(_REGISTRY)


# Explicit registrations: a method that fails to import fails here, loudly.
from hdrkeras.methods import baselines  # noqa: E402,F401
from hdrkeras.methods import esbn  # noqa: E402,F401
from hdrkeras.methods import supervised  # noqa: E402,F401
from hdrkeras.methods import selfhdr  # noqa: E402,F401
from hdrkeras.methods import video_baselines  # noqa: E402,F401
