# SPDX-License-Identifier: Apache-2.0
"""capspawn.spawn(): every parameter, against what a real child receives."""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import stat
import subprocess

import pytest
from conftest import LIBDIR, PYTHON, REPORT, report, sandbox

import capspawn

# Through the launcher (python.via_launcher) these fail: the library's translation
# sends read-only entries as writable names and tmpfs/proc/dev entries as fd -1
# (src/launcher/spawn_via_launcher.cc ignores an entry's kind).


def env_of(**kwargs):
    """The child's environment, as /usr/bin/env prints it (NUL-separated)."""
    r = capspawn.run(["/usr/bin/env", "-0"], capture_output=True, check=True, **kwargs)
    return dict(e.split("=", 1) for e in r.stdout.decode().split("\0") if e)


# argv and the program.


def test_argv_arrives_byte_for_byte():
    args = ["", "two words", "new\nline", "ünïcödé", b"\xff\xfe raw bytes", pathlib.Path("/a/b")]
    r = capspawn.run(
        [
            PYTHON,
            "-S",
            "-c",
            "import sys,os; sys.stdout.buffer.write(b'\\0'.join(os.fsencode(a) for a in sys.argv[1:]))",
        ]
        + args,
        capture_output=True,
        check=True,
    )  # noqa: E501
    assert r.stdout.split(b"\0") == [os.fsencode(a) for a in args]


def test_program_is_found_in_path():
    assert capspawn.run(["true"]).returncode == 0
    assert capspawn.run(["false"]).returncode == 1


def test_program_is_found_in_the_given_envs_path(tmp_path):
    prog = tmp_path / "only-here"
    prog.write_text("#!/bin/sh\nexit 7\n")
    prog.chmod(0o755)
    assert capspawn.run(["only-here"], env={"PATH": str(tmp_path)}).returncode == 7
    with pytest.raises(capspawn.NotFound, match="only-here: no such program in PATH"):
        capspawn.run(["only-here"], env={"PATH": "/usr/bin"})


def test_argv0_is_kept_when_executable_is_given():
    r = capspawn.run(["my-name", "-c", "echo $0"], executable="/bin/sh", capture_output=True)
    assert r.stdout == b"my-name\n"


def test_executable_as_an_fd_and_a_file_object(tmp_path):
    with open("/bin/sh", "rb") as f:
        r = capspawn.run(["sh", "-c", "exit 5"], executable=f)
        assert r.returncode == 5
        assert not f.closed  # ours stays ours
        fd = os.open("/bin/sh", os.O_RDONLY | os.O_CLOEXEC)
        try:
            assert capspawn.run(["sh", "-c", "exit 6"], executable=fd).returncode == 6
            os.fstat(fd)  # still open
        finally:
            os.close(fd)


def test_executable_as_a_memfd():
    mfd = os.memfd_create("prog", os.MFD_CLOEXEC)
    try:
        with open("/bin/true", "rb") as f:
            os.write(mfd, f.read())
        assert capspawn.run(["true"], executable=mfd).returncode == 0
    finally:
        os.close(mfd)


