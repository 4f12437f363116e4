# SPDX-License-Identifier: Apache-2.0
"""Bad input: the exception, its status and a message naming what was wrong;
and nothing left behind (the autouse leak check: no fd, no process)."""

from __future__ import annotations

import errno
import os
import pickle
import socket

import pytest
from conftest import AS_ROOT

import capspawn
from capspawn import _native


def test_error_attributes():
    with pytest.raises(capspawn.NotFound) as e:
        capspawn.spawn(["/nonexistent/prog"])
    err = e.value
    assert isinstance(err, FileNotFoundError) and isinstance(err, OSError)
    assert err.status == capspawn.Status.NOT_FOUND == -25
    assert err.status.name == "NOT_FOUND" and err.status.c_name == "CAPSPAWN_ERR_NOT_FOUND"
    assert err.status_name == _native.status_string(-25)
    assert err.errno == errno.ENOENT
    assert err.message == "open /nonexistent/prog: No such file or directory"
    assert str(err) == "CAPSPAWN_ERR_NOT_FOUND: open /nonexistent/prog: No such file or directory"
    again = pickle.loads(pickle.dumps(err))
    assert (
        type(again) is capspawn.NotFound
        and again.status == err.status
        and again.message == err.message
    )


def test_every_status_has_its_class_and_c_name():
    for st in capspawn.Status:
        assert _native.status_string(int(st)) == st.c_name
    assert issubclass(capspawn.AccessDenied, PermissionError)
    assert issubclass(capspawn.InvalidArgs, ValueError)
    assert issubclass(capspawn.AlreadyExists, FileExistsError)
    assert issubclass(capspawn.TimedOut, TimeoutError)
    assert issubclass(capspawn.PeerClosed, ConnectionError)
    unknown = capspawn._errors._from_status(-999, "what")
    assert (
        type(unknown) is capspawn.Error and unknown.status == -999 and "(UNKNOWN)" in str(unknown)
    )


# argv and the program.


@pytest.mark.parametrize(
    "argv, exc, match",
    [
        ("ls", TypeError, r"argv must be a sequence.*did you mean \['ls'\]"),
        (42, TypeError, "argv must be a sequence"),
        (["true", 7], TypeError, r"argv\[1\] must be str, bytes or os.PathLike, not int"),
        (["true", "a\0b"], ValueError, r"argv\[1\] contains a NUL byte"),
        ([], ValueError, "argv is empty and no executable"),
    ],
)
def test_bad_argv(argv, exc, match):
    with pytest.raises(exc, match=match):
        capspawn.spawn(argv)


def test_missing_program_in_path():
    with pytest.raises(FileNotFoundError, match="no-such-program-xyz: no such program in PATH"):
        capspawn.spawn(["no-such-program-xyz"])


