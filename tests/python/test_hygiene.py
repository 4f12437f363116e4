# SPDX-License-Identifier: Apache-2.0
"""The child gets exactly what it is handed: fds, environment, filesystem."""

from __future__ import annotations

import fcntl
import json
import os
import resource
import select
import socket
import subprocess

import pytest
from conftest import PYTHON, REPORT, report, sandbox

import capspawn

# Through the launcher (python.via_launcher) these fail: the library's translation
# sends read-only entries as writable names and tmpfs/proc/dev entries as fd -1
# (src/launcher/spawn_via_launcher.cc ignores an entry's kind).


@pytest.fixture
def many_inheritable_fds(tmp_path):
    """~600 inheritable fds of every kind, some far up; closed afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 6000 <= hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (6000, hard))
    fds = []
    keep = []
    (tmp_path / "f").write_text("x")
    for i in range(60):
        fds += list(os.pipe())
        a, b = socket.socketpair()
        keep += [a, b]
        fds += [a.fileno(), b.fileno()]
        fds.append(os.open(tmp_path / "f", os.O_RDONLY))
        fds.append(os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY))
        fds.append(os.open(tmp_path, os.O_PATH))
        fds.append(os.eventfd(0))
        fds.append(os.memfd_create("m", 0))
        ep = select.epoll()
        keep.append(ep)
        fds.append(ep.fileno())
    for target in (700, 1023, 5000):
        if target < resource.getrlimit(resource.RLIMIT_NOFILE)[0]:
            fds.append(os.dup2(fds[0], target, inheritable=True))
    for fd in fds:
        os.set_inheritable(fd, True)
    flags = {fd: fcntl.fcntl(fd, fcntl.F_GETFD) for fd in fds}
    yield fds
    # Ours are untouched: every fd still open, its flags as they were.
    assert {fd: fcntl.fcntl(fd, fcntl.F_GETFD) for fd in fds} == flags
    owned = {o.fileno() for o in keep}
    for obj in keep:
        obj.close()
    for fd in set(fds) - owned:
        os.close(fd)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_control_an_ordinary_child_inherits_them(many_inheritable_fds):
    r = subprocess.run([PYTHON, "-S", REPORT], capture_output=True, close_fds=False, check=True)
    assert len(json.loads(r.stdout)["fds"]) > 500


def test_the_child_sees_only_0_1_2(many_inheritable_fds):
    assert sorted(map(int, report()["fds"])) == [0, 1, 2]


def test_the_child_sees_only_what_is_handed(many_inheritable_fds):
    a, b = socket.socketpair()
    with a, b:
        d = report(
            fds={9: many_inheritable_fds[0]},
            handles={"user0.0": b, "user0.1": many_inheritable_fds[1]},
        )
    assert sorted(map(int, d["fds"])) == [0, 1, 2, 3, 4, 9]


def test_the_child_gets_no_stray_environment(monkeypatch):
    monkeypatch.setenv("SECRET", "hunter2")
    # (LC_ALL set: Python then adds no LC_CTYPE of its own.)
    d = report(env={"ONLY": "this", "LC_ALL": "C.UTF-8"})
    assert d["env"] == {"ONLY": "this", "LC_ALL": "C.UTF-8"}


def test_a_sandboxed_python_sees_only_its_namespace(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello.txt").write_text("handed over")
    code = r"""
import os, json
out = {"root": sorted(os.listdir("/")), "data": open("/data/hello.txt").read(), "fds": []}
for p in ("/etc/passwd", "/proc/self", "/tmp", "/home", "/work"):
    out[p] = os.path.exists(p)
try:
    open("/data/written", "w")
except OSError as e:
    out["ro_write"] = e.strerror
for fd in range(1024):
    try:
        os.fstat(fd); out["fds"].append(fd)
    except OSError:
        pass
out["env"] = dict(os.environ)
print(json.dumps(out))
"""
    r = capspawn.run(
        [PYTHON, "-S", "-c", code],
        capture_output=True,
        env={"LC_ALL": "C.UTF-8"},
        **sandbox({"/data": capspawn.ReadOnly(data)}),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # /usr (handed), /data (handed), and the loader's directories (the
    # dynamic linker's /lib64 and the library directory's /lib/<triplet>).
    assert set(out["root"]) == {"data", "usr", "lib", "lib64"}
    assert out["data"] == "handed over"
    assert not any(out[p] for p in ("/etc/passwd", "/proc/self", "/tmp", "/home", "/work"))
    assert out.get("ro_write") == "Read-only file system"
    assert not (data / "written").exists()
    assert out["fds"] == [0, 1, 2]
    assert out["env"] == {"LC_ALL": "C.UTF-8"}
