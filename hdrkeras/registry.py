"""One registry mechanism for everything looked up by name: methods, backbones, converters.

A `Registry` maps names to entries. It is filled by explicit imports (the module that owns
a registry imports every module that adds to it), never by scanning files, so an entry
that fails to import fails loudly and a missing one is a visible line. Adding a name twice
is a bug and raises; looking up an unknown name raises `UnknownNameError`, which names the
registry and lists the known entries.
"""

from hdrkeras.errors import ConfigError


class UnknownNameError(ConfigError, KeyError):
    """A name the user gave is not in a registry.

    A ConfigError (the command-line tools report it as one line) and a KeyError (it is a
    failed lookup, so `except KeyError` keeps working).
    """

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Registry:
    """Name -> entry, in registration order.

    Args:
      kind: str. What the entries are ("method", "backbone", "checkpoint converter"), used
        in messages.
    """

    def __init__(self, kind):
        self.kind = kind
        self._entries = {}

    def add(self, name, entry):
        """Registers `entry` under `name` and returns it; a name already taken is a bug."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} registry: name must be a non-empty string, "
                             f"got {name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice "
                             f"({self._entries[name]!r} and {entry!r})")
        self._entries[name] = entry
        return entry

    def get(self, name):
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(
                f"No {self.kind} named {name!r}; known: {', '.join(self.names()) or 'none'}"
            ) from None

    def names(self):
        return sorted(self._entries)

    def __contains__(self, name):
        return name in self._entries

    def __iter__(self):
        return iter(self.names())

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
