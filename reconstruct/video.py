r"""Alternating-exposure LDR video -> HDR frames; see hdrkeras/reconstruct_video.py.

  python reconstruct/video.py --method video_classical_merge --input FRAMES/ \
      --exposures 1,4 --out out/

Needs the package installed (`bash scripts/setup.sh` installs it into .venv).
"""

from hdrkeras.reconstruct_video import entry

if __name__ == "__main__":
    entry()
