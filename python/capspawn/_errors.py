# SPDX-License-Identifier: Apache-2.0
"""capspawn's exceptions: one class per common status, all OSErrors."""

from __future__ import annotations

import enum
import errno as _errno
import subprocess
from typing import Any, Dict, Optional, Sequence, Tuple, Type, Union


class Status(enum.IntEnum):
    """A capspawn status: the names and values of Fuchsia's zx_status_t."""

    OK = 0
    INTERNAL = -1
    NOT_SUPPORTED = -2
    NO_RESOURCES = -3
    NO_MEMORY = -4
    INTERNAL_INTR_RETRY = -6
    INVALID_ARGS = -10
    BAD_HANDLE = -11
    WRONG_TYPE = -12
    BAD_SYSCALL = -13
    OUT_OF_RANGE = -14
    BUFFER_TOO_SMALL = -15
    BAD_STATE = -20
    TIMED_OUT = -21
    SHOULD_WAIT = -22
    CANCELED = -23
    PEER_CLOSED = -24
    NOT_FOUND = -25
    ALREADY_EXISTS = -26
    ALREADY_BOUND = -27
    UNAVAILABLE = -28
    ACCESS_DENIED = -30
    IO = -40
    IO_REFUSED = -41
    IO_DATA_INTEGRITY = -42
    IO_DATA_LOSS = -43
    IO_NOT_PRESENT = -44
    IO_OVERRUN = -45
    IO_MISSED_DEADLINE = -46
    IO_INVALID = -47
    BAD_PATH = -50
    NOT_DIR = -51
    NOT_FILE = -52
    FILE_BIG = -53
    NO_SPACE = -54
    NOT_EMPTY = -55
    STOP = -60
    NEXT = -61
    ASYNC = -62
    PROTOCOL_NOT_SUPPORTED = -70
    ADDRESS_UNREACHABLE = -71
    ADDRESS_IN_USE = -72
    NOT_CONNECTED = -73
    CONNECTION_REFUSED = -74
    CONNECTION_RESET = -75
    CONNECTION_ABORTED = -76

    @property
    def c_name(self) -> str:
        """The C name, e.g. ``CAPSPAWN_ERR_NOT_FOUND``."""
        return "CAPSPAWN_OK" if self is Status.OK else "CAPSPAWN_ERR_" + self.name


# The errno an OSError of each status carries (statuses with no natural errno
# carry None).
_ERRNO: Dict[int, int] = {
    Status.NOT_SUPPORTED: _errno.EOPNOTSUPP,
    Status.NO_RESOURCES: _errno.EMFILE,
    Status.NO_MEMORY: _errno.ENOMEM,
    Status.INVALID_ARGS: _errno.EINVAL,
    Status.BAD_HANDLE: _errno.EBADF,
    Status.OUT_OF_RANGE: _errno.ERANGE,
    Status.TIMED_OUT: _errno.ETIMEDOUT,
    Status.PEER_CLOSED: _errno.EPIPE,
    Status.NOT_FOUND: _errno.ENOENT,
    Status.ALREADY_EXISTS: _errno.EEXIST,
    Status.ACCESS_DENIED: _errno.EACCES,
    Status.IO: _errno.EIO,
    Status.IO_INVALID: _errno.ELOOP,
    Status.BAD_PATH: _errno.ENAMETOOLONG,
    Status.NOT_DIR: _errno.ENOTDIR,
    Status.NO_SPACE: _errno.ENOSPC,
    Status.NOT_EMPTY: _errno.ENOTEMPTY,
    Status.CONNECTION_REFUSED: _errno.ECONNREFUSED,
    Status.CONNECTION_RESET: _errno.ECONNRESET,
    Status.ADDRESS_IN_USE: _errno.EADDRINUSE,
}


