# SPDX-License-Identifier: Apache-2.0
"""capspawn.startup: the child's side of typed handles."""

from __future__ import annotations

import socket

import pytest
from conftest import PYTHON, py_env

import capspawn
from capspawn import startup

CHILD = r"""
import os, socket, sys
from capspawn import startup
fd = startup.take_handle("user0.1")
print("user0.1", fd, startup.take_handle("user0.1"))
print("dir", startup.take_handle((capspawn_PA_DIRECTORY_REQUEST, 0)))
print("missing", startup.take_handle("user2.9"))
s = socket.socket(fileno=fd)
s.sendall(b"hello through user0.1")
s.close()
"""


def test_a_python_child_takes_its_handles():
    a, b = socket.socketpair()
    r, w = socket.socketpair()
    code = CHILD.replace("capspawn_PA_DIRECTORY_REQUEST", str(capspawn.PA_DIRECTORY_REQUEST))
    with a, b, r, w:
        p = capspawn.spawn(
            [PYTHON, "-c", code],
            env=py_env(),
            stdout=capspawn.PIPE,
            text=True,
            handles={"user0.1": b, (capspawn.PA_DIRECTORY_REQUEST, 0): w},
        )
        with p:
            out, _ = p.communicate()
        assert p.returncode == 0
        assert out.splitlines() == ["user0.1 3 None", "dir 4", "missing None"]
        assert a.recv(100) == b"hello through user0.1"


def test_handles_meant_for_another_process_are_ignored():
    env = py_env(LISTEN_PID="1", LISTEN_FDS="1", LISTEN_FDNAMES="user0.1")
    r = capspawn.run(
        [PYTHON, "-c", "from capspawn import startup; print(startup.take_handle('user0.1'))"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.stdout == "None\n", r.stderr


def test_names():
    assert startup.handle_name("user0.1") == "user0.1"
    assert startup.handle_name((capspawn.PA_LIFECYCLE, 0)) == "lifecycle.0"
    assert startup.handle_name(0xF3 | (2 << 16)) == "0xf3.2"
    assert startup.take_handle("user0.7") is None  # this test process was handed none
    with pytest.raises(ValueError):
        startup.take_handle("garbage")
