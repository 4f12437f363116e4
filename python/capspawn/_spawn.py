# SPDX-License-Identifier: Apache-2.0
"""spawn() and create_suspended(): Python arguments turned into one call of
the library's spawn (capspawn_spawn_etc / _vmo / create_without_starting)."""

from __future__ import annotations

import codecs
import io
import os
import signal
import subprocess
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _native
from ._errors import Error
from ._namespace import DevMinimal, Proc, ReadOnly, Tmpfs
from ._process import Process, _reap_unwaited, _unwaited
from ._request import _find_program, _Request, _type_name, handle_id
from ._types import Env, FdLike, NamespaceSource, Stdio, StrPath

if TYPE_CHECKING:
    from ._builder import BuiltProcess

PIPE = subprocess.PIPE
STDOUT = subprocess.STDOUT
DEVNULL = subprocess.DEVNULL

CLONE_ALL = _native.CLONE_ALL
_CLONE_STDIO = _native.CLONE_STDIO
_CLONE_ENVIRON = _native.CLONE_ENVIRON
_A_CLONE_FD = _native.ACTION_CLONE_FD
_A_TRANSFER_FD = _native.ACTION_TRANSFER_FD
_A_NS = _native.ACTION_ADD_NS_ENTRY
_A_NS_RO = _native.ACTION_ADD_NS_ENTRY_READ_ONLY
_A_HANDLE = _native.ACTION_ADD_HANDLE
_A_NAME = _native.ACTION_SET_NAME
_A_CLONE_DIR = _native.ACTION_CLONE_DIR
_A_TMPFS = _native.ACTION_ADD_NS_TMPFS
_A_PROC = _native.ACTION_ADD_NS_PROC
_A_DEV = _native.ACTION_ADD_NS_DEV_MINIMAL
_PA_LDSVC_LOADER = _native.PA_LDSVC_LOADER


def _stdio(req: _Request, target: int, value: Any, flags: int) -> None:
    where = ("stdin", "stdout", "stderr")[target]
    if value is None:
        return
    if isinstance(value, int) and value == PIPE:
        req.add(where, _A_TRANSFER_FD, req.pipe(target), target)
    elif isinstance(value, int) and value == DEVNULL:
        req.add(where, _A_TRANSFER_FD, req.open_devnull(), target)
    elif isinstance(value, int) and value == STDOUT:
        if target != 2:
            raise ValueError(f"{where}=STDOUT: only stderr can be sent to stdout")
        # The same object as the child's stdout, cloned before stdout's own
        # action (a transfer consumes the fd, and a later clone of it is
        # INVALID_ARGS, as fdio's).
        for i, (code, a, b) in enumerate(req.actions):
            if code in (_A_CLONE_FD, _A_TRANSFER_FD) and b == 1:
                req.add("stderr=STDOUT", _A_CLONE_FD, a, 2, at=i)
                return
        if flags & _CLONE_STDIO and _is_open(1):
            req.add("stderr=STDOUT", _A_CLONE_FD, 1, 2)
        else:
            req.add("stderr=STDOUT", _A_TRANSFER_FD, req.open_devnull(), 2)
    else:
        req.add(where, _A_CLONE_FD, req.fd_of(value, where), target)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _namespace_entry(req: _Request, path: Any, source: Any) -> None:
    where = f"namespace[{path!r}]"
    if isinstance(path, bytes):
        prefix: Any = path
    elif isinstance(path, str) or hasattr(path, "__fspath__"):
        prefix = os.fspath(path)
    else:
        raise TypeError(f"namespace keys are paths (str), not {_type_name(path)}")
    if isinstance(source, Tmpfs):
        req.add(where, _A_TMPFS, prefix, None)
        return
    if isinstance(source, Proc):
        req.add(where, _A_PROC, prefix, None)
        return
    if isinstance(source, DevMinimal):
        req.add(where, _A_DEV, prefix, None)
        return
    code = _A_NS
    if isinstance(source, ReadOnly):
        code, source = _A_NS_RO, source.source
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        fd = req.open_dir(source, where)
    else:
        fd = req.dup(source, where)
    req.add(where, code, prefix, fd)


