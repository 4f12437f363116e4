#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak: drives a fresh capspawn-launcherd with concurrent clients mixing plain,
# namespaced, job and create-without-starting launches (tests/soak/soak_driver), then checks that the
# daemon's fd count and RSS are back to their level after a warm-up, that no
# zombie, mount namespace or cgroup is left, and that every exit status came
# back. Prints the numbers; exits non-zero on any violation.
#   scripts/soak.sh [launches (default 20000)] [clients (default 4)]
# SOAK_BUILD_DIR: the build directory (default: build/).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
launches=${1:-20000}
clients=${2:-4}
build=${SOAK_BUILD_DIR:-$src/build}
daemon_bin=$build/tools/capspawn-launcherd/capspawn-launcherd
driver=$build/tests/soak/soak_driver
program=$build/tests/spawn/spawn_child
for f in "$daemon_bin" "$driver" "$program"; do
  [[ -x $f ]] || { echo "soak: $f is not built"; exit 2; }
done
dir=$(mktemp -d /tmp/capspawn-soak.XXXXXX)
chmod 755 "$dir"
mkdir "$dir/data"
cleanup() {
  [[ -n ${pid:-} ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
mkfifo "$dir/ready"
"$daemon_bin" --socket "$dir/launcher.sock" --quiet --ready-fd 3 3>"$dir/ready" 2>"$dir/log" &
pid=$!
read -r -t 30 _ <"$dir/ready" || { echo "soak: launcherd did not start"; cat "$dir/log"; exit 1; }

# The daemon is its master process and the workers below it (spares, and
# one per open connection); what it launches sits below its workers.
tree() {
  local todo=("$pid") p
  while ((${#todo[@]})); do
    p=${todo[0]}
    todo=("${todo[@]:1}")
    echo "$p"
    todo+=($(cat /proc/"$p"/task/*/children 2>/dev/null))
  done
}
daemon_pids() { for p in $(tree); do [[ $(cat /proc/"$p"/comm 2>/dev/null) == capspawn-launch ]] && echo "$p"; done; }
fds() { for p in $(daemon_pids); do find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null; done | wc -l; }
rss_kb() { for p in $(daemon_pids); do awk '/^VmRSS:/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {print s + 0}'; }
zombies() { for p in $(tree); do ps -o stat= -p "$p"; done | grep -c '^Z' || true; }
children() { for p in $(tree); do [[ $(cat /proc/"$p"/comm 2>/dev/null) == capspawn-launch ]] || echo "$p"; done | wc -l; }
mnt_namespaces() { lsns -t mnt -n -o NS 2>/dev/null | sort -u | wc -l; }
cgroup_root=$(findmnt -t cgroup2 -n -o TARGET | head -1)
cgroups() { find "$cgroup_root" -mindepth 1 -type d 2>/dev/null | wc -l; }
drive() {
  CAPSPAWN_LAUNCHER=$dir/launcher.sock "$driver" --program "$program" --launches "$1" \
    --clients "$clients" --dir "$dir/data"
}

# Warm-up: lazily allocated state (allocator arenas) exists after it.
drive 300 >/dev/null || { echo "soak: warm-up failed"; drive 30; exit 1; }
sleep 0.5
fd0=$(fds) rss0=$(rss_kb) mnt0=$(mnt_namespaces) cg0=$(cgroups)
result=$(drive "$launches")
rc=$?
sleep 1  # the daemon reaps asynchronously
fd1=$(fds) rss1=$(rss_kb) mnt1=$(mnt_namespaces) cg1=$(cgroups) z=$(zombies) kids=$(children)
echo "soak: $result"
echo "soak: daemon fds ${fd0} -> ${fd1}; RSS ${rss0} KiB -> ${rss1} KiB; zombies ${z}; children left ${kids}; mount namespaces ${mnt0} -> ${mnt1}; cgroups ${cg0} -> ${cg1}"
fail=0
((rc == 0)) || { echo "soak: FAIL: not every launch returned its status"; fail=1; }
((fd1 == fd0)) || { echo "soak: FAIL: the daemon's fd count changed"; fail=1; }
# The allocator may keep a little; growth past 10% + 1 MiB is a leak.
((rss1 <= rss0 + rss0 / 10 + 1024)) || { echo "soak: FAIL: the daemon's RSS grew"; fail=1; }
((z == 0 && kids == 0)) || { echo "soak: FAIL: children or zombies left"; fail=1; }
((mnt1 <= mnt0)) || { echo "soak: FAIL: mount namespaces left"; fail=1; }
((cg1 == cg0)) || { echo "soak: FAIL: cgroups left"; fail=1; }
kill -0 "$pid" 2>/dev/null || { echo "soak: FAIL: the daemon died"; fail=1; }
((fail == 0)) && echo "soak: ok" || { echo "--- launcherd log (tail) ---"; tail -20 "$dir/log"; }
exit $fail
