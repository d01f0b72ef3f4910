#!/usr/bin/env bash
# Installs what is missing, builds tlschan, and runs the main job: a client session against a
# server session in memory for every pair of channel policies and server TLS health.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
./build/bin/tlschan pairs
