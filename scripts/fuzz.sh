#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds every libFuzzer target with clang and runs each for a bounded time on
# a scratch corpus seeded from fuzz/corpus/<target>. Prints one line per
# target ("fuzz <target>: <executions> executions, <edges> edges, ok|CRASH")
# and exits non-zero if any target crashed. A crash input is kept in $out.
#   scripts/fuzz.sh [seconds per target]   (default 60; FUZZ_TARGETS="a b" picks)
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
out=${FUZZ_OUT_DIR:-$build/fuzz-runs}
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAPSPAWN_BUILD_FUZZ=ON -DCAPSPAWN_BUILD_TESTS=OFF -DCAPSPAWN_BUILD_BENCH=OFF >/dev/null || exit 1
targets=${FUZZ_TARGETS:-$(cd "$src/fuzz" && ls ./*_fuzz.cc | sed 's|^\./||; s|\.cc$||')}
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets >/dev/null || { echo "fuzz build failed"; exit 1; }
failed=0
for t in $targets; do
  corpus="$out/$t/corpus"
  mkdir -p "$corpus"
  seeds="$src/fuzz/corpus/${t%_fuzz}"
  log="$out/$t/log"
  (cd "$out/$t" && "$build/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 "$corpus" ${seeds:+$(test -d "$seeds" && echo "$seeds")}) >"$log" 2>&1
  rc=$?
  execs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log" | tail -1)
  edges=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  if ((rc == 0)); then
    echo "fuzz $t: ${execs:-?} executions in ${seconds}s, ${edges:-?} edges, ok"
  else
    failed=$((failed + 1))
    echo "fuzz $t: CRASH after ${execs:-?} executions (exit $rc); input and log in $out/$t"
    grep -E 'ERROR|SUMMARY|#[0-9]+ 0x' "$log" | head -15
  fi
done
((failed == 0))