def _build(
    req: _Request,
    argv: Sequence[Any],
    executable: Any,
    env: Any,
    flags: int,
    stdin: Any,
    stdout: Any,
    stderr: Any,
    fds: Optional[Mapping[int, Any]],
    transfer_fds: Optional[Mapping[int, Any]],
    handles: Optional[Mapping[Any, Any]],
    namespace: Optional[Mapping[Any, Any]],
    clone_dirs: Optional[Iterable[Any]],
    loader: Any,
    name: Optional[Union[str, bytes]],
) -> Tuple[List[Any], Optional[Dict[Any, Any]], int, Optional[bytes]]:
    """Fills req; returns (argv, env, flags, path)."""
    # transfer_fds first: their ints are consumed whatever fails below.
    transfers: List[Tuple[int, Any]] = []
    if transfer_fds is not None:
        if not isinstance(transfer_fds, Mapping):
            raise TypeError(
                f"transfer_fds must be a mapping {{target: fd}}, not {_type_name(transfer_fds)}"
            )
        for target, source in transfer_fds.items():
            if isinstance(source, int) and not isinstance(source, bool):
                req.transferred_ints.append(source)
            transfers.append((target, source))
    if isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence):
        raise TypeError(
            f"argv must be a sequence of arguments (a list), not {_type_name(argv)}"
            + (f"; did you mean [{argv!r}]?" if isinstance(argv, (str, bytes)) else "")
        )
    args = list(argv)
    if not isinstance(flags, int) or isinstance(flags, bool):
        raise TypeError(f"flags must be an int (capspawn.CLONE_*), not {_type_name(flags)}")

    environ: Optional[Dict[Any, Any]]
    if env is None:
        environ = None
    elif isinstance(env, str):
        if env != "inherit":
            raise ValueError(f"env must be None, a mapping or 'inherit', not {env!r}")
        environ, flags = None, flags | _CLONE_ENVIRON
    elif isinstance(env, Mapping):
        environ = dict(env)
    else:
        raise TypeError(f"env must be None, a mapping or 'inherit', not {_type_name(env)}")

    path: Optional[bytes] = None
    if executable is None:
        if not args:
            raise ValueError("argv is empty and no executable was given")
        path = os.fsencode(args[0])
    elif isinstance(executable, (str, bytes)) or hasattr(executable, "__fspath__"):
        path = os.fsencode(executable)
    else:
        req.executable_fd = req.dup(executable, "executable")
    if path is not None and b"/" not in path:
        path = _find_program(path, environ if env is not None and environ is not None else None)

    _stdio(req, 0, stdin, flags)
    _stdio(req, 1, stdout, flags)
    _stdio(req, 2, stderr, flags)
    if fds is not None:
        if not isinstance(fds, Mapping):
            raise TypeError(f"fds must be a mapping {{target: fd}}, not {_type_name(fds)}")
        for target, source in fds.items():
            where = f"fds[{target!r}]"
            if not isinstance(target, int) or isinstance(target, bool):
                raise TypeError(f"{where}: the target must be an int, not {_type_name(target)}")
            req.add(where, _A_CLONE_FD, req.fd_of(source, where), target)
    for target, source in transfers:
        where = f"transfer_fds[{target!r}]"
        if not isinstance(target, int) or isinstance(target, bool):
            raise TypeError(f"{where}: the target must be an int, not {_type_name(target)}")
        if isinstance(source, int) and not isinstance(source, bool):
            req.add(where, _A_TRANSFER_FD, source, target)
        else:
            req.add(where, _A_TRANSFER_FD, req.dup(source, where), target)
            req.after.append(source)
    if handles is not None:
        if not isinstance(handles, Mapping):
            raise TypeError(f"handles must be a mapping {{id: fd}}, not {_type_name(handles)}")
        for hid, source in handles.items():
            where = f"handles[{hid!r}]"
            req.add(where, _A_HANDLE, handle_id(hid), req.dup(source, where))
    if namespace is not None:
        if not isinstance(namespace, Mapping):
            raise TypeError(
                f"namespace must be a mapping {{path: directory}}, not {_type_name(namespace)}"
            )
        for p, source in namespace.items():
            _namespace_entry(req, p, source)
    if clone_dirs is not None:
        if isinstance(clone_dirs, (str, bytes)):
            raise TypeError("clone_dirs must be a list of paths, not one path")
        for d in clone_dirs:
            req.add(f"clone_dirs {d!r}", _A_CLONE_DIR, d, None)
    if loader is not None:
        if isinstance(loader, (str, bytes)) or hasattr(loader, "__fspath__"):
            fd = req.open_dir(loader, "loader")
        else:
            fd = req.dup(loader, "loader")
        req.add("loader", _A_HANDLE, _PA_LDSVC_LOADER, fd)
    if name is not None:
        req.add("name", _A_NAME, name, None)
    return args, environ, flags, path


def _job_fd(job: Any) -> int:
    if job is None:
        return -1
    if isinstance(job, bool):
        raise TypeError("job must be a capspawn.Job or a job fd, not bool")
    if isinstance(job, int):
        return job
    fileno = getattr(job, "fileno", None)
    if fileno is None:
        raise TypeError(f"job must be a capspawn.Job or a job fd, not {_type_name(job)}")
    return int(fileno())


