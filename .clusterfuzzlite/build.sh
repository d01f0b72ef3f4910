#!/bin/bash -eu
# ClusterFuzzLite's build script: the same build as OSS-Fuzz's (fuzz/oss-fuzz/build.sh), run from
# the source tree, which the Dockerfile makes the working folder.
src=$PWD
if [ ! -f "$src/fuzz/oss-fuzz/build.sh" ]; then
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fi
cd "$src"
exec bash fuzz/oss-fuzz/build.sh