def test_program_refusals(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("neither ELF nor #!\n")
    plain.chmod(0o755)
    noexec = tmp_path / "noexec"
    noexec.write_text("#!/bin/sh\n")
    # fdio's answer for a file that is not a program: INTERNAL, so that it is
    # not read as "no such program".
    with pytest.raises(capspawn.Internal, match="not an ELF executable nor a #! script"):
        capspawn.spawn([str(plain)])
    if not AS_ROOT:  # root may read anything, but exec needs an x bit anyway
        with pytest.raises(PermissionError):
            capspawn.spawn([str(noexec)])
    with pytest.raises(capspawn.AccessDenied):
        capspawn.spawn([str(noexec)])
    with pytest.raises(capspawn.BadHandle):
        capspawn.spawn([str(tmp_path)])  # a directory
    # A loader without the dynamic linker: checked before the process exists,
    # the interpreter named (INTERNAL, as a program that cannot load).
    with pytest.raises(capspawn.Internal, match="dynamic linker .*ld-linux.*the loader has no such file"):
        capspawn.spawn(["/bin/true"], flags=0, loader=tmp_path)


def test_executable_refusals():
    r, w = os.pipe()
    with pytest.raises(capspawn.WrongType):
        capspawn.spawn(["x"], executable=r)
    os.fstat(r)  # a copy was handed: ours is still open
    os.close(r)
    os.close(w)
    closed = os.open("/bin/true", os.O_RDONLY)
    os.close(closed)
    with pytest.raises(capspawn.BadHandle, match=f"executable: fd {closed} is not an open fd"):
        capspawn.spawn(["x"], executable=closed)
    with pytest.raises(TypeError, match="executable must be an fd"):
        capspawn.spawn(["x"], executable=3.5)


# env, flags, name.


@pytest.mark.parametrize(
    "env, exc, match",
    [
        (["A=1"], TypeError, "env must be None, a mapping or 'inherit'"),
        ("all", ValueError, "env must be None, a mapping or 'inherit', not 'all'"),
        ({"A=B": "1"}, ValueError, "env key 'A=B' is not a variable name"),
        ({"": "1"}, ValueError, "env key '' is not a variable name"),
        ({"A": "x\0y"}, ValueError, r"env\['A'\] contains a NUL byte"),
        ({"A": 1}, TypeError, r"env\['A'\] must be str, bytes or os.PathLike, not int"),
    ],
)
def test_bad_env(env, exc, match):
    with pytest.raises(exc, match=match):
        capspawn.spawn(["true"], env=env)


def test_bad_flags_and_name():
    with pytest.raises(capspawn.InvalidArgs, match="0x10000|65536|flags"):
        capspawn.spawn(["true"], flags=capspawn.CLONE_ALL | 0x10000)
    with pytest.raises(ValueError, match="name contains a NUL byte"):
        capspawn.spawn(["true"], name="a\0b")
    with pytest.raises(TypeError, match="name must be str"):
        capspawn.spawn(["true"], name=5)


# fds, transfer_fds, handles, stdio.


def closed_fd():
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    return fd


def test_closed_fds_are_named():
    fd = closed_fd()
    # fdio_fd_clone and fdio_fd_transfer: a fd not in the table is INVALID_ARGS.
    with pytest.raises(
        capspawn.InvalidArgs,
        match=rf"action 0 \(fds\[5\]\): clone fd: local_fd {fd} is not an open fd",
    ):
        capspawn.spawn(["true"], fds={5: fd})
    with pytest.raises(
        capspawn.BadHandle, match=rf"handles\['user0.1'\]: fd {fd} is not an open fd"
    ):
        capspawn.spawn(["true"], handles={"user0.1": fd})
    with pytest.raises(capspawn.InvalidArgs, match=rf"transfer_fds\[4\]\).*{fd} is not an open fd"):
        capspawn.spawn(["true"], transfer_fds={4: fd})
    f = open(os.devnull)
    f.close()
    with pytest.raises(capspawn.BadHandle, match=r"stdin: I/O operation on closed file"):
        capspawn.spawn(["true"], stdin=f)
    s = socket.socket(socket.AF_UNIX)
    s.close()
    with pytest.raises(capspawn.BadHandle, match=r"handles\['user0.0'\]: fileno\(\) gave -1"):
        capspawn.spawn(["true"], handles={"user0.0": s})
    with pytest.raises(capspawn.BadHandle, match=r"fds\[3\]: fd -2 is not an open fd"):
        capspawn.spawn(["true"], fds={3: -2})


def test_wrong_types_are_named():
    with pytest.raises(
        TypeError, match=r"fds\[3\] must be an fd \(int\) or have fileno\(\), not str"
    ):
        capspawn.spawn(["true"], fds={3: "/dev/null"})
    with pytest.raises(TypeError, match=r"fds\['3'\]: the target must be an int"):
        capspawn.spawn(["true"], fds={"3": 0})
    with pytest.raises(TypeError, match="fds must be a mapping"):
        capspawn.spawn(["true"], fds=[(3, 0)])
    with pytest.raises(TypeError, match="stdout must be an fd"):
        capspawn.spawn(["true"], stdout="out.txt")
    with pytest.raises(ValueError, match="only stderr can be sent to stdout"):
        capspawn.spawn(["true"], stdin=capspawn.STDOUT)
    with pytest.raises(TypeError, match="a handle id must be"):
        capspawn.spawn(["true"], handles={1.5: 0})
    with pytest.raises(TypeError, match="job must be a capspawn.Job or a job fd"):
        capspawn.spawn(["true"], job="default")
    with pytest.raises(TypeError, match="clone_dirs must be a list"):
        capspawn.spawn(["true"], clone_dirs="/usr")


def test_bad_pipe_arguments_are_refused_before_the_process_exists():
    with pytest.raises(LookupError):
        capspawn.spawn(["true"], stdout=capspawn.PIPE, encoding="no-such-codec")
    with pytest.raises(LookupError):
        capspawn.spawn(["true"], stdout=capspawn.PIPE, errors="no-such-handler")
    with pytest.raises(TypeError, match="bufsize must be an int"):
        capspawn.spawn(["true"], stdout=capspawn.PIPE, bufsize="big")


def test_pipes_of_a_failed_spawn_are_closed():
    # stdin/stdout/stderr pipes and /dev/null were made before the failure.
    for _ in range(50):
        with pytest.raises(capspawn.NotFound):
            capspawn.spawn(
                ["/nonexistent"], stdin=capspawn.PIPE, stdout=capspawn.PIPE, stderr=capspawn.DEVNULL
            )


def test_namespace_and_loader_refusals(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(capspawn.NotFound, match=r"namespace\['/d'\]: open /nope"):
        capspawn.spawn(["true"], namespace={"/d": "/nope"})
    with pytest.raises(capspawn.BadHandle, match=r"namespace\['/d'\].*Not a directory"):
        capspawn.spawn(["true"], namespace={"/d": tmp_path / "file"})
    with pytest.raises(capspawn.InvalidArgs, match=r"namespace\['/a/'\]"):
        capspawn.spawn(["true"], flags=0, namespace={"/a/": tmp_path}, loader="/usr/lib")
    with pytest.raises(capspawn.NotFound, match="loader: open /nope"):
        capspawn.spawn(["true"], loader="/nope")
    with pytest.raises(TypeError, match="ReadOnly"):
        capspawn.ReadOnly(capspawn.Tmpfs())


def test_killed_job_refuses_and_leaves_no_cgroup():
    try:
        job = capspawn.Job()
    except (capspawn.AccessDenied, capspawn.NotSupported) as e:
        pytest.skip(f"this user may not create jobs here: {e}")
    path = job.path
    parent = os.path.dirname(path)
    with job:
        job.kill()
        with pytest.raises(capspawn.BadState, match="job"):
            capspawn.spawn(["true"], job=job)
        with pytest.raises(capspawn.BadState):
            job.create_child()
    assert not os.path.exists(path)
    with pytest.raises(capspawn.InvalidArgs):
        capspawn.Job(name="no/slashes")
    # No job of ours is left in the parent cgroup.
    assert not [d for d in os.listdir(parent) if d.startswith(f"job-{os.getpid()}-")]
