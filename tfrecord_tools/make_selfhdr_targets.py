"""Thin entry point of `python -m hdrkeras.make_selfhdr_targets` (the implementation and its flags live there).

  python tfrecord_tools/make_selfhdr_targets.py --help

Needs the package installed (`bash scripts/setup.sh` installs it into .venv).
"""

from hdrkeras.make_selfhdr_targets import entry

if __name__ == "__main__":
    entry()
