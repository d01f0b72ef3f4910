# Sourced, not run: the environment OSS-Fuzz and ClusterFuzzLite give build.sh for an ASan+UBSan
# libFuzzer build, set by hand (clang 16). OUT and WORK are the caller's.
export CC=clang-16 CXX=clang++-16
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
