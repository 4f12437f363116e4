#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# usage: with_launcherd.sh LAUNCHERD COMMAND [ARGS...]
# Runs COMMAND with CAPSPAWN_LAUNCHER naming a fresh capspawn-launcherd's
# socket; fails if the daemon died on the way. Its log goes to stderr at the end.
set -uo pipefail
daemon=$1
shift
dir=$(mktemp -d /tmp/capspawn-launcherd.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/ready"
"$daemon" --socket "$dir/launcher.sock" --quiet --ready-fd 3 3>"$dir/ready" 2>"$dir/log" &
pid=$!
read -r -t 30 line <"$dir/ready" || { echo "launcherd did not start"; cat "$dir/log"; exit 1; }
CAPSPAWN_LAUNCHER=$dir/launcher.sock "$@"
rc=$?
if ! kill -0 "$pid" 2>/dev/null; then
  echo "capspawn-launcherd died during the run"
  rc=1
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
drc=$?
if ((drc != 0)); then
  echo "capspawn-launcherd exited with $drc"
  rc=1
fi
echo "--- capspawn-launcherd log ---"
cat "$dir/log"
exit "$rc"
