# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: leak checks around every test, helpers for child programs."""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
import sysconfig
from typing import Any, Dict, List, Optional

import pytest

# Under AddressSanitizer the interpreter runs with libasan preloaded; only
# children that load the extension need it (others, e.g. in an empty
# namespace, would only print that it cannot be found).
ASAN_PRELOAD = os.environ.pop("LD_PRELOAD", None)
SANITIZED = bool(os.environ.get("CAPSPAWN_PY_SANITIZED"))

import capspawn  # noqa: E402

PYTHON = sys.executable
HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "child_report.py")
MULTIARCH = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
LIBDIR = f"/usr/lib/{MULTIARCH}"
AS_ROOT = os.geteuid() == 0
# The suite's second run (python.via_launcher): every spawn through a daemon.
VIA_LAUNCHER = bool(os.environ.get("CAPSPAWN_LAUNCHER"))

# Orphans (a killed job's setsid daemons...) come to us, not to a pid 1 that
# may not reap them: the leak check below sees and reaps them.
_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def py_env(**extra: str) -> Dict[str, str]:
    """The environment of a Python child that imports capspawn."""
    env = {
        "PYTHONPATH": os.environ["PYTHONPATH"],
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC"):
        if k in os.environ:
            env[k] = os.environ[k]
    if ASAN_PRELOAD:
        env["LD_PRELOAD"] = ASAN_PRELOAD
    env.update(extra)
    return env


def report(argv_tail: Optional[List[str]] = None, **kwargs: Any) -> Dict[str, Any]:
    """Runs child_report.py with spawn's kwargs; returns what it saw."""
    r = capspawn.run(
        [PYTHON, "-S", REPORT] + (argv_tail or []), capture_output=True, check=True, **kwargs
    )
    return json.loads(r.stdout)


def sandbox(extra_ns: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """spawn() arguments for a Python child in a private namespace that holds
    /usr read-only (the interpreter's library), the loader, and extra_ns."""
    ns: Dict[str, Any] = {"/usr": capspawn.ReadOnly("/usr")}
    ns.update(extra_ns or {})
    return dict(flags=capspawn.CLONE_ALL & ~capspawn.CLONE_NAMESPACE, namespace=ns, loader=LIBDIR)


def _library_cache(target: str) -> bool:
    """fds the library keeps on purpose: its namespace cache (up to 16 built
    namespaces, docs/namespaces.md) and the /proc/self/mounts it watches; and,
    through the launcher, each spawning thread's connection (docs/launcher.md)."""
    return (
        target.startswith(("mnt:[", "user:["))
        or target == f"/proc/{os.getpid()}/mounts"
        or (VIA_LAUNCHER and target.startswith("socket:["))
    )


def open_fds() -> Dict[int, str]:
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the directory fd listdir used, gone now
        if not _library_cache(target):
            out[int(name)] = target
    return out


def children() -> List[int]:
    pids: List[int] = []
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    return pids


def state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def reap_zombies() -> List[int]:
    reaped = []
    for pid in children():
        if state(pid) == "Z":
            os.waitpid(pid, 0)
            reaped.append(pid)
    return reaped


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Any:
    """Every test leaves no fd, no child process, no zombie behind."""
    gc.collect()
    fds_before = open_fds()
    kids_before = set(children())
    yield
    gc.collect()
    if request.node.get_closest_marker("orphans"):
        reap_zombies()
    leaked_fds = {fd: t for fd, t in open_fds().items() if fds_before.get(fd) != t}
    leaked_kids = [p for p in children() if p not in kids_before]
    for pid in leaked_kids:  # do not let one failure cascade
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
    assert not leaked_fds, f"fds left open: {leaked_fds}"
    assert not leaked_kids, f"child processes left: {leaked_kids}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "orphans: the test makes orphans; zombies are reaped")


@pytest.fixture
def job() -> Any:
    """A fresh job (a child of the default job), destroyed afterwards; skipped,
    with the library's reason, where this user may not create cgroups."""
    try:
        j = capspawn.Job()
    except (capspawn.AccessDenied, capspawn.NotSupported) as e:
        if AS_ROOT:
            raise
        pytest.skip(f"this user may not create jobs here: {e}")
    with j:
        yield j
