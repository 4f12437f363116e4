# SPDX-License-Identifier: Apache-2.0
"""A pidfd handed to another Python process, over a UNIX socket, is a Process
there: it waits for it (reading the status the kernel keeps) and can kill it."""

from __future__ import annotations

import socket
import time

from conftest import PYTHON, py_env

import capspawn

# The other process: takes the socket handed as user0.0, receives a pidfd,
# runs one command on the Process, prints the result.
HOLDER = r"""
import socket, sys, capspawn
from capspawn import startup
s = socket.socket(fileno=startup.take_handle("user0.0"))
_, fds, _, _ = socket.recv_fds(s, 16, 1)
p = capspawn.Process.from_pidfd(fds[0])
print("pid", p.pid, flush=True)
if sys.argv[1] == "wait":
    print("code", p.wait(), flush=True)
elif sys.argv[1] == "kill":
    p.kill()
    print("killed", flush=True)
p.close()
"""


def holder(command):
    a, b = socket.socketpair()
    proc = capspawn.spawn(
        [PYTHON, "-c", HOLDER, command],
        handles={"user0.0": b},
        env=py_env(),
        stdout=capspawn.PIPE,
        text=True,
    )
    b.close()
    return a, proc


def test_another_process_waits_on_our_child():
    # It ends when told (its pid stays valid until then, whoever reaps it).
    target = capspawn.spawn(["sh", "-c", "read go; exit 11"], stdin=capspawn.PIPE)
    a, h = holder("wait")
    with a, h, target:
        socket.send_fds(a, [b"p"], [target.pidfd])
        assert h.stdout.readline() == f"pid {target.pid}\n"
        target.stdin.write(b"go\n")
        target.stdin.close()
        # It is blocked in wait(): the status exists once the parent (we, or
        # the launcher in python.via_launcher) reaps.
        time.sleep(0.3)
        assert target.wait() == 11
        assert h.stdout.readline() == "code 11\n"
    assert h.returncode == 0


def test_another_process_waits_after_we_reaped():
    target = capspawn.spawn(["sh", "-c", "exit 12"])
    assert target.wait() == 12
    a, h = holder("wait")
    with a, h, target:
        socket.send_fds(a, [b"p"], [target.pidfd])
        assert h.stdout.readline() == "pid None\n"  # reaped: no pid any more
        assert h.stdout.readline() == "code 12\n"
    assert h.returncode == 0


def test_another_process_kills_our_child():
    target = capspawn.spawn(["sleep", "30"])
    a, h = holder("kill")
    with a, h, target:
        socket.send_fds(a, [b"p"], [target.pidfd])
        assert h.stdout.read() == f"pid {target.pid}\nkilled\n"
        assert target.wait(timeout=10) == -9
    assert h.returncode == 0


def test_we_wait_on_a_process_another_one_created():
    a, b = socket.socketpair()
    maker = capspawn.spawn(
        [
            PYTHON,
            "-c",
            "import socket, capspawn\n"
            "from capspawn import startup\n"
            "s = socket.socket(fileno=startup.take_handle('user0.0'))\n"
            "p = capspawn.spawn(['sh', '-c', 'exit 13'])\n"
            "socket.send_fds(s, [b'p'], [p.pidfd])\n"
            "print(p.wait())\n",
        ],
        handles={"user0.0": b},
        env=py_env(),
        stdout=capspawn.PIPE,
    )
    b.close()
    with a, maker:
        _, fds, _, _ = socket.recv_fds(a, 16, 1)
        with capspawn.Process.from_pidfd(fds[0]) as p:
            assert p.wait(timeout=30) == 13
        assert maker.stdout.read() == b"13\n"
    assert maker.returncode == 0
