# Sourced by the job scripts: strict mode, repository root, .venv set up, and
# PY (the venv's python) and WORK (output root, $HDRKERAS_WORK or work/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
PY=.venv/bin/python
WORK=${HDRKERAS_WORK:-work}
