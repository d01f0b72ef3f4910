#!/usr/bin/env bash
# The Debian package as a user gets it: builds it (Release, warnings as errors, `cpack -G DEB`),
# then, in a fresh minimal Debian 12 chroot, installs the dependencies the package declares and the
# package itself with `dpkg -i`, and runs `tlschan --version`, `tlschan matrix`, a find_package(tlschan)
# consumer (examples/) and the same example built by hand with pkg-config.
#
# The chroot comes from fresh-debian.sh ($TLSCHAN_FRESH_DEBIAN, default
# /work/shared/tools/fresh-debian.sh; its first run makes the base system with debootstrap and keeps
# it in $TLSCHAN_DEB_ROOT.base). Needs root, mount, and debootstrap (installed or installable).
# Exit status: 0 passed, 1 failed, 3 skipped because this machine cannot make the chroot (the
# reason is printed). ci/test.sh runs it, passing its own Release build folder.
#
# usage: ci/deb-check.sh [BUILD]   BUILD: a folder already configured and built as below (prefix
# /usr, the target tlschan built); without it the script makes its own.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
fresh=${TLSCHAN_FRESH_DEBIAN:-/work/shared/tools/fresh-debian.sh}
root=${TLSCHAN_DEB_ROOT:-/var/tmp/tlschan-deb-check}

skip() { echo "deb-check: skipped: $*"; exit 3; }
[ "$(id -u)" -eq 0 ] || skip "not running as root (a chroot needs root)"
[ -x "$fresh" ] || [ -f "$fresh" ] || skip "no $fresh"
command -v debootstrap >/dev/null || apt-cache policy debootstrap 2>/dev/null | grep -q 'Candidate: [0-9]' ||
  skip "debootstrap is neither installed nor installable"
probe=$(mktemp -d)
if ! mount -t tmpfs tlschan-probe "$probe" 2>/dev/null; then rmdir "$probe"; skip "mount is not permitted"; fi
umount "$probe"; rmdir "$probe"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build=${1:-}
if [ -z "$build" ]; then
  echo "deb-check: building the package"
  build=$work/build
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTLSCHAN_WERROR=ON \
    -DCMAKE_INSTALL_PREFIX=/usr -DTLSCHAN_BUILD_TESTS=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
  cmake --build "$build" -j2 --target tlschan tlschan_engine
fi
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$build/CMakeCache.txt" ||
  { echo "deb-check: $build is not configured with -DCMAKE_INSTALL_PREFIX=/usr"; exit 1; }
rm -f "$build"/tlschan_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/tlschan_*.deb)
echo "deb-check: $(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" | awk '{print $6}' | grep -E 'bin/tlschan$|libtlschan_engine\.a$|include/tlschan/version\.hpp$|cmake/tlschan/tlschanConfig\.cmake$|pkgconfig/tlschan\.pc$' |
  sort >"$work/contents"
[ "$(wc -l <"$work/contents")" -eq 5 ] || { echo "deb-check: the package lacks files:"; cat "$work/contents"; exit 1; }

# fresh-debian.sh puts the git checkout of its working folder in /src: a small repository holding
# the package, the example and the script that runs in the chroot.
mkdir "$work/repo"
cp "$deb" "$work/repo/"
cp -r "$src/examples" "$work/repo/examples"
version=$(sed -n 's/^project(tlschan VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
cat >"$work/repo/inside.sh" <<INSIDE
set -euxo pipefail
deb=\$(ls /src/tlschan_*.deb)
# Only what the package declares, then dpkg -i: it must find every dependency there.
deps=\$(dpkg-deb -f "\$deb" Depends | sed 's/([^)]*)//g; s/,/ /g')
apt-get update -qq
apt-get install -y -qq --no-install-recommends \$deps >/dev/null
dpkg -i "\$deb"
test "\$(tlschan --version)" = "tlschan $version"
tlschan matrix | tail -n 1
tlschan matrix | grep -q '126/126 cells agree with the oracle'
# A consumer: a compiler and CMake; OpenSSL's headers came with the package's dependencies.
apt-get install -y -qq --no-install-recommends g++ cmake make pkg-config >/dev/null
cmake -S /src/examples -B /tmp/example >/dev/null
cmake --build /tmp/example
/tmp/example/session_pair
g++ -std=c++20 -o /tmp/session_pair_pc /src/examples/session_pair.cpp \$(pkg-config --cflags --libs tlschan)
/tmp/session_pair_pc
echo "deb-check: inside the fresh Debian 12: dpkg -i, matrix, find_package and pkg-config consumers all passed"
INSIDE
(cd "$work/repo" && git init -q && git add -A && git -c user.name=deb-check -c user.email=deb-check@localhost commit -qm package)
echo "deb-check: installing it in a fresh Debian 12 ($root)"
chroot_start=$(date +%s)
if (cd "$work/repo" && bash "$fresh" "$root" "bash /src/inside.sh") >"$work/chroot.log" 2>&1 &&
   grep -q "all passed" "$work/chroot.log"; then
  grep -E "^deb-check|agree" "$work/chroot.log"
  echo "deb-check: passed (the chroot part took $(( $(date +%s) - chroot_start )) s)"
else
  tail -n 40 "$work/chroot.log"
  echo "deb-check: FAILED"
  exit 1
fi
