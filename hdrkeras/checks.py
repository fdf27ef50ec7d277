"""Checks of what a user passes, before any work starts: option ranges and output locations.

One place for both, so every tool (and RunConfig for library users) answers a bad value with
one ConfigError that names the ONE wrong option and the value received, instead of a default
silently standing in for 0, a ZeroDivisionError, or a traceback from `os.makedirs` after
an hour of computation.
"""

import math
import os
import tempfile

from hdrkeras.errors import ConfigError


def positive_int(name, value, optional=True):
    """`value` is an int >= 1 (or None when `optional`). `name` is the flag, e.g. '--steps'."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")


def non_negative_int(name, value):
    """`value` is an int >= 0 (0 conventionally meaning 'never')."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be 0 or a positive integer, got {value}")


def positive_float(name, value, optional=True):
    """`value` is a finite number > 0 (or None when `optional`)."""
    if value is None and optional:
        return
    try:
        ok = math.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"{name} must be a finite positive number, got {value}")


def positive_ints(values, optional=True):
    """positive_int for each {flag: value}, in order, so the first wrong one is named."""
    for name, value in values.items():
        positive_int(name, value, optional=optional)


def _nearest_existing(path):
    """The deepest existing ancestor of `path` (or `path` itself)."""
    current = os.path.abspath(path)
    while not os.path.lexists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def _probe_writable(folder, name, path):
    """Creates and removes one temporary file in `folder`: the only test that also holds for
    root, read-only mounts and special file systems."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".hdrkeras-probe.", dir=folder)
    except OSError as exc:
        raise ConfigError(f"{name} {path}: cannot write in {folder} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def _writable_folder(name, path, folder):
    existing = _nearest_existing(folder)
    if not os.path.isdir(existing):
        where = ("is a file" if existing == os.path.abspath(path)
                 else f"is inside the file {existing}")
        raise ConfigError(f"{name} {path} {where}; {existing} must be a folder")
    _probe_writable(existing, name, path)


def output_dir(name, path):
    """`path` can be (or already is) a folder this process may write into.

    Raises ConfigError naming the flag when `path` or one of its ancestors is a regular file,
    or when the folder that would hold it is not writable. Creates nothing.
    """
    if not path:
        raise ConfigError(f"{name} must name a folder, got {path!r}")
    _writable_folder(name, path, path)


def output_file(name, path):
    """`path` can be written as a file: not an existing folder, and its folder is writable
    (or creatable). Creates nothing."""
    if not path:
        raise ConfigError(f"{name} must name a file, got {path!r}")
    if os.path.isdir(path):
        raise ConfigError(f"{name} {path} is a folder; give a file name")
    _writable_folder(name, path, os.path.dirname(os.path.abspath(path)))
