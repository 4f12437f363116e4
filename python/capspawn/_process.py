# SPDX-License-Identifier: Apache-2.0
"""Process: a running (or finished) process, held by its pidfd."""

from __future__ import annotations

import asyncio
import select
import signal
import warnings
from typing import IO, Any, List, Optional, Tuple, Union

from . import _native
from ._communicate import communicate, communicate_async
from ._errors import TimeoutExpired

# Processes dropped while still running. Each spawn() polls them (as
# subprocess does) so that a child nobody waited for does not stay a zombie.
_unwaited: List["_native.Pidfd"] = []


def _reap_unwaited() -> None:
    for pidfd in list(_unwaited):
        try:
            done = pidfd.wait(0) is not None
        except OSError:
            done = True
        if done:
            try:
                _unwaited.remove(pidfd)
            except ValueError:
                continue  # another thread reaped it first
            pidfd.close()


class Process:
    """A process, held by its pidfd (a real fd: :meth:`fileno`).

    Made by :func:`capspawn.spawn`, or from a pidfd received from elsewhere with
    :meth:`from_pidfd`. Waiting works for the process's parent and for any
    other holder of the pidfd. As a context manager it closes the pipes and
    waits on exit; when the block raised, it kills the process first.
    """

    args: Any
    stdin: Optional[IO[Any]]
    stdout: Optional[IO[Any]]
    stderr: Optional[IO[Any]]

    def __init__(
        self,
        pidfd: "_native.Pidfd",
        args: Any = None,
        stdin: Optional[IO[Any]] = None,
        stdout: Optional[IO[Any]] = None,
        stderr: Optional[IO[Any]] = None,
    ) -> None:
        self._pidfd = pidfd
        self.args = args
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._returncode: Optional[int] = None
        self._closed = False
        pid = pidfd.pid()
        self._pid: Optional[int] = pid if pid > 0 else None

    @classmethod
    def from_pidfd(cls, fd: int) -> "Process":
        """A Process for a pidfd (an int fd; this object then owns it and closes
        it). The fd may come from another process, e.g. over a UNIX socket
        (``socket.recv_fds``); :meth:`wait` then reads the exit status the
        kernel keeps with the pidfd. ``BadHandle`` if fd is not a pidfd."""
        return cls(_native.Pidfd(fd))

    # The handle.

    @property
    def pid(self) -> Optional[int]:
        """The process id, as this process's pid namespace sees it (None for a
        pidfd whose process was already reaped when it was handed over)."""
        return self._pid

    @property
    def pidfd(self) -> int:
        """The pidfd (close-on-exec). It stays this object's: dup it to keep it."""
        return self._handle().fileno()

    def fileno(self) -> int:
        """The pidfd: readable once the process has exited (selectors, poll)."""
        return self._handle().fileno()

    def _handle(self) -> "_native.Pidfd":
        if self._closed:
            raise ValueError("the Process is closed")
        return self._pidfd

    @property
    def returncode(self) -> Optional[int]:
        """The exit status, or ``-signal`` if a signal killed it; None until a
        :meth:`wait` or :meth:`poll` has seen it end."""
        return self._returncode

    # Waiting.

    def poll(self) -> Optional[int]:
        """The return code if the process has ended, else None (never blocks)."""
        if self._returncode is None:
            self._returncode = self._handle().wait(0)
        return self._returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits for the process to end; returns its exit status, or ``-signal``
        if a signal killed it (as ``subprocess`` does). The GIL is released
        while it waits, and Python signal handlers (Ctrl-C) still run.
        Raises :class:`capspawn.TimeoutExpired` (a ``subprocess.TimeoutExpired``)
        when ``timeout`` seconds pass first."""
        if self._returncode is not None:
            return self._returncode
        code = self._handle().wait(timeout)
        if code is None:
            raise TimeoutExpired(self.args or [], timeout if timeout is not None else 0)
        self._returncode = code
        return code

    async def wait_async(self) -> int:
        """Waits without blocking the event loop: the loop watches the pidfd
        (no thread, no SIGCHLD handler). Returns as :meth:`wait`. Cancel it
        (``asyncio.wait_for``) for a timeout."""
        if self._returncode is not None:
            return self._returncode
        loop = asyncio.get_running_loop()
        # An edge-triggered epoll of the pidfd, watched by the loop: it becomes
        # readable at the exit and again when the exit status is recorded (at
        # the reaping, which a non-parent holder must wait for), and not
        # continuously in between, as the pidfd itself would be.
        ep = select.epoll()
        try:
            ep.register(self._handle().fileno(), select.EPOLLIN | select.EPOLLHUP | select.EPOLLET)
            done: asyncio.Future[int] = loop.create_future()

            def check() -> None:
                ep.poll(0)
                if done.done():
                    return
                try:
                    code = self.poll()
                except BaseException as e:  # a failed probe ends the wait with it
                    done.set_exception(e)
                    return
                if code is not None:
                    done.set_result(code)

            loop.add_reader(ep.fileno(), check)
            try:
                check()
                return await done
            finally:
                loop.remove_reader(ep.fileno())
        finally:
            ep.close()

    # Signals.

    def send_signal(self, sig: int) -> None:
        """Sends ``sig`` through the pidfd (never to a recycled pid). Nothing
        happens once the process is known to have ended."""
        if self._returncode is None:
            self._handle().send_signal(int(sig))

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)

    # Pipes.

    def communicate(
        self, input: Optional[Union[bytes, str]] = None, timeout: Optional[float] = None
    ) -> Tuple[Any, Any]:
        """Writes ``input`` to stdin (then closes it), reads stdout and stderr to
        their ends, waits; returns ``(stdout_data, stderr_data)`` (None for a
        stream that is not a pipe). On timeout raises
        :class:`capspawn.TimeoutExpired` holding what was read; the process is
        left running (kill it, then call communicate() again to finish)."""
        return communicate(self, input, timeout)

    async def communicate_async(self, input: Optional[Union[bytes, str]] = None) -> Tuple[Any, Any]:
        """As :meth:`communicate`, through the running event loop."""
        return await communicate_async(self, input)

    # Lifetime.

    def close(self) -> None:
        """Closes the pipes and the pidfd. The process itself runs on; if it
        has not ended, the next spawn() reaps it once it does."""
        for f in (self.stdout, self.stderr):
            if f is not None:
                f.close()
        if self.stdin is not None:
            try:
                self.stdin.close()
            except BrokenPipeError:
                pass
        self._release(warn=False)

    def _release(
        self,
        warn: bool,
        _unwaited: List["_native.Pidfd"] = _unwaited,  # bound now: __del__ may run at shutdown
        _warn: Any = warnings.warn,
    ) -> None:
        if self._closed:
            return
        self._closed = True
        running = False
        if self._returncode is None:
            try:
                running = self._pidfd.wait(0) is None
            except OSError:
                running = False
        if running:
            if warn:
                _warn(
                    f"capspawn: process {self._pid} is still running", ResourceWarning, source=self
                )
            _unwaited.append(self._pidfd)
        else:
            self._pidfd.close()

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                self.kill()
            for f in (self.stdout, self.stderr):
                if f is not None:
                    f.close()
            if self.stdin is not None:
                try:
                    self.stdin.close()
                except BrokenPipeError:
                    pass
            self.wait()
        finally:
            self.close()

    def __del__(self) -> None:
        if hasattr(self, "_closed"):
            self._release(warn=True)

    def __repr__(self) -> str:
        return f"<capspawn.Process pid={self._pid} returncode={self._returncode}>"


__all__ = ["Process"]
