#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what capspawn needs to build, test and benchmark (Debian 12, as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config g++ clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libseccomp-dev libsystemd-dev capnproto libcapnp-dev
  busybox-static bubblewrap python3 gdb binutils util-linux procps
  python3-dev pybind11-dev python3-pytest python3-mypy
  nlohmann-json3-dev runc containerd file
  python3-grpcio python3-protobuf protobuf-compiler
  scdoc lintian zsh bash-completion man-db systemd systemd-container
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"
