"""Thin entry point of `python -m hdrkeras.evaluate` (the implementation and its flags live there).

  python reconstruct/evaluate.py --help

Needs the package installed (`bash scripts/setup.sh` installs it into .venv).
"""

from hdrkeras.evaluate import entry

if __name__ == "__main__":
    entry()