def _check_pipe_args(encoding: Optional[str], errors: Optional[str], bufsize: int) -> None:
    """What wrapping the pipes could refuse, refused before the process exists."""
    if not isinstance(bufsize, int) or isinstance(bufsize, bool):
        raise TypeError(f"bufsize must be an int, not {_type_name(bufsize)}")
    if encoding is not None:
        codecs.lookup(encoding)
    if errors is not None:
        codecs.lookup_error(errors)


def _wrap_pipes(
    req: _Request, text: bool, encoding: Optional[str], errors: Optional[str], bufsize: int
) -> List[Optional[IO[Any]]]:
    files: List[Optional[IO[Any]]] = [None, None, None]
    text = text or encoding is not None or errors is not None
    line_buffering = text and bufsize == 1
    if line_buffering:
        bufsize = -1  # the binary layer below a line-buffered text stream
    try:
        for target, fd in list(req.parent.items()):
            mode = "wb" if target == 0 else "rb"
            f: IO[Any] = open(fd, mode, buffering=bufsize)
            del req.parent[target]  # f owns it
            if text:
                f = io.TextIOWrapper(
                    f,
                    encoding=encoding,
                    errors=errors,
                    write_through=target == 0,
                    line_buffering=target == 0 and line_buffering,
                )
            files[target] = f
    except BaseException:
        for opened in files:
            if opened is not None:
                opened.close()
        raise
    return files


def _discard(result: Any, suspended: bool) -> None:
    """Kills and reaps a process whose spawn() is failing after all."""
    pidfd = result["process"] if suspended else result
    pidfd.send_signal(signal.SIGKILL)
    pidfd.wait(None)
    pidfd.close()
    if suspended:
        os.close(result["root_vmar"])


def _call(
    suspended: bool, kw: Dict[str, Any]
) -> Tuple[Any, List[Any], _Request, List[Optional[IO[Any]]]]:
    if _unwaited:
        _reap_unwaited()
    req = _Request()
    try:
        args, environ, flags, path = _build(
            req,
            kw["argv"],
            kw["executable"],
            kw["env"],
            kw["flags"],
            kw["stdin"],
            kw["stdout"],
            kw["stderr"],
            kw["fds"],
            kw["transfer_fds"],
            kw["handles"],
            kw["namespace"],
            kw["clone_dirs"],
            kw["loader"],
            kw["name"],
        )
        job = _job_fd(kw["job"])
        _check_pipe_args(kw["encoding"], kw["errors"], kw["bufsize"])
        req.called = True
        try:
            result = _native.spawn(
                job, flags, path, req.executable_fd, args, environ, req.actions, suspended
            )
        except Error as e:
            raise req.explain(e) from None
        try:
            files = _wrap_pipes(req, kw["text"], kw["encoding"], kw["errors"], kw["bufsize"])
        except BaseException:
            _discard(result, suspended)
            raise
    except BaseException:
        req.abandon()
        raise
    finally:
        req.close_after()
    return result, args, req, files