def test_shebang_script(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text('#!/bin/sh\necho "script $0 $1"\n')
    script.chmod(0o755)
    r = capspawn.run([str(script), "one"], capture_output=True, check=True)
    assert r.stdout.decode() == f"script {script} one\n"


# env.


def test_env_none_inherits_with_clone_all(monkeypatch):
    monkeypatch.setenv("CAPSPAWN_TEST_VAR", "inherited")
    assert env_of()["CAPSPAWN_TEST_VAR"] == "inherited"


NO_ENVIRON = capspawn.CLONE_ALL & ~capspawn.CLONE_ENVIRON


def test_env_none_without_clone_environ_is_empty():
    assert env_of(flags=NO_ENVIRON) == {}


def test_env_dict_is_exactly_that(monkeypatch):
    monkeypatch.setenv("CAPSPAWN_TEST_VAR", "not for the child")
    assert env_of(env={"A": "1", "EMPTY": "", "U": "ünï"}) == {"A": "1", "EMPTY": "", "U": "ünï"}
    assert env_of(env={}) == {}


def test_env_inherit_whatever_the_flags(monkeypatch):
    monkeypatch.setenv("CAPSPAWN_TEST_VAR", "inherited")
    assert env_of(env="inherit", flags=NO_ENVIRON)["CAPSPAWN_TEST_VAR"] == "inherited"


def test_env_bytes_and_pathlike_values():
    assert env_of(env={b"B": b"\xc3\xa9", "P": pathlib.Path("/x")}) == {"B": "é", "P": "/x"}


# flags.


def test_flags_zero_gives_dev_null_stdio_and_nothing_else():
    d = report(flags=capspawn.CLONE_ALL & ~capspawn.CLONE_STDIO & ~capspawn.CLONE_ENVIRON)
    null = os.stat(os.devnull)
    assert d["fds"]["0"]["ino"] == null.st_ino and d["fds"]["0"]["kind"] == "chr"
    assert set(d["fds"]) == {"0", "1", "2"}  # 1 and 2: run()'s capture pipes


def test_clone_stdio_shares_our_objects(tmp_path):
    log = tmp_path / "log"
    with open(log, "wb") as f:
        saved = os.dup(1)
        try:
            os.dup2(f.fileno(), 1)
            p = capspawn.spawn(["sh", "-c", "echo to-our-stdout"])
            assert p.wait() == 0
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    assert log.read_text() == "to-our-stdout\n"


def test_flags_must_be_an_int():
    with pytest.raises(TypeError, match="flags must be an int"):
        capspawn.spawn(["true"], flags="all")
    with pytest.raises(capspawn.InvalidArgs):
        capspawn.spawn(["true"], flags=0x10000)


# stdin, stdout, stderr.


def test_pipes_both_ways():
    with capspawn.spawn(["tr", "a-z", "A-Z"], stdin=capspawn.PIPE, stdout=capspawn.PIPE) as p:
        out, err = p.communicate(b"hello")
    assert (out, err, p.returncode) == (b"HELLO", None, 0)


def test_text_mode_pipes():
    r = capspawn.run(["cat"], input="héllo\r\nworld", capture_output=True, text=True)
    assert r.stdout == "héllo\nworld"
    r = capspawn.run(["cat"], input="x", capture_output=True, encoding="latin-1")
    assert r.stdout == "x"


def test_text_errors_and_line_buffering():
    r = capspawn.run(["printf", "a\\377b"], capture_output=True, encoding="utf-8", errors="replace")
    assert r.stdout == "a\ufffdb"
    with pytest.raises(UnicodeDecodeError):
        capspawn.run(["printf", "\\377"], capture_output=True, text=True, encoding="utf-8")
    with capspawn.spawn(
        ["cat"], stdin=capspawn.PIPE, stdout=capspawn.PIPE, text=True, bufsize=1
    ) as p:
        p.stdin.write("line\n")  # line-buffered: reaches cat without a flush
        assert p.stdout.readline() == "line\n"
        p.stdin.close()


def test_devnull():
    d = report(stdin=capspawn.DEVNULL)
    assert d["fds"]["0"]["ino"] == os.stat(os.devnull).st_ino
    r = capspawn.run(
        ["sh", "-c", "echo x; echo y >&2"], stdout=capspawn.DEVNULL, stderr=capspawn.PIPE
    )
    assert r.stdout is None and r.stderr == b"y\n"


def test_stderr_to_stdout():
    r = capspawn.run(
        ["sh", "-c", "echo out; echo err >&2"], stdout=capspawn.PIPE, stderr=capspawn.STDOUT
    )
    assert r.stdout == b"out\nerr\n"


def test_stdio_from_files_and_fds(tmp_path):
    src = tmp_path / "in"
    src.write_bytes(b"from a file")
    dst = tmp_path / "out"
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        assert capspawn.run(["cat"], stdin=fin, stdout=fout.fileno()).returncode == 0
        assert not fin.closed and not fout.closed
    assert dst.read_bytes() == b"from a file"


def test_stdout_pipe_with_stdin_unset_and_no_clone_stdio():
    r = capspawn.run(
        ["cat"], flags=capspawn.CLONE_NAMESPACE, stdout=capspawn.PIPE
    )  # stdin: /dev/null
    assert r.stdout == b""


# fds and transfer_fds.


def test_fds_are_cloned_at_their_targets():
    r, w = os.pipe()
    try:
        d = report(["write:7:through seven"], fds={7: w, 9: r})
        assert d["fds"]["7"]["kind"] == "fifo" and d["fds"]["9"]["kind"] == "fifo"
        os.close(w)
        w = -1
        assert os.read(r, 100) == b"through seven"
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_fds_accept_file_objects_and_sockets(tmp_path):
    a, b = socket.socketpair()
    with a, b, open(tmp_path / "f", "w") as f:
        d = report(fds={5: b, 6: f})
        assert d["fds"]["5"]["kind"] == "sock" and d["fds"]["6"]["kind"] == "reg"
        assert b.fileno() >= 0 and not f.closed


def test_transfer_fds_closes_an_int_fd():
    r, w = os.pipe()
    p = capspawn.spawn(["sh", "-c", "echo moved >&4"], transfer_fds={4: w})
    with pytest.raises(OSError):
        os.fstat(w)  # gone from here...
    assert p.wait() == 0
    assert os.read(r, 100) == b"moved\n"  # ...and it was the child's
    os.close(r)


def test_transfer_fds_closes_a_file_object():
    r, w = os.pipe()
    f = open(w, "wb")
    p = capspawn.spawn(["sh", "-c", "echo moved >&4"], transfer_fds={4: f})
    assert f.closed
    assert p.wait() == 0
    assert os.read(r, 100) == b"moved\n"
    os.close(r)


def test_transfer_fds_are_consumed_when_the_spawn_fails():
    r, w = os.pipe()
    with pytest.raises(capspawn.NotFound):
        capspawn.spawn(["/nonexistent/program"], transfer_fds={4: w})
    with pytest.raises(OSError):
        os.fstat(w)
    r2, w2 = os.pipe()
    with pytest.raises(TypeError):  # a Python-side failure consumes them too
        capspawn.spawn(["true"], transfer_fds={4: w2}, env=42)
    with pytest.raises(OSError):
        os.fstat(w2)
    os.close(r)
    os.close(r2)


def test_fd_targets_out_of_range_and_repeated():
    with pytest.raises(capspawn.OutOfRange, match=r"action 0 \(fds\[1024\]\).*outside 0..1023"):
        capspawn.spawn(["true"], fds={1024: 0})
    with pytest.raises(capspawn.AlreadyExists, match=r"fds\[1\].*fd target 1 is already set"):
        capspawn.spawn(["true"], stdout=capspawn.DEVNULL, fds={1: 2})


# handles.


def test_typed_handles_land_at_3_with_their_names():
    a, b = socket.socketpair()
    r, w = os.pipe()
    with a, b:
        d = report(handles={"user0.1": b, (capspawn.PA_DIRECTORY_REQUEST, 0): w, "fd.9": r})
        os.close(r)
        os.close(w)
        assert d["env"]["LISTEN_FDS"] == "2"
        assert d["env"]["LISTEN_FDNAMES"] == "user0.1:directory_request.0"
        assert d["env"]["LISTEN_PID"] == str(d["pid"])
        assert d["fds"]["3"]["kind"] == "sock" and d["fds"]["4"]["kind"] == "fifo"
        assert d["fds"]["9"]["kind"] == "fifo"  # fd.9 lands at fd 9
        assert b.fileno() >= 0  # a copy was handed


def test_handle_ids():
    assert capspawn.handle_id("user0.1") == capspawn.PA_USER0 | (1 << 16)
    assert capspawn.handle_id((capspawn.PA_USER1, 2)) == capspawn.PA_USER1 | (2 << 16)
    assert capspawn.handle_id(0x10030) == 0x10030
    with pytest.raises(ValueError, match="'nonsense' is not a handle name"):
        capspawn.handle_id("nonsense")
    with pytest.raises(ValueError, match="must be 0..255"):
        capspawn.handle_id((300, 1))
    with pytest.raises(TypeError):
        capspawn.handle_id(1.5)


def test_handle_refusals_name_the_handle():
    with pytest.raises(
        capspawn.InvalidArgs, match=r"handles\['proc_self.0'\].*describes the process"
    ):
        capspawn.spawn(["true"], handles={"proc_self.0": 0})
    with pytest.raises(capspawn.InvalidArgs, match="reserved bits"):
        capspawn.spawn(["true"], handles={0x1F0: 0})


# namespace, clone_dirs, loader.


def test_namespace_entries_of_every_kind(tmp_path):
    (tmp_path / "rw").mkdir()
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "file").write_text("read me")
    fd = os.open(tmp_path / "rw", os.O_PATH | os.O_DIRECTORY)
    try:
        code = (
            "import os\n"
            "open('/rw/new', 'w').write('written')\n"
            "print(open('/ro/file').read())\n"
            "try:\n open('/ro/x', 'w')\nexcept OSError as e: print(e.strerror)\n"
            "print(os.listdir('/tmp'), sorted(os.listdir('/dev')), os.path.exists('/proc/1/stat'))\n"
            "print(sorted(os.listdir('/')))\n"
        )
        r = capspawn.run(
            [PYTHON, "-S", "-c", code],
            capture_output=True,
            text=True,
            **sandbox(
                {
                    "/rw": fd,
                    "/ro": capspawn.ReadOnly(tmp_path / "ro"),
                    "/tmp": capspawn.Tmpfs(),
                    "/dev": capspawn.DevMinimal(),
                    "/proc": capspawn.Proc(),
                }
            ),
        )
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "read me"
        assert lines[1] == "Read-only file system"
        assert lines[2] == "[] ['null', 'urandom', 'zero'] True"
        assert set(eval(lines[3])) >= {"dev", "proc", "ro", "rw", "tmp", "usr"}
        assert (tmp_path / "rw" / "new").read_text() == "written"
        os.fstat(fd)  # ours stays open
    finally:
        os.close(fd)


