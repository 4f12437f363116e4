#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds capspawn into BUILD_DIR (default: build/), with optional extra cmake args.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
