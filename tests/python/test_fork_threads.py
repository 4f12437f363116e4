# SPDX-License-Identifier: Apache-2.0
"""capspawn from many threads at once, and in a process made by os.fork()."""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import PYTHON, sandbox

import capspawn


def test_many_threads_spawn_and_wait_at_once():
    errors = []
    results = {}

    def worker(n):
        try:
            for i in range(25):
                r = capspawn.run(
                    ["sh", "-c", f"echo {n}-{i}; exit {(n + i) % 5}"], capture_output=True
                )
                assert (r.returncode, r.stdout) == ((n + i) % 5, f"{n}-{i}\n".encode())
            results[n] = True
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8


def test_two_threads_wait_on_one_process():
    p = capspawn.spawn(["sh", "-c", "sleep 0.3; exit 21"])
    codes = []
    threads = [threading.Thread(target=lambda: codes.append(p.wait())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [21, 21]


def test_closing_a_pidfd_while_another_thread_waits_on_it():
    # The native handle defers the close(2) to the end of the wait: the fd
    # number is never reused under the waiting thread.
    p = capspawn.spawn(["sh", "-c", "read go; exit 22"], stdin=capspawn.PIPE)
    handle = p._handle()
    fd = handle.fileno()
    got = []
    waiting = threading.Event()

    def waiter():
        waiting.set()
        got.append(handle.wait(None))

    t = threading.Thread(target=waiter)
    t.start()
    waiting.wait()
    time.sleep(0.2)  # from set() into the blocking wait
    handle.close()
    assert handle.closed
    os.fstat(fd)  # still open: the wait is using it
    with pytest.raises(ValueError, match="closed"):
        handle.fileno()
    with pytest.raises(capspawn.BadHandle, match="closed"):
        handle.wait(0)
    p.stdin.write(b"go\n")
    p.stdin.close()
    t.join()
    assert got == [22]
    with pytest.raises(OSError):
        os.fstat(fd)  # closed once the wait ended
    p._closed = True  # the Process's handle was closed by hand above


def test_jobs_from_threads(job):
    errors = []

    def worker():
        try:
            with job.create_child() as child:
                p = child.spawn(["sleep", "30"])
                assert child.processes() == [p.pid]
            assert p.wait(10) == -9
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert job.children() == []


def wait_child(pid, timeout=30.0):
    """The forked child's exit status; kills it if it hangs (a deadlock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"forked child {pid} hung for {timeout} s")


def test_spawn_in_a_forked_child():
    pid = os.fork()
    if pid == 0:
        try:
            code = capspawn.run(["sh", "-c", "exit 3"]).returncode
            os._exit(code)
        finally:
            os._exit(99)
    assert wait_child(pid) == 3


def test_a_forked_child_waits_on_a_process_of_its_parent():
    p = capspawn.spawn(["sh", "-c", "sleep 0.3; exit 4"])
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(p.wait())  # not its child: reads the status the kernel keeps
        finally:
            os._exit(99)
    assert p.wait() == 4  # we reap, which records the status
    assert wait_child(pid) == 4


def test_fork_while_other_threads_spawn_into_namespaces(tmp_path):
    # Spawns with a namespace take the library's namespace-cache lock; a fork
    # in the middle of one must not hand the child that lock held.
    stop = threading.Event()
    errors = []
    kwargs = sandbox({"/data": tmp_path})

    def spawner():
        try:
            while not stop.is_set():
                capspawn.run([PYTHON, "-S", "-c", "pass"], **kwargs, check=True)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=spawner) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(15):
            pid = os.fork()
            if pid == 0:
                try:
                    ok = capspawn.run([PYTHON, "-S", "-c", "pass"], **kwargs).returncode == 0
                    os._exit(0 if ok else 1)
                finally:
                    os._exit(99)
            assert wait_child(pid) == 0
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
