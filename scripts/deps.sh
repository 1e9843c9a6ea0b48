#!/usr/bin/env bash
# Installs exactly the Debian packages the build needs, and does nothing when they are all present.
# Idempotent: safe to run before every build; it asks dpkg first and only calls apt-get for what is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build make pkgconf clang-format
  # front-end: ANTLR tool (needs Java, already on the image) + C++ runtime 4.9
  antlr4 libantlr4-runtime-dev uuid-dev
  # code generation: LLVM 16 (shared library) and what its CMake config asks for (ZLIB::ZLIB, zstd)
  llvm-16-dev libzstd-dev zlib1g-dev
  # libraries named by the design card
  libboost-graph-dev libyaml-cpp-dev libsqlite3-dev libnng-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libsodium-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the TLS tests make a self-signed certificate with the openssl command
  openssl
)
# `scripts/deps.sh fuzz` adds clang and its libFuzzer runtime (only the fuzz build needs them).
if [ "${1:-}" = "fuzz" ]; then PACKAGES+=(clang-14 libclang-rt-14-dev); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: done"
