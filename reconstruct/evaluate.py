"""Thin entry point of `python -m hdrkeras.evaluate` (the implementation and its flags live there).

  python reconstruct/evaluate.py --help
  python reconstruct/evaluate.py --video --help      (video sequences: hdrkeras.evaluate_video)

Needs the package installed (`bash scripts/setup.sh` installs it into .venv).
"""

import sys

if __name__ == "__main__":
    if "--video" in sys.argv[1:]:
        from hdrkeras.evaluate_video import entry

        entry([a for a in sys.argv if a != "--video"])
    else:
        from hdrkeras.evaluate import entry

        entry()
