# SPDX-License-Identifier: Apache-2.0
"""Job: a cgroup v2 job tree (Fuchsia's job), held by its directory fd."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Union

from . import _native
from ._errors import BadHandle, Status
from ._process import Process


@dataclass(frozen=True)
class JobInfo:
    """A job's state, as :meth:`Job.info` reads it."""

    path: str
    is_capspawn_job: bool  # created by capspawn (False: a plain cgroup, e.g. the default job)
    killed: bool
    populated: bool  # some process is in the tree
    frozen: bool
    deny_new_process: bool


class Job:
    """A job: a cgroup v2 directory, held as an fd (:meth:`fileno`).

    ``Job()`` creates a new child job of ``parent`` (default: the default job,
    our own cgroup) named ``name`` (generated when None). :meth:`default`,
    :meth:`open` and :meth:`open_child` open existing ones.

    As a context manager, a job this object created is destroyed on exit: every
    process in its tree is killed (double-forked, ``setsid`` daemons included)
    and its cgroups removed. A job that was opened is only closed.

    Spawn into it with ``job.spawn(...)``, ``job.run(...)`` or ``job=`` of
    :func:`capspawn.spawn`. Needs cgroup v2 and, for a non-root user, a cgroup
    subtree delegated to it (docs/jobs.md); otherwise the calls raise
    ``AccessDenied`` or ``NotSupported`` saying what is missing.
    """

    _job: "_native.Job"
    _owned: bool

    def __init__(self, name: Optional[str] = None, parent: Optional["Job"] = None) -> None:
        if parent is None:
            with Job.default() as default:
                native = default._job.create_child(name)
        else:
            native = parent._job.create_child(name)
        self._job = native
        self._owned = True

    @classmethod
    def _wrap(cls, native: "_native.Job", owned: bool) -> "Job":
        job = cls.__new__(cls)
        job._job = native
        job._owned = owned
        return job

    @classmethod
    def default(cls) -> "Job":
        """The default job: our own cgroup (a plain cgroup: never modified)."""
        return cls._wrap(_native.Job.default(), False)

    @classmethod
    def open(cls, path: Union[str, bytes, "os.PathLike[Any]"]) -> "Job":
        """An existing cgroup2 directory (a job created earlier, maybe elsewhere)."""
        return cls._wrap(_native.Job.open(path), False)

    @classmethod
    def from_fd(cls, fd: int) -> "Job":
        """A job for a cgroup2 directory fd (a copy is made; we keep ours)."""
        try:
            copy = os.dup(fd)
        except OSError as e:
            raise BadHandle(Status.BAD_HANDLE, f"job fd {fd}: {e.strerror}") from None
        return cls._wrap(_native.Job.from_fd(copy), False)

    def create_child(self, name: Optional[str] = None) -> "Job":
        """A new child job (inherits this job's policy). The returned Job owns it:
        as a context manager it destroys it."""
        return Job._wrap(self._job.create_child(name), True)

    def open_child(self, name: str) -> "Job":
        """The existing child job ``name``."""
        return Job._wrap(self._job.open_child(name), False)

    # What is in it.

    @property
    def path(self) -> str:
        """The cgroup directory."""
        return str(self._job.path())

    def info(self) -> JobInfo:
        """Its state: path, whether capspawn made it, killed, populated, frozen, policy."""
        return JobInfo(**self._job.info())

    def processes(self) -> List[int]:
        """The pids of every process in the job and its child jobs."""
        return list(self._job.processes())

    def children(self) -> List[str]:
        """The names of the direct child jobs, sorted."""
        return list(self._job.children())

    # Spawning into it.

    def spawn(self, argv: Sequence[Any], **kwargs: Any) -> Process:
        """:func:`capspawn.spawn` into this job."""
        from ._spawn import spawn

        return spawn(argv, job=self, **kwargs)

    def run(self, argv: Sequence[Any], **kwargs: Any) -> Any:
        """:func:`capspawn.run` into this job."""
        from ._run import run

        return run(argv, job=self, **kwargs)

    # Control.

    def kill(self, timeout: Optional[float] = None) -> None:
        """Kills every process of the tree (``cgroup.kill``) and waits until it
        is empty. Final: the job then takes no new process."""
        self._job.kill(timeout)

    def freeze(self, timeout: Optional[float] = None) -> None:
        """Freezes the whole tree and waits until it is frozen."""
        self._job.freeze(timeout)

    def thaw(self) -> None:
        """Withdraws this job's freeze (a job whose ancestor is frozen stays frozen)."""
        self._job.thaw()

    def deny_new_process(self) -> None:
        """Processes spawned into this job from now on (and their descendants)
        cannot create processes: fork/clone fail with EPERM (a seccomp filter).
        Final, inherited by child jobs; only before the job has processes or
        child jobs (``BadState``)."""
        self._job.set_deny_new_process(True)

    @property
    def denies_new_process(self) -> bool:
        """Whether processes in this job may not create processes."""
        return bool(self._job.deny_new_process())

    def set_limits(
        self,
        *,
        memory: Optional[int] = None,
        pids: Optional[int] = None,
        cpu: Optional[float] = None,
        cpu_weight: Optional[int] = None,
    ) -> None:
        """Resource limits of the whole tree: ``memory`` (bytes), ``pids``
        (tasks), ``cpu`` (CPUs, e.g. 0.5; at least 0.01), ``cpu_weight`` (the
        tree's share of CPU time against its siblings, 1..10000, 100 by
        default). ``-1`` removes a limit (a weight goes back to 100).
        ``NotSupported`` names the controller when it is not delegated here."""
        for limit, value, scale in (
            (_native.JOB_LIMIT_MEMORY_MAX, memory, 1),
            (_native.JOB_LIMIT_PIDS_MAX, pids, 1),
            (_native.JOB_LIMIT_CPU_MAX, cpu, 1000),
            (_native.JOB_LIMIT_CPU_WEIGHT, cpu_weight, 1),
        ):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"a limit is a number, not {type(value).__name__}")
            self._job.set_limit(limit, -1 if value == -1 else int(round(value * scale)))

    def destroy(self, timeout: Optional[float] = None) -> None:
        """Kills the tree, then removes the job and its child jobs. Only jobs
        capspawn created (``WrongType`` for a plain cgroup)."""
        self._job.destroy(timeout)

    # The handle.

    def fileno(self) -> int:
        """The cgroup directory fd (close-on-exec; this object's)."""
        return int(self._job.fileno())

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the ``with`` block left)."""
        return bool(self._job.closed)

    def close(self) -> None:
        """Closes the fd (the job itself stays)."""
        self._job.close()

    def __enter__(self) -> "Job":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._owned and not self._job.closed:
                self._job.destroy(None)
        finally:
            self._job.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:  # bound now: may run at shutdown
        job = getattr(self, "_job", None)
        if job is not None and not job.closed:
            if self._owned:
                # The cgroup stays (a job outlives its handles, as on Fuchsia
                # while it has processes); its creator forgot to say so.
                _warn(
                    "capspawn: a Job this process created was not closed or destroyed: "
                    "use `with capspawn.Job() as job:` or call close() or destroy()",
                    ResourceWarning,
                    source=self,
                )
            job.close()

    def __repr__(self) -> str:
        if self._job.closed:
            return "<capspawn.Job closed>"
        try:
            return f"<capspawn.Job {self.path}>"
        except OSError:
            return f"<capspawn.Job fd={self.fileno()}>"
