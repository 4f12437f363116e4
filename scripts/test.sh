#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every test: the suite as root, as the unprivileged user nobody, and under
# AddressSanitizer + UndefinedBehaviorSanitizer; the launcher's tests under
# ThreadSanitizer; then each libFuzzer target for a bounded time. Run as root.
# CAPSPAWN_TEST_STAGES picks stages (default: "release package asan tsan fuzz";
# release is the root and nobody runs; package builds the Debian packages
# from the release build, installs, tests and purges them: see
# scripts/package_test.sh).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
# nobody must be able to reach the build, so it lives outside the checkout.
work=${CAPSPAWN_TEST_DIR:-/var/tmp/capspawn-test}
mkdir -p "$work"
chmod 755 "$work"
total_pass=0
total_fail=0
failed_suites=()

ctest_args=()  # extra ctest arguments for the next run_suite
stages=" ${CAPSPAWN_TEST_STAGES:-release package asan tsan fuzz} "
stage() { [[ $stages == *" $1 "* ]]; }

run_suite() {  # name, build dir, ctest prefix...
  local name=$1 dir=$2
  shift 2
  echo "=== $name ==="
  local log="$work/$name.log"
  (cd "$dir" && "$@" ctest --output-on-failure --timeout 300 -j2 "${ctest_args[@]}") 2>&1 | tee "$log"
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of" "$log" | tail -1)
  if [[ -z $line ]]; then
    echo "$name: ctest did not finish"
    total_fail=$((total_fail + 1))
    failed_suites+=("$name")
    return
  fi
  local failed all
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  all=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  total_pass=$((total_pass + all - failed))
  total_fail=$((total_fail + failed))
  ((failed == 0)) || failed_suites+=("$name")
}

# A copy of the tree that nobody can read, wherever the checkout lives
# (tar keeps mtimes, so unchanged files are not rebuilt).
# Removed first, so that files deleted or moved in the checkout do not linger.
rm -rf "$work/src"
mkdir -p "$work/src"
tar -C "$src" --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - . | tar -C "$work/src" -xf -
src="$work/src"

