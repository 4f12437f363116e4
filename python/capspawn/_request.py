# SPDX-License-Identifier: Apache-2.0
"""One spawn request: the actions of the library call being built, the fds
it opened on the way (closed if the call is never made), and the helpers that
turn Python objects into fds and programs."""

from __future__ import annotations

import os
import stat
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _native
from ._errors import AccessDenied, BadHandle, Error, NotFound, Status, _from_status

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def _type_name(x: Any) -> str:
    return type(x).__name__


def handle_id(handle: Union[str, int, Tuple[int, int]]) -> int:
    """The numeric id of a typed startup handle: a name ``"user0.1"``, a
    ``(type, arg)`` pair such as ``(capspawn.PA_USER0, 1)``, or an int id."""
    if isinstance(handle, bool):
        raise TypeError("a handle id must be a name, a (type, arg) pair or an int, not bool")
    if isinstance(handle, int):
        return handle
    if isinstance(handle, str):
        parsed = _native.parse_startup_handle_name(handle)
        if parsed is None:
            raise ValueError(
                f"{handle!r} is not a handle name (<type>.<arg>, e.g. 'user0.1', "
                "'directory_request.0', '0xf3.2')"
            )
        return int(parsed)
    if isinstance(handle, tuple) and len(handle) == 2:
        kind, arg = handle
        if not (isinstance(kind, int) and isinstance(arg, int)):
            raise TypeError("a (type, arg) handle id holds two ints")
        if not 0 <= kind <= 0xFF or not 0 <= arg <= 0xFFFF:
            raise ValueError(f"handle type {kind} must be 0..255 and arg {arg} 0..65535")
        return kind | (arg << 16)
    raise TypeError(
        f"a handle id must be a name, a (type, arg) pair or an int, not {_type_name(handle)}"
    )


class _Request:
    """The actions of one spawn, and the fds it opened on the way.

    ``owned``: fds this call opened or dup'ed for actions that consume them;
    the library takes them at the call, and they are closed here if the call
    is never made. ``after``: objects whose fds were handed as transfers, closed
    once the call is made (or not). ``parent``: our ends of pipes."""

    def __init__(self) -> None:
        self.actions: List[Tuple[int, Any, Any]] = []
        self.where: List[str] = []  # what each action came from, for messages
        self.owned: List[int] = []
        self.transferred_ints: List[int] = []
        self.after: List[Any] = []
        self.parent: Dict[int, int] = {}  # stdio target -> our end of its pipe
        self.executable_fd = -1
        self.called = False

    def add(self, where: str, code: int, a: Any, b: Any, at: Optional[int] = None) -> None:
        at = len(self.actions) if at is None else at
        self.actions.insert(at, (code, a, b))
        self.where.insert(at, where)

    def fd_of(self, obj: Any, where: str) -> int:
        """The fd of an int or of an object with fileno()."""
        if isinstance(obj, bool):
            raise TypeError(f"{where} must be an fd or have fileno(), not bool")
        if isinstance(obj, int):
            if obj < 0:
                raise BadHandle(Status.BAD_HANDLE, f"{where}: fd {obj} is not an open fd")
            return obj
        fileno = getattr(obj, "fileno", None)
        if fileno is None:
            raise TypeError(f"{where} must be an fd (int) or have fileno(), not {_type_name(obj)}")
        try:
            fd = fileno()
        except ValueError as e:  # a closed file object
            raise BadHandle(Status.BAD_HANDLE, f"{where}: {e}") from None
        if not isinstance(fd, int) or fd < 0:
            raise BadHandle(Status.BAD_HANDLE, f"{where}: fileno() gave {fd!r}, not an open fd")
        return fd

    def dup(self, obj: Any, where: str) -> int:
        """A close-on-exec copy of obj's fd, owned by the request."""
        fd = self.fd_of(obj, where)
        try:
            new = os.dup(fd)  # non-inheritable, as every fd Python makes
        except OSError as e:
            raise BadHandle(
                Status.BAD_HANDLE, f"{where}: fd {fd} is not an open fd ({e.strerror})"
            ) from None
        self.owned.append(new)
        return new

    def open_dir(self, path: Any, where: str) -> int:
        try:
            fd = os.open(path, _DIR_FLAGS)
        except TypeError:
            raise TypeError(
                f"{where} must be a path, an fd or a file object, not {_type_name(path)}"
            ) from None
        except OSError as e:
            raise _from_status(
                _status_of_errno(e.errno), f"{where}: open {os.fsdecode(path)}: {e.strerror}"
            ) from None
        self.owned.append(fd)
        return fd

    def open_devnull(self) -> int:
        fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self.owned.append(fd)
        return fd

    def pipe(self, target: int) -> int:
        """A pipe for stdio `target`: returns the child's end (owned); keeps ours."""
        r, w = os.pipe()
        child, ours = (r, w) if target == 0 else (w, r)
        self.owned.append(child)
        self.parent[target] = ours
        return child

    def abandon(self) -> None:
        """The call was never made: close what it would have consumed."""
        if not self.called:
            for fd in self.owned + self.transferred_ints:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for fd in self.parent.values():
            os.close(fd)
        self.parent.clear()

    def close_after(self) -> None:
        for obj in self.after:
            try:
                obj.close()
            except OSError:
                pass

    def explain(self, e: Error) -> Error:
        """e, with each "action N" of its message followed by where it came from."""
        import re

        def name(m: "re.Match[str]") -> str:
            i = int(m.group(1))
            return f"{m.group(0)} ({self.where[i]})" if 0 <= i < len(self.where) else m.group(0)

        message = re.sub(r"\baction (\d+)\b", name, e.message)
        return e if message == e.message else _from_status(int(e.status), message)


def _status_of_errno(err: Optional[int]) -> int:
    import errno

    return {
        errno.ENOENT: Status.NOT_FOUND,
        errno.EACCES: Status.ACCESS_DENIED,
        errno.EPERM: Status.ACCESS_DENIED,
        errno.ENOTDIR: Status.BAD_HANDLE,
        errno.EMFILE: Status.NO_RESOURCES,
        errno.ENFILE: Status.NO_RESOURCES,
        errno.ENOMEM: Status.NO_MEMORY,
        errno.ENAMETOOLONG: Status.BAD_PATH,
        errno.ELOOP: Status.BAD_PATH,
    }.get(err or 0, Status.IO)


def _find_program(name: bytes, env: Optional[Mapping[str, str]]) -> bytes:
    """argv[0] without a '/' searched in PATH (env's PATH when env is given, as
    subprocess does)."""
    denied = None
    dirs = os.get_exec_path(env)
    for d in dirs:
        path = os.path.join(os.fsencode(d or "."), name)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if os.access(path, os.X_OK):
            return path
        denied = path
    if denied is not None:
        raise AccessDenied(
            Status.ACCESS_DENIED, f"{os.fsdecode(denied)}: not executable (found in PATH)"
        )
    raise NotFound(
        Status.NOT_FOUND, f"{os.fsdecode(name)}: no such program in PATH ({os.pathsep.join(dirs)})"
    )
