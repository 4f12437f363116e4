# SPDX-License-Identifier: Apache-2.0
"""BuiltProcess: a process created stopped before its first instruction."""

from __future__ import annotations

import os
import signal
import warnings
from typing import IO, Any, Dict, List, Optional

from ._process import Process


class BuiltProcess:
    """A process that exists, has exec'd its program, and waits (stopped)
    before its first instruction. Every number is read from the real process.

    ``process`` (a :class:`Process`), ``pid``, ``thread`` (its only thread's
    tid), ``entry`` (the first instruction: the program's entry, or the dynamic
    linker's), ``stack`` (the initial stack pointer), ``base`` (the dynamic
    linker's load address, or the program's), ``vdso_base`` (0: none),
    ``root_vmar`` (an fd of its ``/proc/PID/mem``, read-write; this object
    closes it). :meth:`start` lets it run. Closed, or left by a ``with`` block,
    or dropped without being started, it is killed and reaped.
    """

    def __init__(self, data: Dict[str, Any], args: Any, files: List[Optional[IO[Any]]]) -> None:
        self.process = Process(data["process"], args, *files)
        self._root_vmar: int = data["root_vmar"]
        self.thread: int = data["thread"]
        self.entry: int = data["entry"]
        self.stack: int = data["stack"]
        self.base: int = data["base"]
        self.vdso_base: int = data["vdso_base"]
        self.started = False

    @classmethod
    def _from_start_data(cls, data: Dict[str, Any], args: Any) -> "BuiltProcess":
        return cls(data, args, [None, None, None])

    @property
    def pid(self) -> Optional[int]:
        """Its process id (attach a debugger here: ``gdb -p PID``)."""
        return self.process.pid

    @property
    def root_vmar(self) -> int:
        """An fd of ``/proc/PID/mem`` (read-write): ``os.pread(b.root_vmar, n, addr)``."""
        if self._root_vmar < 0:
            raise ValueError("the BuiltProcess is closed")
        return self._root_vmar

    def start(self) -> None:
        """Lets it run (SIGCONT through its pidfd). ``BadState`` when it is not
        stopped (already started, or exited)."""
        self.process._handle().start()
        self.started = True

    def close(self) -> None:
        """Closes ``root_vmar``; kills and reaps the process if it was never started."""
        if self._root_vmar >= 0:
            os.close(self._root_vmar)
            self._root_vmar = -1
        if not self.started:
            self.started = True  # nothing left to kill on a second close
            try:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait()
            finally:
                self.process.close()

    def __enter__(self) -> "BuiltProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_root_vmar", -1) < 0 and getattr(self, "started", True):
            return
        if not self.started:
            warnings.warn(
                f"capspawn: suspended process {self.pid} dropped without start(): killed",
                ResourceWarning,
                source=self,
            )
        self.close()

    def __repr__(self) -> str:
        return (
            f"<capspawn.BuiltProcess pid={self.pid} entry={self.entry:#x} stack={self.stack:#x} "
            f"base={self.base:#x} vdso_base={self.vdso_base:#x} started={self.started}>"
        )