def test_clone_dirs():
    r = capspawn.run(
        [PYTHON, "-S", "-c", "import os; print(sorted(os.listdir('/')))"],
        capture_output=True,
        text=True,
        check=True,
        flags=capspawn.CLONE_ALL & ~capspawn.CLONE_NAMESPACE,
        clone_dirs=["/usr", "/etc"],
        loader=LIBDIR,
    )
    assert set(eval(r.stdout)) == {"usr", "etc"} | _loader_dirs()


def _loader_dirs():
    """Top-level directories a loader's binds add (the interpreter's path)."""
    return {"lib", "lib64"}


def test_a_dynamic_program_without_a_loader_names_its_interpreter():
    with pytest.raises(capspawn.InvalidArgs, match="ld-linux"):
        capspawn.spawn(["/bin/true"], flags=0)


def test_namespace_refusals():
    with pytest.raises(TypeError, match="namespace keys are paths"):
        capspawn.spawn(["true"], namespace={1: "/usr"})
    with pytest.raises(capspawn.NotFound, match=r"namespace\['/x'\]: open /nonexistent"):
        capspawn.spawn(["true"], namespace={"/x": "/nonexistent"})
    with pytest.raises(capspawn.InvalidArgs):
        capspawn.spawn(["true"], namespace={"relative": "/usr"})


