#!/usr/bin/env bash
# Every test: the suite as root, as the unprivileged user nobody, and under
# AddressSanitizer + UndefinedBehaviorSanitizer; then each libFuzzer target for
# a bounded time. Run as root.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
# nobody must be able to reach the build, so it lives outside the checkout.
work=${CAPSPAWN_TEST_DIR:-/var/tmp/capspawn-test}
mkdir -p "$work"
chmod 755 "$work"
total_pass=0
total_fail=0
failed_suites=()

run_suite() {  # name, build dir, ctest prefix...
  local name=$1 dir=$2
  shift 2
  echo "=== $name ==="
  local log="$work/$name.log"
  (cd "$dir" && "$@" ctest --output-on-failure --timeout 300 -j2) 2>&1 | tee "$log"
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
mkdir -p "$work/src"
tar -C "$src" --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - . | tar -C "$work/src" -xf -
src="$work/src"

# 1. Release build: as root, then as nobody.
BUILD_DIR="$work/build" "$src/scripts/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
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

# 2. Sanitizers.
BUILD_DIR="$work/build-asan" "$src/scripts/build.sh" -DCAPSPAWN_SANITIZE=address,undefined \
  -DCAPSPAWN_BUILD_BENCH=OFF || { echo "asan build failed"; total_fail=$((total_fail + 1)); }
[[ -d $work/build-asan ]] && run_suite asan "$work/build-asan" env \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1  # LeakSanitizer is on by default; children that must not run it (DENY jobs) turn it off themselves

# 3. Fuzzing: every libFuzzer target for a bounded time (CAPSPAWN_FUZZ_SECONDS each).
echo "=== fuzz ==="
FUZZ_BUILD_DIR="$work/build-fuzz" "$src/scripts/fuzz.sh" "${CAPSPAWN_FUZZ_SECONDS:-30}" | tee "$work/fuzz.log"
fuzz_ok=$(grep -c '^fuzz .*, ok$' "$work/fuzz.log")
fuzz_bad=$(grep -c '^fuzz .*CRASH\|^fuzz build failed' "$work/fuzz.log")
total_pass=$((total_pass + fuzz_ok))
total_fail=$((total_fail + fuzz_bad))
((fuzz_bad == 0 && fuzz_ok > 0)) || failed_suites+=(fuzz)

echo
echo "suites failed: ${failed_suites[*]:-none}"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
