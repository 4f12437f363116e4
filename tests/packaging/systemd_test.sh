#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# capspawn-launcherd's installed units under a real systemd: the host's /usr
# (with the packages installed) booted in a throwaway container
# (systemd-nspawn --volatile=yes: an empty tmpfs root and /etc, the host's
# /usr read-only, its own network namespace with only lo, the cgroup v2
# hierarchy alone as on a default Debian 12; booted to basic.target). Checks:
#   - the socket unit listens, a client's first connection starts the service
#     with its sandboxing directives, and it serves root and nobody, each
#     getting a process as itself, in its own cgroup, not the daemon's;
#   - the daemon's children, born in their clients' cgroups, are not bound
#     by its directives (a launched child connects to a listener), and a
#     control unit with IPAddressDeny=any shows whether the container's
#     systemd enforces them at all (it says which);
#   - stopping the service leaves what it launched running, and the socket
#     starts it again.
# Run as root, with the packages installed. Exit 0 when all hold; 77 when
# this host cannot run the container (printed).
set -uo pipefail
name=capspawn-units-$$
log=$(mktemp)
nspawn=
leader=
cleanup() {
  if [[ -n $nspawn ]] && kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn"  # asks the container's systemd to power off
    for _ in $(seq 300); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
    # Still there: end its pid namespace (its pid 1), then nspawn.
    [[ -n $leader ]] && kill -KILL "$leader" 2>/dev/null
    kill -KILL "$nspawn" 2>/dev/null
  fi
  wait "$nspawn" 2>/dev/null
  # nspawn gone but its container not (seen when nspawn is signalled early):
  # the container's pid 1 takes its pid namespace with it.
  if [[ -n $leader ]] && [[ $(cat "/proc/$leader/comm" 2>/dev/null) == systemd ]]; then
    kill -KILL "$leader" 2>/dev/null
  fi
  rm -f "$log"
}
trap cleanup EXIT
command -v systemd-nspawn >/dev/null || { echo "systemd: systemd-nspawn is not installed"; exit 77; }
[[ -e /usr/lib/systemd/system/capspawn-launcherd.socket ]] || { echo "systemd: the packages are not installed"; exit 1; }

# SYSTEMD_SECCOMP=0: no filter of nspawn's own on the container's processes,
# as on a host whose pid 1 is systemd. Under one, the daemon could read no
# client's filters (the kernel refuses PTRACE_SECCOMP_GET_FILTER to a filtered
# tracer) and would refuse every client, each of which inherits it.
SYSTEMD_SECCOMP=0 SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -D / --volatile=yes --private-network --register=no --keep-unit -q --capability=all \
  --machine="$name" --console=pipe --boot -- systemd.unit=basic.target >"$log" 2>&1 </dev/null &
nspawn=$!
# The container's pid 1: the systemd among nspawn's descendants (nspawn
# forks helpers on the way).
descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    descendants "$p"
  done
}
for _ in $(seq 300); do
  for p in $(descendants "$nspawn"); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == systemd ]] && { leader=$p; break; }
  done
  [[ -n $leader ]] && break
  sleep 0.1
done
[[ -n $leader ]] || { echo "systemd: the container did not start"; cat "$log"; exit 77; }
inside() { nsenter --target "$leader" --all -- "$@"; }
# Its bus comes up a moment after its pid 1.
state=
for _ in $(seq 600); do
  state=$(inside systemctl is-system-running 2>&1)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.1
done
if [[ $state != running && $state != degraded ]]; then
  echo "systemd: the container's systemd is '$state'"
  cat "$log"
  exit 77
fi
# A command as a unit of the container's systemd (its own cgroup), output back.
unit() { inside systemd-run --quiet --wait --pipe --collect "$@"; }
fail() { echo "systemd: FAIL: $*"; exit 1; }

inside systemctl start capspawn-launcherd.socket || fail "start capspawn-launcherd.socket"
[[ $(inside systemctl is-active capspawn-launcherd.socket) == active ]] || fail "the socket is not active"
[[ $(inside systemctl is-active capspawn-launcherd.service) != active ]] || fail "the service ran before a client"
for p in DevicePolicy=closed IPAddressDeny= SocketBindDeny= RestrictNetworkInterfaces=lo KeyringMode=private; do
  inside systemctl show capspawn-launcherd.service -p "${p%%=*}" | grep -q "^$p" || fail "the service lacks $p"
done
sock=/run/capspawn/launcher.sock
[[ $(unit capspawn run --launcher "$sock" -- /usr/bin/id -u) == 0 ]] || fail "root's launch"
[[ $(inside systemctl is-active capspawn-launcherd.service) == active ]] || fail "the service was not activated"
[[ $(unit -p User=nobody capspawn run --launcher "$sock" -- /usr/bin/id -u) == "$(id -u nobody)" ]] ||
  fail "nobody's launch"
# The cgroup v2 one: where the daemon's cgroup BPF programs would apply.
cgroup=$(unit -p User=nobody capspawn run --launcher "$sock" -- /bin/cat /proc/self/cgroup | grep '^0::')
[[ $cgroup == *run-* && $cgroup != *capspawn-launcherd* ]] || fail "the child's cgroup: $cgroup"

# The network directives: a control bound by them cannot connect; a child of
# the daemon can.
port=47123
inside systemd-run --quiet --collect --unit="listener-$$" /usr/bin/python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b'hello\n'); c.close()
"
connect="import socket; print(socket.create_connection(('127.0.0.1', $port), timeout=5).recv(16).decode().strip())"
for _ in $(seq 50); do
  [[ $(unit /usr/bin/python3 -c "$connect" 2>/dev/null) == hello ]] && break
  sleep 0.1
done
[[ $(unit /usr/bin/python3 -c "$connect" 2>/dev/null) == hello ]] || fail "the listener does not answer"
if [[ $(unit -p IPAddressDeny=any /usr/bin/python3 -c "$connect" 2>/dev/null) == hello ]]; then
  echo "systemd: note: IPAddressDeny= is not enforced in this container (no BPF); the daemon ran under it regardless"
else
  echo "systemd: a unit with IPAddressDeny=any cannot connect (the directive bites)"
fi
[[ $(unit -p User=nobody capspawn run --launcher "$sock" -- /usr/bin/python3 -c "$connect") == hello ]] ||
  fail "a launched child cannot connect: the daemon's sandbox reached it"
# Stopping the service ends the daemon, not what it launched (KillMode=process:
# on a hybrid cgroup host the children are still in its legacy name=systemd group).
inside systemd-run --quiet --collect --unit="client-$$" -p User=nobody \
  capspawn run --launcher "$sock" --name capspawn-survivor -- /bin/sleep 300
for _ in $(seq 100); do inside pgrep -x capspawn-surviv >/dev/null && break; sleep 0.1; done
inside systemctl stop capspawn-launcherd.service 2>/dev/null
inside pgrep -x capspawn-surviv >/dev/null || fail "stopping the service killed a launched process"
[[ $(inside systemctl is-active capspawn-launcherd.service) != active ]] || fail "the service did not stop"
# The socket is still there: the next client starts the daemon again.
[[ $(unit capspawn run --launcher "$sock" -- /usr/bin/id -u) == 0 ]] || fail "reactivation"
inside systemctl stop "listener-$$" "client-$$" capspawn-launcherd.socket capspawn-launcherd.service
echo "systemd: the socket activates capspawn-launcherd with its sandboxing directives; it serves root and nobody, as themselves, and its children are not held by its directives"