# 1. Release build: as root, then as nobody.
if stage release; then
  # Prefix /usr: the layout the packages install (lib/<triplet>, the units' paths).
  BUILD_DIR="$work/build" "$src/scripts/build.sh" -DCMAKE_INSTALL_PREFIX=/usr ||
    { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
  chmod -R o+rX "$work" 2>/dev/null || true
  run_suite root "$work/build"
  mkdir -p "$work/build/Testing"
  chmod -R 1777 "$work/build/Testing"
  # cmake --install (the install test) records what it wrote in the build dir.
  touch "$work/build/install_manifest.txt"
  chmod 666 "$work/build/install_manifest.txt"
  if [[ -x $(command -v setpriv) ]] && su -s /bin/sh nobody -c "test -r '$work/build/CTestTestfile.cmake'" 2>/dev/null; then
    run_suite nobody "$work/build" env HOME=/tmp CAPSPAWN_TEST_AS_NOBODY=1 \
      setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all
  else
    echo "nobody cannot read $work/build (is $src readable by others?)"
    total_fail=$((total_fail + 1))
    failed_suites+=(nobody)
  fi
fi

# 1b. The Debian packages of the release build: lintian, dpkg -i, the install
#     test and CLI tests against the installed files, then dpkg --purge.
if stage package; then
  echo "=== package ==="
  if [[ -f $work/build/CMakeCache.txt ]]; then
    "$src/scripts/package_test.sh" "$work/build" | tee "$work/package.log"
    package_pass=$(sed -nE 's/^package: ([0-9]+) passed, ([0-9]+) failed$/\1/p' "$work/package.log")
    package_fail=$(sed -nE 's/^package: ([0-9]+) passed, ([0-9]+) failed$/\2/p' "$work/package.log")
    total_pass=$((total_pass + ${package_pass:-0}))
    total_fail=$((total_fail + ${package_fail:-1}))
    [[ ${package_fail:-1} == 0 ]] || failed_suites+=(package)
  else
    echo "package: needs the release stage's build ($work/build)"
    total_fail=$((total_fail + 1))
    failed_suites+=(package)
  fi
  # Every source file carries its SPDX identifier (CAPSPAWN_SPDX_ENFORCE=0: only reported).
  if "$src/scripts/spdx.sh" --check >"$work/spdx.log" 2>&1; then
    total_pass=$((total_pass + 1))
  elif [[ ${CAPSPAWN_SPDX_ENFORCE:-1} == 1 ]]; then
    cat "$work/spdx.log"
    total_fail=$((total_fail + 1))
    failed_suites+=(spdx)
  else
    echo "spdx: warning (not enforced): $(tail -1 "$work/spdx.log")"
  fi
fi

# 2. Sanitizers.
if stage asan; then
  BUILD_DIR="$work/build-asan" "$src/scripts/build.sh" -DCAPSPAWN_SANITIZE=address,undefined \
    -DCAPSPAWN_BUILD_BENCH=OFF || { echo "asan build failed"; total_fail=$((total_fail + 1)); }
  [[ -d $work/build-asan ]] && run_suite asan "$work/build-asan" env \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1  # LeakSanitizer is on by default; children that must not run it (DENY jobs) turn it off themselves
fi

# 3. ThreadSanitizer: the launcher's tests (launcher_test: concurrent,
#    stalled and vanished clients, the daemon killed mid-launch...), the daemon
#    they start built with it too. Only those targets are built. A report stops
#    the process that makes it (halt_on_error); the fixture also fails a test
#    whose daemon's log holds one (tests/launcher/daemon_fixture.cc).
#    CAPSPAWN_NS_CACHE=0: the namespace cache's builder is a glibc
#    clone(CLONE_VM|CLONE_VFORK) child, which TSan's clone interceptor takes for
#    a fork: its child-side bookkeeping lands in the daemon's shared memory (the
#    worker stops being checked; the next new thread dies "after multi-threaded
#    fork"). Without the cache, private namespaces are built in the engine's own
#    clone3 child, which TSan does not intercept.
if stage tsan; then
  echo "=== tsan build ==="
  if cmake -S "$src" -B "$work/build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCAPSPAWN_SANITIZE=thread -DCAPSPAWN_BUILD_BENCH=OFF >/dev/null &&
    cmake --build "$work/build-tsan" -j"$(nproc)" --target capspawn-launcherd launcher_test; then
    ctest_args=(-L '^launcher_test$')
    run_suite tsan "$work/build-tsan" env TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
      CAPSPAWN_NS_CACHE=0
    ctest_args=()
    if grep -q "WARNING: ThreadSanitizer" "$work/tsan.log"; then
      echo "tsan: a ThreadSanitizer report (see $work/tsan.log)"
      total_fail=$((total_fail + 1))
      failed_suites+=(tsan)
    fi
  else
    echo "tsan build failed"
    total_fail=$((total_fail + 1))
    failed_suites+=(tsan)
  fi
fi

# 4. Fuzzing: every libFuzzer target for a bounded time (CAPSPAWN_FUZZ_SECONDS each).
if stage fuzz; then
  echo "=== fuzz ==="
  FUZZ_BUILD_DIR="$work/build-fuzz" "$src/scripts/fuzz.sh" "${CAPSPAWN_FUZZ_SECONDS:-30}" | tee "$work/fuzz.log"
  fuzz_ok=$(grep -c '^fuzz .*, ok$' "$work/fuzz.log")
  fuzz_bad=$(grep -c '^fuzz .*CRASH\|^fuzz build failed' "$work/fuzz.log")
  total_pass=$((total_pass + fuzz_ok))
  total_fail=$((total_fail + fuzz_bad))
  ((fuzz_bad == 0 && fuzz_ok > 0)) || failed_suites+=(fuzz)
fi

echo
echo "suites failed: ${failed_suites[*]:-none}"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
