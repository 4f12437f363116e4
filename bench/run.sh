#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds capspawn_bench optimised, without the tests, and runs it. Arguments
# go to the benchmark (e.g. --benchmark_filter=baseline).
# The build directory is $CAPSPAWN_BENCH_BUILD, default <source>/build-bench.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${CAPSPAWN_BENCH_BUILD:-$src/build-bench}
generator=
if command -v ninja >/dev/null 2>&1; then generator="-G Ninja"; fi
# shellcheck disable=SC2086  # $generator is empty or two words
cmake -S "$src" -B "$build" $generator -DCMAKE_BUILD_TYPE=Release -DCAPSPAWN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target capspawn_bench
exec "$build/bench/capspawn_bench" "$@"
