#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: builds capspawn and shows what a capspawn child receives, next
# to what an ordinary Linux child inherits.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/build.sh" -DCAPSPAWN_BUILD_TESTS=OFF >/dev/null
cs="$src/build/tools/capspawn/capspawn"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The shell holds some stray fds (not close-on-exec) and a secret variable.
exec 7</etc/hostname 8</etc/os-release 9>/dev/null
export DEMO_SECRET=hunter2

step "An ordinary child inherits every stray fd and the whole environment (the last fd listed is ls reading /proc/self/fd)"
sh -c 'ls /proc/self/fd | tr "\n" " "; echo; env | grep -c . | sed "s/^/env vars: /"'

step "A capspawn child gets exactly what it is handed: fds 0-2, nothing else (the last fd listed is ls reading /proc/self/fd)"
"$cs" run --clear-env -- /bin/sh -c 'ls /proc/self/fd | tr "\n" " "; echo; env | grep -c . | sed "s/^/env vars: /"'

step "An explicit environment and one fd moved to a chosen number"
"$cs" run --clear-env --env GREETING=hello --fd 5=8 -- /bin/sh -c 'echo "$GREETING"; head -1 <&5'

step "A typed handle, found by id (LISTEN_FDNAMES, readable by sd_listen_fds_with_names)"
"$cs" run --clear-env --handle user0.1=7 --handle directory_request.0=9 -- /bin/sh -c \
  'echo "LISTEN_FDS=$LISTEN_FDS LISTEN_FDNAMES=$LISTEN_FDNAMES"; ls -l /proc/self/fd/3 /proc/self/fd/4 | sed "s/.* \([0-9]\) -> /fd \1 -> /"'

step "A #! script is followed by capspawn itself"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh -eu\necho "script argv: $0 $*"\n' >"$tmp/hello.sh"
chmod +x "$tmp/hello.sh"
"$cs" run -- "$tmp/hello.sh" one two

step "Exit codes pass through; bad input gets a status and a message"
"$cs" run -- /bin/sh -c 'exit 3' || echo "exit code: $?"
"$cs" run --fd 3=1234 -- /bin/true || echo "exit code: $?"

step "A job: a cgroup v2 tree, killed as a whole (daemons included)"
job="capspawn-demo-$$"
if "$cs" job create "$job" >/dev/null; then
  # A tree with a double-forked, setsid daemon: all of it lives in the job.
  "$cs" run --job "$job" -- /bin/sh -c '(setsid sh -c "sleep 600" &) ; sleep 600' &
  runner=$!
  for _ in $(seq 50); do
    [[ $("$cs" job ps "$job" | grep -c sleep) -ge 2 ]] && break
    sleep 0.1
  done
  "$cs" job ps "$job"
  "$cs" job kill "$job" && echo "killed; processes left: $("$cs" job ps "$job" | grep -c sleep || true)"
  wait "$runner" 2>/dev/null || true
  "$cs" job destroy "$job"

  step "A job whose new-process policy is DENY: its processes cannot fork"
  "$cs" job create --deny-new-process "$job" >/dev/null
  "$cs" run --job "$job" -- /usr/bin/python3 -c 'import os
try:
    os.fork()
except OSError as e:
    print("os.fork() in a DENY job:", e)' || true
  "$cs" job destroy "$job"
else
  echo "(this host does not let us create cgroups: skipped)"
fi

step "A private filesystem: only the handed directories exist (read-only /usr, a tmpfs, a minimal /dev)"
mkdir -p "$tmp/data" && echo "a file in the handed directory" >"$tmp/data/hello.txt"
"$cs" run --no-clone=namespace --ro-ns /usr=/usr --ns /data="$tmp/data" --tmpfs /tmp --dev-minimal \
  --ldsvc "/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)" -- /usr/bin/python3 -S -c 'import os
print("/ holds:", sorted(os.listdir("/")))
print(open("/data/hello.txt").read().strip())
try:
    open("/usr/x", "w")
