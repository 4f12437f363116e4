#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# systemd-analyze verify accepts capspawn-launcherd's units; they have
# [Install] sections, and the socket is the SOCK_SEQPACKET one the daemon takes.
#   units_test.sh UNIT_DIR [--man=no]
set -euo pipefail
dir=$1
shift
socket=$dir/capspawn-launcherd.socket
service=$dir/capspawn-launcherd.service
systemd-analyze verify "$@" "$socket" "$service"
grep -q '^\[Install\]' "$socket" && grep -q '^WantedBy=sockets.target' "$socket"
grep -q '^\[Install\]' "$service" && grep -q '^Also=capspawn-launcherd.socket' "$service"
grep -q '^ListenSequentialPacket=' "$socket"
exec_start=$(sed -nE 's/^ExecStart=([^ ]+).*/\1/p' "$service")
[[ -x $exec_start ]] || { echo "units: ExecStart $exec_start is not executable"; exit 1; }
echo "units: systemd-analyze verify accepts $socket and $service"