class Error(OSError):
    """A capspawn failure: ``.status`` (a :class:`Status`: ``.name``, ``int()``),
    ``.message`` (names what failed), and ``.errno`` where the status has a
    natural one (``ENOENT`` for ``NOT_FOUND``...). An ``OSError``, so code that
    catches ``subprocess``'s failures catches these too."""

    status: Union[Status, int]
    message: str

    def __init__(self, status: int, message: str) -> None:
        code = _ERRNO.get(status)
        if code is not None:
            super().__init__(code, message)
        else:
            super().__init__(message)
        try:
            self.status = Status(status)
        except ValueError:
            self.status = status
        self.message = message

    @property
    def status_name(self) -> str:
        """``CAPSPAWN_ERR_…`` (``"(UNKNOWN)"`` for a value with no name)."""
        return self.status.c_name if isinstance(self.status, Status) else "(UNKNOWN)"

    def __str__(self) -> str:
        return f"{self.status_name}: {self.message}"

    def __repr__(self) -> str:
        return f"capspawn.{type(self).__name__}({self.status_name}, {self.message!r})"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_from_status, (int(self.status), self.message))


class NotFound(Error, FileNotFoundError):
    """``NOT_FOUND``: a missing program, directory, job..."""


class AccessDenied(Error, PermissionError):
    """``ACCESS_DENIED``."""


class InvalidArgs(Error, ValueError):
    """``INVALID_ARGS``: a value the library refuses (also a ``ValueError``)."""


class OutOfRange(Error, ValueError):
    """``OUT_OF_RANGE``: e.g. an fd target outside 0..1023."""


class BadHandle(Error):
    """``BAD_HANDLE``: an fd that is not open, or not what it should be."""


class WrongType(Error):
    """``WRONG_TYPE``: an fd of the wrong kind (a pipe as the executable...)."""


class NotSupported(Error):
    """``NOT_SUPPORTED``: what this host or build lacks (named in the message)."""


class BadState(Error):
    """``BAD_STATE``: e.g. a killed job, a process already started."""


class AlreadyExists(Error, FileExistsError):
    """``ALREADY_EXISTS``: a repeated fd target or handle id, a taken job name."""


class TimedOut(Error, TimeoutError):
    """``TIMED_OUT``."""


class PeerClosed(Error, ConnectionError):
    """``PEER_CLOSED``: the launcher is gone."""


class NoResources(Error):
    """``NO_RESOURCES``."""


class NoMemory(Error):
    """``NO_MEMORY``."""


class Internal(Error):
    """``INTERNAL``: e.g. a child that died before its exec."""


class IoError(Error):
    """``IO`` and ``IO_INVALID`` (e.g. ``#!`` nested too deep)."""


_CLASSES: Dict[int, Type[Error]] = {
    Status.NOT_FOUND: NotFound,
    Status.ACCESS_DENIED: AccessDenied,
    Status.INVALID_ARGS: InvalidArgs,
    Status.OUT_OF_RANGE: OutOfRange,
    Status.BAD_HANDLE: BadHandle,
    Status.WRONG_TYPE: WrongType,
    Status.NOT_SUPPORTED: NotSupported,
    Status.BAD_STATE: BadState,
    Status.ALREADY_EXISTS: AlreadyExists,
    Status.TIMED_OUT: TimedOut,
    Status.PEER_CLOSED: PeerClosed,
    Status.NO_RESOURCES: NoResources,
    Status.NO_MEMORY: NoMemory,
    Status.INTERNAL: Internal,
    Status.IO: IoError,
    Status.IO_INVALID: IoError,
}


def _from_status(status: int, message: str) -> Error:
    """The exception for a status (the native module raises these)."""
    return _CLASSES.get(status, Error)(status, message)


class TimeoutExpired(TimedOut, subprocess.TimeoutExpired):
    """A wait or ``run()`` ran out of time. Also ``subprocess.TimeoutExpired``
    (``.cmd``, ``.timeout``, ``.output``/``.stdout``, ``.stderr``) and
    ``TimeoutError``."""

    def __init__(
        self,
        cmd: Sequence[Any],
        timeout: float,
        output: Optional[Union[bytes, str]] = None,
        stderr: Optional[Union[bytes, str]] = None,
    ) -> None:
        TimedOut.__init__(
            self, Status.TIMED_OUT, f"{list(cmd)!r} still running after {timeout} seconds"
        )
        self.cmd = cmd
        self.timeout = timeout
        self.output = output
        self.stderr = stderr  # type: ignore[assignment]  # typeshed: bytes; with text=True, str

    def __reduce__(self) -> Tuple[Any, ...]:
        return (TimeoutExpired, (self.cmd, self.timeout, self.output, self.stderr))

    def __str__(self) -> str:
        return TimedOut.__str__(self)


CalledProcessError = subprocess.CalledProcessError