def spawn(
    argv: Sequence[StrPath],
    *,
    executable: Optional[Union[StrPath, FdLike]] = None,
    env: Env = None,
    flags: int = CLONE_ALL,
    stdin: Stdio = None,
    stdout: Stdio = None,
    stderr: Stdio = None,
    fds: Optional[Mapping[int, FdLike]] = None,
    transfer_fds: Optional[Mapping[int, FdLike]] = None,
    handles: Optional[Mapping[Any, FdLike]] = None,  # keys: HandleId
    namespace: Optional[Mapping[Any, NamespaceSource]] = None,  # keys: StrPath
    clone_dirs: Optional[Iterable[StrPath]] = None,
    loader: Optional[Union[StrPath, FdLike]] = None,
    job: Optional[FdLike] = None,
    name: Optional[Union[str, bytes]] = None,
    text: bool = False,
    encoding: Optional[str] = None,
    errors: Optional[str] = None,
    bufsize: int = -1,
) -> Process:
    """Starts a program that gets exactly what it is handed; returns its :class:`Process`.

    What the child receives (everything else is closed or absent; see
    docs/python.md and docs/spawn.md):

    argv
        The arguments, argv[0] included (str, bytes or os.PathLike each). When
        ``executable`` is not given, argv[0] is the program: a path, or a name
        searched in PATH (``env``'s PATH when ``env`` is a mapping, else ours).
    executable
        The program instead of argv[0]: a path (a name is searched in PATH), or
        an open file (fd or file object, e.g. a memfd; we keep ours).
    env
        None: none, or ours when ``flags`` has CLONE_ENVIRON (CLONE_ALL does).
        A mapping: exactly those variables (even when empty). ``"inherit"``:
        this process's environment, whatever the flags.
    flags
        What the child shares with us: ``CLONE_ALL`` (default: our stdio, our
        environment, our filesystem, our job) or an OR of ``CLONE_JOB``,
        ``DEFAULT_LDSVC``, ``CLONE_NAMESPACE``, ``CLONE_STDIO``,
        ``CLONE_ENVIRON``, ``CLONE_UTC_CLOCK``; ``0`` shares nothing. Without
        ``CLONE_NAMESPACE`` the child sees only ``namespace``, ``clone_dirs``
        and its loader's directories.
    stdin, stdout, stderr
        None: ours with CLONE_STDIO, else /dev/null. ``PIPE``: a pipe, our end
        in ``Process.stdin``/``.stdout``/``.stderr``. ``DEVNULL``. An fd or a
        file object (cloned, we keep ours). ``stderr=STDOUT``: the same as stdout.
    fds
        ``{target: fd_or_file}``: our fd cloned at fd ``target`` (0..1023) in
        the child; we keep ours.
    transfer_fds
        ``{target: fd_or_file}``: moved to the child: an int fd is closed in
        this process by the call, a file object is closed after it, whether
        the spawn succeeds or fails.
    handles
        ``{id: fd_or_socket}``: typed startup handles. ``id``: a name such as
        ``"user0.1"`` or ``"directory_request.0"``, a ``(type, arg)`` pair, or
        an int. They land at fds 3.. described by ``LISTEN_FDS``/
        ``LISTEN_FDNAMES`` (the child finds them with
        :func:`capspawn.startup.take_handle` or ``sd_listen_fds_with_names()``);
        ``"fd.N"`` lands at fd N. We keep ours (a copy is handed).
    namespace
        ``{path: directory}``: mounted at ``path`` in the child's private mount
        namespace. A directory is a path, a directory fd or file object, or
        ``ReadOnly(...)`` of one; or ``Tmpfs()``, ``Proc()``, ``DevMinimal()``.
    clone_dirs
        Paths of our filesystem mounted at the same place (``"/"`` = all of it).
    loader
        The library directory (path or fd) a dynamic program loads its
        interpreter and libraries from in a private namespace.
    job
        A :class:`capspawn.Job` (or job fd): the child starts in it. None: ours.
    name
        The process name (``/proc/PID/comm``, 15 bytes).
    text, encoding, errors, bufsize
        For the pipes, as ``subprocess.Popen``.

    Raises :class:`capspawn.Error` subclasses with the library's status and a
    message naming what was wrong (``NotFound``, also a ``FileNotFoundError``,
    for a missing program; ``BadHandle`` for a closed fd; ``InvalidArgs``...),
    ``TypeError``/``ValueError`` for arguments of the wrong type or form.
    Nothing is left behind by a failure: no process, no fd (transferred fds
    are consumed). The GIL is released during the call.
    """
    pidfd, args, _, files = _call(False, locals())
    return Process(pidfd, args, *files)


def create_suspended(
    argv: Sequence[StrPath],
    *,
    executable: Optional[Union[StrPath, FdLike]] = None,
    env: Env = None,
    flags: int = CLONE_ALL,
    stdin: Stdio = None,
    stdout: Stdio = None,
    stderr: Stdio = None,
    fds: Optional[Mapping[int, FdLike]] = None,
    transfer_fds: Optional[Mapping[int, FdLike]] = None,
    handles: Optional[Mapping[Any, FdLike]] = None,  # keys: HandleId
    namespace: Optional[Mapping[Any, NamespaceSource]] = None,  # keys: StrPath
    clone_dirs: Optional[Iterable[StrPath]] = None,
    loader: Optional[Union[StrPath, FdLike]] = None,
    job: Optional[FdLike] = None,
    name: Optional[Union[str, bytes]] = None,
    text: bool = False,
    encoding: Optional[str] = None,
    errors: Optional[str] = None,
    bufsize: int = -1,
) -> "BuiltProcess":
    """As :func:`spawn` (the same arguments), but the process is left stopped
    before its first instruction, having exec'd: look at it (``entry``,
    ``stack``, ``base``, ``vdso_base``, ``root_vmar``; attach a debugger to its
    pid), then :meth:`BuiltProcess.start` it. A BuiltProcess closed, left by its
    ``with`` block or dropped before start() is killed and reaped."""
    from ._builder import BuiltProcess

    data, args, _, files = _call(True, locals())
    return BuiltProcess(data, args, files)
