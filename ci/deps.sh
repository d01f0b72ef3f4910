#!/usr/bin/env bash
# Installs every Debian 12 package that tlschan's build, tests and demo need. Idempotent: packages
# already present are left alone, and apt is asked only when something is missing.
set -euo pipefail

packages=(
  # toolchains: gcc for the default preset, clang 16 (with libFuzzer and the sanitizer runtimes)
  # for the asan and fuzz presets
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang-16 libclang-rt-16-dev lld-16
  # libraries
  libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libtomlplusplus-dev librapidcheck-dev
  # net/ (Boost.Asio) and the interop tests with real SMTP peers on loopback
  # (postfix: installed without a system configuration, the test runs a private instance)
  libboost-dev swaks libnet-ssleay-perl python3-aiosmtpd postfix
  # fuzz/: seed zips of the OSS-Fuzz build (zip), the seed generator fuzz/make_seeds.py (python3),
  # llvm-symbolizer-16 for readable sanitizer reports from ci/fuzz.sh (llvm-16)
  zip python3 llvm-16
  # views/: the interop test reads tlschan's pcapng files with Wireshark's tshark and editcap
  tshark
  # views/: the interop test renders the matrix page and a sequence diagram in headless Chromium
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Postfix without a system configuration: no system instance is set up or started.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# tshark without the question whether non-root users may capture (no setuid dumpcap).
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
