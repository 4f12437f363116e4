#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The packaging stage: builds the Debian packages from a release build,
# checks them with lintian (errors fail, warnings are reported), installs
# them on this machine with dpkg -i, tests the installed files (systemd units,
# man pages, the install test against /usr, the CLI tests against
# /usr/bin/capspawn, the daemon), then purges them so the machine is as it was.
# Run as root.
#   scripts/package_test.sh BUILD_DIR
# Prints "package: PASS ..." / "package: FAIL ..." lines and a summary line
# "package: N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
packages=(libcapspawn0 libcapspawn-dev capspawn capspawn-launcherd)
pass=0
failed=0
ok() { echo "package: PASS $*"; pass=$((pass + 1)); }
bad() { echo "package: FAIL $*"; failed=$((failed + 1)); }
check() {  # description, command...
  local what=$1
  shift
  if "$@" >"$build/package-step.log" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/  | /' "$build/package-step.log" | tail -30; fi
}
purge() { dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true; }

if ((EUID != 0)); then
  echo "package: needs root (dpkg -i)"
  exit 1
fi
# Left over from an interrupted run: start clean.
purge

# 1. Build the packages.
cd "$build" || exit 1
rm -f ./*.deb
if ! cpack -G DEB >"$build/cpack.log" 2>&1; then
  bad "cpack -G DEB"
  tail -30 "$build/cpack.log"
  echo "package: $pass passed, $failed failed"
  exit 1
fi
debs=()
for p in "${packages[@]}"; do debs+=("$(ls "$build"/"${p}"_*.deb)"); done
ok "cpack built ${#debs[@]} packages"
for d in "${debs[@]}"; do
  printf 'package: %-42s %8s bytes, installed %s KiB\n' "${d##*/}" "$(stat -c %s "$d")" \
    "$(dpkg-deb -f "$d" Installed-Size)"
done

# 2. lintian: errors fail, warnings are listed.
lintian --no-tag-display-limit "${debs[@]}" >"$build/lintian.log" 2>&1
errors=$(grep -c '^E: ' "$build/lintian.log")
warnings=$(grep -c '^W: ' "$build/lintian.log")
echo "package: lintian: $errors error(s), $warnings warning(s)"
grep -E '^[EW]: ' "$build/lintian.log" | sed 's/^/  | /'
if ((errors == 0)); then ok "lintian reports no error"; else bad "lintian reports $errors error(s)"; fi

# 3. Install them.
if dpkg -i "${debs[@]}" >"$build/dpkg.log" 2>&1; then
  ok "dpkg -i"
else
  bad "dpkg -i"
  tail -30 "$build/dpkg.log"
  purge
  echo "package: $pass passed, $failed failed"
  exit 1
fi

# 4. The installed files.
unit_dir=$(dirname "$(dpkg -L capspawn-launcherd | grep 'capspawn-launcherd.socket$')")
check "systemd-analyze verify (with the installed man pages)" \
  "$src/tests/packaging/units_test.sh" "$unit_dir"
check "man pages render without warnings" bash -c '
  for d in /usr/share/man/man1 /usr/share/man/man3 /usr/share/man/man7 /usr/share/man/man8; do
    for page in $(dpkg -L capspawn capspawn-launcherd libcapspawn-dev | grep "^$d/.*\.gz$"); do
      w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
      [[ -z $w ]] || { echo "$page: $w"; exit 1; }
    done
  done
  man -w capspawn capspawn-run capspawn_spawn capspawn_spawn_etc capspawn_job_kill \
    capspawn-launcherd 7 capspawn'
check "install test against /usr (C and C++, shared and static, pkg-config and CMake)" \
  "$src/tests/install/install_test.sh" --installed /usr "$src/tests/install/consumer"
check "installed capspawn runs a program, as root and as nobody" bash -c '
  [[ $(/usr/bin/capspawn run -- /bin/echo hello) == hello ]] &&
  [[ $(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/capspawn run \
       --clear-env -- /usr/bin/env) == "" ]]'
# The CLI's own tests, run against the installed binary and completions.
cli_env=(CAPSPAWN_TEST_CLI=/usr/bin/capspawn
  CAPSPAWN_TEST_BASH_COMPLETION=/usr/share/bash-completion/completions/capspawn
  CAPSPAWN_TEST_ZSH_COMPLETION=/usr/share/zsh/vendor-completions/_capspawn)
filter='CliVoice.*:BashCompletion.*:ZshCompletion.*:CompletionScripts.*:Suspended.*:Listen.*:CliRun.*'
check "CLI tests against /usr/bin/capspawn (as root)" \
  env "${cli_env[@]}" HOME=/tmp "$build/tests/cli/cli_test" --gtest_filter="$filter"
check "CLI tests against /usr/bin/capspawn (as nobody)" \
  env "${cli_env[@]}" HOME=/tmp setpriv --reuid=nobody --regid=nogroup --clear-groups \
  --inh-caps=-all "$build/tests/cli/cli_test" --gtest_filter="$filter"
check "the installed daemon serves the installed CLI" bash -c '
  dir=$(mktemp -d); trap "rm -rf $dir" EXIT; chmod 755 "$dir"
  mkfifo "$dir/ready"
  /usr/bin/capspawn-launcherd --socket "$dir/s" --quiet --ready-fd 3 3>"$dir/ready" &
  daemon=$!
  read -r -t 20 _ <"$dir/ready" || exit 1
  out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/capspawn run \
        --launcher "$dir/s" -- /usr/bin/id -u)
  kill "$daemon"; wait "$daemon"
  [[ $out == $(id -u nobody) ]]'
"$src/tests/packaging/systemd_test.sh" >"$build/systemd.log" 2>&1
case $? in
  0) ok "the units under systemd: socket activation, the sandboxing directives, root and nobody served"
     grep -E '^systemd: (note|a unit)' "$build/systemd.log" | sed 's/^/  | /' ;;
  77) echo "package: SKIP the units under systemd: $(tail -1 "$build/systemd.log")" ;;
  *) bad "the units under systemd"; sed 's/^/  | /' "$build/systemd.log" | tail -30 ;;
esac

# 5. Purge: nothing of the packages stays.
dpkg --purge "${packages[@]}" >"$build/dpkg-purge.log" 2>&1
check "dpkg --purge leaves nothing" bash -c '
  for p in libcapspawn0 libcapspawn-dev capspawn capspawn-launcherd; do
    if dpkg-query -W -f="\${Status}" "$p" 2>/dev/null | grep -q installed; then echo "$p still installed"; exit 1; fi
  done
  for f in /usr/bin/capspawn /usr/bin/capspawn-launcherd /usr/include/capspawn \
    /usr/lib/x86_64-linux-gnu/libcapspawn.so.0 /usr/lib/systemd/system/capspawn-launcherd.socket \
    /etc/systemd/system/sockets.target.wants/capspawn-launcherd.socket \
    /var/lib/systemd/deb-systemd-helper-enabled/capspawn-launcherd.socket.dsh-also; do
    [[ -e $f || -L $f ]] && { echo "left behind: $f"; exit 1; }
  done
  true'
echo "package: $pass passed, $failed failed"
((failed == 0))
