# SPDX-License-Identifier: Apache-2.0
"""asyncio: the event loop watches pidfds; no thread, no SIGCHLD handler."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time

import pytest
from conftest import PYTHON, py_env

import capspawn


def run(coro):
    return asyncio.run(coro)


def test_wait_async():
    async def main():
        p = capspawn.spawn(["sh", "-c", "sleep 0.1; exit 5"])
        return await p.wait_async(), p.returncode

    assert run(main()) == (5, 5)


def test_a_hundred_concurrent_processes_without_threads_or_sigchld():
    threads_before = threading.active_count()
    sigchld_before = signal.getsignal(signal.SIGCHLD)

    async def one(i):
        r = await capspawn.run_async(
            ["sh", "-c", f"sleep 0.{i % 5}; echo {i}; exit {i % 7}"], capture_output=True
        )
        return r.returncode, r.stdout

    async def main():
        t = time.monotonic()
        results = await asyncio.gather(*(one(i) for i in range(100)))
        return results, time.monotonic() - t, threading.active_count()

    results, elapsed, threads_during = run(main())
    assert results == [(i % 7, f"{i}\n".encode()) for i in range(100)]
    assert threads_during == threads_before  # no watcher thread was started
    assert signal.getsignal(signal.SIGCHLD) == sigchld_before
    assert elapsed < 60


def test_waits_do_not_block_the_loop():
    async def main():
        p = capspawn.spawn(["sleep", "0.5"])
        ticks = 0

        async def ticker():
            nonlocal ticks
            while p.returncode is None:
                ticks += 1
                await asyncio.sleep(0.01)

        await asyncio.gather(p.wait_async(), ticker())
        return ticks

    assert run(main()) > 10


def test_run_async_input_and_check():
    async def main():
        r = await capspawn.run_async(["cat"], input=b"x" * 300000, capture_output=True)
        assert r.stdout == b"x" * 300000
        with pytest.raises(capspawn.CalledProcessError):
            await capspawn.run_async(["false"], check=True)
        r = await capspawn.run_async(["cat"], input="é", capture_output=True, text=True)
        assert r.stdout == "é"

    run(main())


def test_run_async_timeout_kills():
    async def main():
        with pytest.raises(capspawn.TimeoutExpired):
            await capspawn.run_async(["sleep", "30"], timeout=0.2)

    run(main())


def test_cancelling_run_async_kills_the_process():
    async def main():
        task = asyncio.ensure_future(
            capspawn.run_async(["sh", "-c", "echo $$; exec sleep 30"], capture_output=True)
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())


def test_wait_for_timeout_on_wait_async():
    async def main():
        p = capspawn.spawn(["sleep", "30"])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(p.wait_async(), 0.2)
        p.kill()
        return await p.wait_async()

    assert run(main()) == -9


def test_wait_async_for_a_process_we_did_not_create():
    """A non-parent holder: the pidfd is readable at the exit, and the status
    exists only once the parent reaps; the loop must not spin meanwhile."""
    a, b = socket.socketpair()
    helper = capspawn.spawn(
        [
            PYTHON,
            "-c",
            "import capspawn, socket, sys\n"
            "s = socket.socket(fileno=3)\n"
            "p = capspawn.spawn(['sh', '-c', 'exit 6'])\n"
            "socket.send_fds(s, [b'x'], [p.pidfd])\n"
            "s.recv(1)\n"  # we reap only when told
            "print(p.wait())\n",
        ],
        handles={"user0.0": b},
        env=py_env(),
        stdout=capspawn.PIPE,
    )
    b.close()

    async def main():
        _, fds, _, _ = socket.recv_fds(a, 1, 1)
        p = capspawn.Process.from_pidfd(fds[0])
        waiter = asyncio.ensure_future(p.wait_async())
        await asyncio.sleep(0.3)  # it has exited; its parent has not reaped it
        assert not waiter.done()
        cpu = time.process_time()
        await asyncio.sleep(0.3)
        spun = time.process_time() - cpu
        a.send(b"reap")
        code = await asyncio.wait_for(waiter, 10)
        p.close()
        return code, spun

    with a, helper:
        code, spun = run(main())
        assert code == 6
        assert spun < 0.2  # the loop slept, it did not busy-wait on the pidfd
        assert helper.stdout.read() == b"6\n"
    assert helper.returncode == 0
    assert os.environ.get("PYTHONPATH")
