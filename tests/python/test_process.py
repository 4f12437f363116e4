# SPDX-License-Identifier: Apache-2.0
"""Process: the pidfd, waiting, signals, the context manager, lifetime."""

from __future__ import annotations

import fcntl
import gc
import os
import select
import signal
import subprocess
import threading
import time

import pytest
from conftest import state

import capspawn
from capspawn import _process


def pidfd_pid(fd):
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    return None


def wait_until_ended(pid, timeout=30.0):
    """Until pid is a zombie (or, through a launcher, gone)."""
    deadline = time.monotonic() + timeout
    while state(pid) not in ("Z", "gone"):
        assert time.monotonic() < deadline, f"{pid} still running"
        time.sleep(0.02)


def test_pid_and_pidfd():
    with capspawn.spawn(["sleep", "30"]) as p:
        assert p.pid > 0
        assert p.fileno() == p.pidfd
        assert pidfd_pid(p.pidfd) == p.pid
        assert fcntl.fcntl(p.pidfd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert "pidfd" in os.readlink(f"/proc/self/fd/{p.pidfd}")
        p.kill()


@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_exit_codes(code):
    p = capspawn.spawn(["sh", "-c", f"exit {code}"])
    assert p.returncode is None
    assert p.wait() == code
    assert p.returncode == code
    assert p.wait() == code  # again: the same


def test_signals_give_negative_codes():
    p = capspawn.spawn(["sleep", "30"])
    p.kill()
    assert p.wait() == -signal.SIGKILL
    p = capspawn.spawn(["sleep", "30"])
    p.terminate()
    assert p.wait() == -signal.SIGTERM
    p = capspawn.spawn(["sleep", "30"])
    p.send_signal(signal.SIGUSR1)
    assert p.wait() == -signal.SIGUSR1
    p.send_signal(signal.SIGKILL)  # after the end: nothing happens


def test_wait_timeout():
    p = capspawn.spawn(["sleep", "30"])
    t = time.monotonic()
    with pytest.raises(capspawn.TimeoutExpired) as e:
        p.wait(timeout=0.2)
    assert 0.15 < time.monotonic() - t < 5
    assert isinstance(e.value, subprocess.TimeoutExpired)
    assert isinstance(e.value, TimeoutError)
    assert isinstance(e.value, capspawn.TimedOut)
    assert e.value.cmd == ["sleep", "30"] and e.value.timeout == 0.2
    assert e.value.status == capspawn.Status.TIMED_OUT
    assert p.returncode is None
    p.kill()
    assert p.wait(timeout=10) == -9


def test_poll():
    p = capspawn.spawn(["sleep", "0.3"])
    assert p.poll() is None
    deadline = time.monotonic() + 10
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert p.poll() == 0


def test_pidfd_is_readable_once_it_exits():
    p = capspawn.spawn(["sleep", "0.2"])
    r, _, _ = select.select([p], [], [], 10)
    assert r == [p]
    assert p.poll() == 0


def test_context_manager_waits():
    with capspawn.spawn(["sh", "-c", "sleep 0.2; exit 3"]) as p:
        pass
    assert p.returncode == 3
    with pytest.raises(ValueError, match="closed"):
        p.fileno()


def test_context_manager_kills_on_exception():
    with pytest.raises(RuntimeError):
        with capspawn.spawn(["sleep", "30"]) as p:
            raise RuntimeError("boom")
    assert p.returncode == -signal.SIGKILL


def test_wait_releases_the_gil():
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        assert capspawn.spawn(["sleep", "0.5"]).wait() == 0
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 10  # the other thread ran all along


def test_a_signal_handler_interrupts_wait():
    class Alarm(Exception):
        pass

    def handler(signo, frame):
        raise Alarm()

    old = signal.signal(signal.SIGALRM, handler)
    p = capspawn.spawn(["sleep", "30"])
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        t = time.monotonic()
        with pytest.raises(Alarm):
            p.wait()
        assert time.monotonic() - t < 5
        assert p.returncode is None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        p.kill()
        p.wait()


def test_from_pidfd_of_our_own_child():
    child = subprocess.Popen(["sh", "-c", "exit 9"])
    fd = os.pidfd_open(child.pid)
    p = capspawn.Process.from_pidfd(fd)
    assert p.pid == child.pid
    assert p.wait() == 9
    p.close()
    child.returncode = 9  # reaped through the pidfd


def test_from_pidfd_refuses_what_is_not_a_pidfd(tmp_path):
    r, w = os.pipe()
    try:
        with pytest.raises(capspawn.BadHandle, match=f"fd {r} is not a pidfd"):
            capspawn.Process.from_pidfd(r)
        os.fstat(r)  # not taken
    finally:
        os.close(r)
        os.close(w)
    with pytest.raises(ValueError):
        capspawn.Process.from_pidfd(-1)
    with pytest.raises(TypeError):
        capspawn.Process.from_pidfd("3")


def test_close_leaves_it_running_and_a_later_spawn_reaps_it():
    p = capspawn.spawn(["sleep", "0.2"])
    pid = p.pid
    p.close()
    assert os.path.exists(f"/proc/{pid}")
    wait_until_ended(pid)
    capspawn.run(["true"])  # reaps what was left
    assert not os.path.exists(f"/proc/{pid}")
    assert not _process._unwaited


def test_dropping_a_running_process_warns_and_it_is_reaped_later():
    p = capspawn.spawn(["sleep", "0.2"])
    pid = p.pid
    with pytest.warns(ResourceWarning, match=f"process {pid} is still running"):
        del p
        gc.collect()
    wait_until_ended(pid)
    capspawn.run(["true"])
    assert not os.path.exists(f"/proc/{pid}")


def test_repr():
    p = capspawn.spawn(["true"])
    assert f"pid={p.pid}" in repr(p)
    p.wait()
    assert "returncode=0" in repr(p)
