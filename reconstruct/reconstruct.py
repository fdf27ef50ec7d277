"""Thin entry point of `python -m hdrkeras.reconstruct` (the implementation and its flags live there).

  python reconstruct/reconstruct.py --help

Needs the package installed (`bash scripts/setup.sh` installs it into .venv).
"""

from hdrkeras.reconstruct import entry

if __name__ == "__main__":
    entry()
