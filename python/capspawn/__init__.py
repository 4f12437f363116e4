# SPDX-License-Identifier: Apache-2.0
"""capspawn: start programs that get exactly what they are handed.

Fuchsia's capability-based process creation on Linux: a new process receives
its arguments, an environment, fds with typed ids, directories mounted into a
private namespace, a job (a cgroup tree), and nothing ambient; it is held by a
pidfd, never by a reusable pid. See docs/python.md.

    import capspawn
    capspawn.run(["ls", "-l"], env={}, check=True)
    with capspawn.Job() as job:                       # killed and removed on exit
        p = job.spawn(["server"], handles={"user0.1": sock})
"""

from . import _native, startup
from ._builder import BuiltProcess
from ._errors import (
    AccessDenied,
    AlreadyExists,
    BadHandle,
    BadState,
    CalledProcessError,
    Error,
    Internal,
    InvalidArgs,
    IoError,
    NoMemory,
    NoResources,
    NotFound,
    NotSupported,
    OutOfRange,
    PeerClosed,
    Status,
    TimedOut,
    TimeoutExpired,
    WrongType,
)
from ._job import Job, JobInfo
from ._launcher import Launcher, Resolved
from ._namespace import DevMinimal, Proc, ReadOnly, Tmpfs
from ._process import Process
from ._run import CompletedProcess, run, run_async
from ._request import handle_id
from ._spawn import DEVNULL, PIPE, STDOUT, create_suspended, spawn

# Shown as capspawn.X (in reprs, tracebacks and help()), where users find them.
for _cls in (
    AccessDenied,
    AlreadyExists,
    BadHandle,
    BadState,
    BuiltProcess,
    DevMinimal,
    Error,
    Internal,
    InvalidArgs,
    IoError,
    Job,
    JobInfo,
    Launcher,
    NoMemory,
    NoResources,
    NotFound,
    NotSupported,
    OutOfRange,
    PeerClosed,
    Proc,
    Process,
    ReadOnly,
    Resolved,
    Status,
    TimedOut,
    TimeoutExpired,
    Tmpfs,
    WrongType,
):
    _cls.__module__ = "capspawn"
for _fn in (create_suspended, handle_id, run, run_async, spawn):
    _fn.__module__ = "capspawn"
del _cls, _fn

CLONE_JOB: int = _native.CLONE_JOB
DEFAULT_LDSVC: int = _native.DEFAULT_LDSVC
CLONE_NAMESPACE: int = _native.CLONE_NAMESPACE
CLONE_STDIO: int = _native.CLONE_STDIO
CLONE_ENVIRON: int = _native.CLONE_ENVIRON
CLONE_UTC_CLOCK: int = _native.CLONE_UTC_CLOCK
CLONE_ALL: int = _native.CLONE_ALL

# Handle types (Fuchsia's processargs.h values), for handle_id((type, arg)).
PA_JOB_DEFAULT: int = _native.PA_JOB_DEFAULT
PA_LDSVC_LOADER: int = _native.PA_LDSVC_LOADER
PA_FD: int = _native.PA_FD
PA_LIFECYCLE: int = _native.PA_LIFECYCLE
PA_DIRECTORY_REQUEST: int = _native.PA_DIRECTORY_REQUEST
PA_USER0: int = _native.PA_USER0
PA_USER1: int = _native.PA_USER1
PA_USER2: int = _native.PA_USER2

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "BadHandle",
    "BadState",
    "BuiltProcess",
    "CalledProcessError",
    "CLONE_ALL",
    "CLONE_ENVIRON",
    "CLONE_JOB",
    "CLONE_NAMESPACE",
    "CLONE_STDIO",
    "CLONE_UTC_CLOCK",
    "CompletedProcess",
    "DEFAULT_LDSVC",
    "DEVNULL",
    "DevMinimal",
    "Error",
    "Internal",
    "InvalidArgs",
    "IoError",
    "Job",
    "JobInfo",
    "Launcher",
    "NoMemory",
    "NoResources",
    "NotFound",
    "NotSupported",
    "OutOfRange",
    "PA_DIRECTORY_REQUEST",
    "PA_FD",
    "PA_JOB_DEFAULT",
    "PA_LDSVC_LOADER",
    "PA_LIFECYCLE",
    "PA_USER0",
    "PA_USER1",
    "PA_USER2",
    "PeerClosed",
    "PIPE",
    "Proc",
    "Process",
    "ReadOnly",
    "Resolved",
    "Status",
    "STDOUT",
    "TimedOut",
    "TimeoutExpired",
    "Tmpfs",
    "WrongType",
    "create_suspended",
    "handle_id",
    "run",
    "run_async",
    "spawn",
    "startup",
]