except OSError as e:
    print("writing /usr:", e.strerror)' || echo "(namespaces unavailable here: exit $?)"

step "Create without starting: the process has exec'd and waits before its first instruction"
# The start data goes to a file; the process keeps the demo's stdout.
"$cs" run --suspended --start-data "$tmp/start.json" -- /bin/echo "started, after inspection"
cat "$tmp/start.json"
pid=$(sed -E 's/.*"pid":([0-9]+).*/\1/' "$tmp/start.json")
echo "state of $pid: $(awk '{print $3}' "/proc/$pid/stat") (T: stopped)"
"$cs" ps --suspended "$pid"
"$cs" start "$pid"
sleep 0.2

step "The launcher: a process in a DENY job gets a child through capspawn-launcherd"
if "$cs" job create --deny-new-process "$job" >/dev/null 2>&1; then
  "$src/build/tools/capspawn-launcherd/capspawn-launcherd" --socket "$tmp/launcher.sock" --quiet &
  daemon=$!
  for _ in $(seq 50); do [[ -S $tmp/launcher.sock ]] && break; sleep 0.1; done
  # capspawn itself runs in the DENY job, and spawns through the launcher.
  "$cs" run --job "$job" --env CAPSPAWN_LAUNCHER="$tmp/launcher.sock" -- \
    "$cs" run -- /bin/sh -c 'echo "grandchild created through the launcher"; exit 42' ||
    echo "its exit code came back: $?"
  kill "$daemon"; wait "$daemon" 2>/dev/null || true
  "$cs" job destroy "$job"
else
  echo "(this host does not let us create cgroups: skipped)"
fi

step "Python: import capspawn (docs/python.md)"
if compgen -G "$src/build/python/capspawn/_native*.so" >/dev/null; then
  PYTHONPATH="$src/build/python" /usr/bin/python3 - <<'PY'
import asyncio, os, sysconfig, time, capspawn

# Exactly what is handed: an explicit environment, one fd at a chosen number.
r, w = os.pipe()
capspawn.run(["sh", "-c", 'echo "$GREETING from fd 5" >&5; echo "fds (the last is ls reading /proc/self/fd):" $(ls /proc/self/fd)'],
             env={"GREETING": "hello"}, transfer_fds={5: w})
print(os.read(r, 100).decode().strip())

# A private filesystem: read-only /usr and nothing else.
out = capspawn.run(["/usr/bin/python3", "-S", "-c", "import os; print(sorted(os.listdir('/')))"],
                   flags=capspawn.CLONE_ALL & ~capspawn.CLONE_NAMESPACE, capture_output=True, text=True,
                   namespace={"/usr": capspawn.ReadOnly("/usr")}, loader="/usr/lib/" + sysconfig.get_config_var("MULTIARCH")).stdout
print("a sandboxed python3 sees:", out.strip())

# Errors are exceptions with a status and a message.
try:
    capspawn.run(["no-such-program"])
except FileNotFoundError as e:
    print(type(e).__name__, "-", e)

# asyncio: the event loop watches 20 pidfds at once.
async def main():
    rs = await asyncio.gather(*(capspawn.run_async(["sh", "-c", f"exit {i}"]) for i in range(20)))
    return [r.returncode for r in rs]
print("20 concurrent exit codes:", asyncio.run(main()))

# A job: the tree (a setsid daemon too) is killed and removed when the block ends.
try:
    with capspawn.Job() as job:
        shell = job.spawn(["sh", "-c", "(setsid sleep 600 &); sleep 600"])
        path = job.path
        while len(job.processes()) < 3:
            time.sleep(0.05)
        print("job", os.path.basename(path), "holds", len(job.processes()), "processes")
    print("after the with block: the shell's return code", shell.wait(), "; the job exists:", os.path.exists(path))
except (capspawn.AccessDenied, capspawn.NotSupported) as e:
    print("(no jobs here:", e, ")")
PY
else
  echo "(the Python package was not built: it needs python3-dev and pybind11-dev)"
fi
