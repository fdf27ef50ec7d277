"""Thin entry point of `python -m hdrkeras.fit` (the implementation and its flags live there).

  python train/fit.py --help

Needs the package installed (`bash scripts/setup.sh` installs it into .venv).
"""

from hdrkeras.fit import entry

if __name__ == "__main__":
    entry()