# job and name.


def test_spawn_into_a_job(job):
    p = capspawn.spawn(["sleep", "30"], job=job)
    try:
        assert job.processes() == [p.pid]
        with open(f"/proc/{p.pid}/cgroup") as f:
            assert f"/{os.path.basename(job.path)}/procs\n" in f.read()
    finally:
        p.kill()
        assert p.wait() == -signal.SIGKILL


def test_name_sets_comm():
    assert report(name="a-long-process-name")["comm"] == "a-long-process-"


def test_default_name_is_the_file_name():
    assert report()["comm"] == os.path.basename(os.path.realpath(PYTHON))[:15]


# Fd hygiene is in test_hygiene.py; errors in test_errors.py.


def test_process_gets_pipes_as_attributes():
    p = capspawn.spawn(["cat"], stdin=capspawn.PIPE, stdout=capspawn.PIPE, stderr=capspawn.PIPE)
    with p:
        assert p.stdin.writable() and p.stdout.readable() and p.stderr.readable()
        p.stdin.write(b"x")
        p.stdin.close()
        assert p.stdout.read() == b"x"
    assert p.returncode == 0


def test_bufsize_zero_gives_raw_files():
    with capspawn.spawn(["cat"], stdin=capspawn.PIPE, stdout=capspawn.PIPE, bufsize=0) as p:
        assert type(p.stdout).__name__ == "FileIO"
        p.stdin.close()


def test_report_helper_is_a_file():
    assert stat.S_ISREG(os.stat(REPORT).st_mode)
    assert subprocess.PIPE == capspawn.PIPE
