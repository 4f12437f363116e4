# SPDX-License-Identifier: Apache-2.0
"""Launcher: a connection to capspawn-launcherd (fuchsia.process.Launcher)."""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple

from . import _native
from ._builder import BuiltProcess
from ._errors import NotSupported, Status
from ._process import Process
from ._request import _Request
from ._spawn import CLONE_ALL, _build, _check_pipe_args, _discard, _job_fd, _wrap_pipes

_ROOT_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass
class Resolved:
    """What the Resolver found for a name: fds this caller now owns."""

    executable: int
    loader: Optional[int]  # the package's lib/ directory, if it has one


# Launchers of this process: their locks are renewed in a forked child, which
# then reconnects (a connection speaks for the process that opened it).
_launchers: "weakref.WeakSet[Launcher]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for launcher in list(_launchers):
        launcher._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Launcher:
    """A connection to capspawn-launcherd on ``socket_path`` (default: the
    ``CAPSPAWN_LAUNCHER`` variable).

    :meth:`spawn` and :meth:`create_suspended` take :func:`capspawn.spawn`'s
    arguments (and ``cwd``), turned into the Launcher protocol's explicit
    arguments, environment, names and handles here; the daemon creates the
    process as this process's user. It runs ELF programs and ``#!resolve``
    scripts; ``#!/path`` scripts are ``NotSupported`` by the daemon (plain
    :func:`capspawn.spawn` with ``CAPSPAWN_LAUNCHER`` set follows them here
    first). Read-only entries, ``Tmpfs``, ``Proc`` and ``DevMinimal`` have no
    equivalent in the protocol (``NotSupported``).

    Safe from threads (one launch at a time per connection) and after
    ``os.fork()`` (the child reconnects).
    """

    def __init__(self, socket_path: Optional[str] = None) -> None:
        if socket_path is None:
            socket_path = os.environ.get("CAPSPAWN_LAUNCHER") or None
            if socket_path is None:
                raise NotSupported(
                    Status.NOT_SUPPORTED,
                    "no launcher socket given and CAPSPAWN_LAUNCHER is not set",
                )
        self.socket_path = socket_path
        self._lock = threading.Lock()
        self._closed = False
        # None: connect at the next call (after a failed request, or a fork).
        self._client: Optional[_native.LauncherClient] = _native.LauncherClient.connect(socket_path)
        self._pid = os.getpid()
        _launchers.add(self)

    def _connection(self) -> "_native.LauncherClient":
        if self._closed:
            raise ValueError("the Launcher is closed")
        if self._client is not None and self._pid != os.getpid():
            self._drop()
        if self._client is None:
            self._client = _native.LauncherClient.connect(self.socket_path)
            self._pid = os.getpid()
        return self._client

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def resolve(self, name: str) -> Resolved:
        """The Resolver: the executable (and loader) of ``name`` ("pkg" or "pkg/bin")."""
        with self._lock:
            exe, loader = self._connection().resolve(name)
        return Resolved(exe, loader if loader >= 0 else None)

    def spawn(self, argv: Sequence[Any], *, cwd: Any = None, **kwargs: Any) -> Process:
        """As :func:`capspawn.spawn`, through the daemon. ``cwd``: the working
        directory (a path or directory fd), with the whole filesystem only."""
        pidfd, args, files = self._launch(False, argv, cwd, kwargs)
        return Process(pidfd, args, *files)

    def create_suspended(
        self, argv: Sequence[Any], *, cwd: Any = None, **kwargs: Any
    ) -> BuiltProcess:
        """As :func:`capspawn.create_suspended`, through the daemon
        (CreateWithoutStarting). The process dies with the daemon."""
        data, args, files = self._launch(True, argv, cwd, kwargs)
        return BuiltProcess(data, args, files)

    def _launch(
        self, suspended: bool, argv: Sequence[Any], cwd: Any, kw: Dict[str, Any]
    ) -> Tuple[Any, List[Any], List[Optional[IO[Any]]]]:
        params: Dict[str, Any] = dict(
            executable=None,
            env=None,
            flags=CLONE_ALL,
            stdin=None,
            stdout=None,
            stderr=None,
            fds=None,
            transfer_fds=None,
            handles=None,
            namespace=None,
            clone_dirs=None,
            loader=None,
            job=None,
            name=None,
            text=False,
            encoding=None,
            errors=None,
            bufsize=-1,
        )
        unknown = set(kw) - set(params)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}")
        params.update(kw)
        req = _Request()
        try:
            args, environ, flags, path = _build(
                req,
                argv,
                params["executable"],
                params["env"],
                params["flags"],
                params["stdin"],
                params["stdout"],
                params["stderr"],
                params["fds"],
                params["transfer_fds"],
                params["handles"],
                params["namespace"],
                params["clone_dirs"],
                params["loader"],
                params["name"],
            )
            _check_pipe_args(params["encoding"], params["errors"], params["bufsize"])
            plan = _Plan()
            result: Any
            try:
                plan.fill(req, flags, params["job"], path, environ, cwd)
                with self._lock:
                    conn = self._connection()
                    try:
                        plan.send(conn, args)
                        if suspended:
                            result = conn.create_without_starting(*plan.info())
                        else:
                            result = conn.launch(*plan.info())
                    except BaseException:
                        # A request cut short leaves state in the daemon: the
                        # next call starts on a new connection.
                        self._drop()
                        raise
            finally:
                plan.close_unsent()
            try:
                files = _wrap_pipes(
                    req, params["text"], params["encoding"], params["errors"], params["bufsize"]
                )
            except BaseException:
                _discard(result, suspended)
                raise
        except BaseException:
            req.abandon()
            raise
        finally:
            req.close_after()
        return result, args, files

    def close(self) -> None:
        """Closes the connection."""
        self._closed = True
        self._drop()

    def __enter__(self) -> "Launcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Plan:
    """A spawn request as the Launcher protocol's explicit parts (DESIGN: the
    client turns flags and actions into arguments, environment, names and
    handles). Owns every fd until it is sent."""

    def __init__(self) -> None:
        self.names: List[Tuple[Any, int]] = []
        self.handles: List[Tuple[int, int]] = []
        self.environ: List[bytes] = []
        self.name: Optional[Any] = None
        self.default_loader = False
        self.executable = -1
        self.job = -1
        self.cwd = -1
        self._fds: List[int] = []  # every fd this plan holds and has not handed on

    def fill(
        self, req: _Request, flags: int, job: Any, path: Optional[bytes], environ: Any, cwd: Any
    ) -> None:
        self.default_loader = bool(flags & _native.DEFAULT_LDSVC)
        # Actions -> names and handles. The request's own fds are handed on.
        clone_ns = bool(flags & _native.CLONE_NAMESPACE) or any(
            code == _native.ACTION_CLONE_DIR and os.fsencode(a) == b"/"
            for code, a, _ in req.actions
        )
        if clone_ns:
            # Our whole filesystem: the root first (no other name overlaps it),
            # and our working directory.
            self.names.append(("/", self._open_dir("/")))
            if cwd is None:
                try:
                    self.cwd = self._open_dir(".")
                except FileNotFoundError:
                    pass  # removed: the child starts at /
        targets = set()
        for (code, a, b), where in zip(req.actions, req.where):
            if code == _native.ACTION_CLONE_FD:
                self._handle(_native.PA_FD | (b << 16), self._dup(a))
                targets.add(b)
            elif code == _native.ACTION_TRANSFER_FD:
                self._handle(_native.PA_FD | (b << 16), self._take(req, a))
                targets.add(b)
            elif code == _native.ACTION_ADD_HANDLE:
                self._handle(a, self._take(req, b))
            elif code == _native.ACTION_ADD_NS_ENTRY:
                self._name(a, self._take(req, b))
            elif code == _native.ACTION_CLONE_DIR:
                if clone_ns:
                    continue
                try:
                    fd = self._open_dir(a)
                except FileNotFoundError:
                    continue  # a missing directory gives nothing, as in-process
                self._name(a, fd)
            elif code == _native.ACTION_SET_NAME:
                self.name = a
            else:
                raise NotSupported(
                    Status.NOT_SUPPORTED,
                    f"{where}: the Launcher protocol has no read-only, tmpfs, proc or dev entries",
                )
        if flags & _native.CLONE_STDIO:
            for t in (0, 1, 2):
                if t not in targets and _is_open(t):
                    self._handle(_native.PA_FD | (t << 16), self._dup(t))
        if environ is None and flags & _native.CLONE_ENVIRON:
            environ = os.environ
        for k, v in (environ or {}).items():
            key = os.fsencode(k)
            if not key or b"=" in key:
                raise ValueError(f"env key {k!r} is not a variable name (empty, or holds '=')")
            self.environ.append(key + b"=" + os.fsencode(v))
        job_fd = _job_fd(job)
        if job_fd >= 0:
            self.job = self._dup(job_fd)
            if flags & _native.CLONE_JOB and not any(
                h & 0xFF == _native.PA_JOB_DEFAULT for h, _ in self.handles
            ):
                self._handle(_native.PA_JOB_DEFAULT, self._dup(job_fd))
        if path is not None:
            self.executable = self._own(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
        else:
            self.executable = self._take(req, req.executable_fd)
            req.executable_fd = -1
        if cwd is not None:
            self.cwd = self._dup(cwd) if isinstance(cwd, int) else self._open_dir(cwd)

    def _name(self, path: Any, fd: int) -> None:
        """The in-process rule, which the daemon does not apply (it refuses
        overlapping names): a duplicate keeps the first, a nested one is dropped."""
        p = os.fsencode(path)
        for name, _ in self.names:
            q = os.fsencode(name)
            if q == b"/":
                continue  # the whole filesystem, which entries are mounted on
            if p == q or p.startswith(q + b"/") or q.startswith(p + b"/"):
                self._fds.remove(fd)
                os.close(fd)
                return
        self.names.append((path, fd))

    def _own(self, fd: int) -> int:
        self._fds.append(fd)
        return fd

    def _dup(self, fd: int) -> int:
        return self._own(os.dup(fd))

    def _take(self, req: _Request, fd: int) -> int:
        if fd in req.owned:
            req.owned.remove(fd)
        elif fd in req.transferred_ints:
            req.transferred_ints.remove(fd)
        return self._own(fd)

    def _open_dir(self, path: Any) -> int:
        return self._own(os.open(path, _ROOT_FLAGS))

    def _handle(self, hid: int, fd: int) -> None:
        self.handles.append((hid, fd))

    def send(self, conn: "_native.LauncherClient", args: List[Any]) -> None:
        conn.add_args(args)
        if self.environ:
            conn.add_environs(self.environ)
        names, self.names = self.names, []
        self._forget(fd for _, fd in names)
        conn.add_names(names)
        handles, self.handles = self.handles, []
        self._forget(fd for _, fd in handles)
        conn.add_handles(handles)

    def info(self) -> Tuple[int, int, Any, bool, int]:
        out = (self.executable, self.job, self.name, self.default_loader, self.cwd)
        self._forget([self.executable, self.job, self.cwd])
        self.executable = self.job = self.cwd = -1
        return out

    def _forget(self, fds: Any) -> None:
        for fd in fds:
            if fd in self._fds:
                self._fds.remove(fd)

    def close_unsent(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
