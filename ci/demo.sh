#!/usr/bin/env bash
# Installs what is missing, builds tlschan, and runs the main job: `tlschan matrix`, every cell of
# the outcome matrix under every meddler through the simulator, checked against the oracle.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
./build/bin/tlschan matrix
